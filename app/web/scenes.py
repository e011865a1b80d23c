"""What every page's scene shares: stepping, and building a scene from a view (or saying why
there is none). Their cells are in :mod:`.cells`."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple, TypeVar

import numpy as np

from ..engine import ConvolutionError
from ..engine.arrays import pad
from ..engine.cache import BoundedCache
from ..engine.cost import Cost
from ..engine.geometry import size_formulas
from .cells import Cell

Scene = TypeVar("Scene")


class TooBig(ValueError):
    """The setting would draw more than a page can show, or compute more than a server
    should for one page; ``limit`` names the :class:`~app.config.Settings` limit."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclass(frozen=True)
class Budget:
    """What one page may draw and compute: ``page_max_cells``, and the compute limits the
    API has (``max_macs``, ``max_work_bytes``, ``max_loops`` of :class:`~app.config.
    Settings`) applied to the engine's own cost model of everything the scene will run
    (:mod:`app.engine.cost`). Scenes check it before they build anything."""

    cells: int
    macs: int
    work_bytes: int
    loops: int

    @classmethod
    def of(cls, settings) -> Budget:
        return cls(cells=settings.page_max_cells, macs=settings.max_macs,
                   work_bytes=settings.max_work_bytes, loops=settings.max_loops)

    def check(self, cells: int, cost: Cost) -> None:
        """Refuse, in words, a scene over any limit."""
        if cells > self.cells:
            raise TooBig(f"This setting would draw {cells:,} values, and a page draws at most "
                         f"{self.cells:,} (page_max_cells): less padding, dilation or a "
                         "smaller input will fit.", "page_max_cells")
        if cost.macs > self.macs:
            raise TooBig(f"This setting needs {cost.macs:,} multiply-adds, and a page computes "
                         f"at most {self.macs:,} (max_macs).", "max_macs")
        if cost.peak_bytes > self.work_bytes:
            raise TooBig(f"This setting would need {cost.peak_bytes:,} bytes of working "
                         f"memory, and a page may use {self.work_bytes:,} (max_work_bytes).",
                         "max_work_bytes")
        if cost.loops > self.loops:
            raise TooBig(f"This setting needs {cost.loops:,} steps of Python, and a page may "
                         f"take {self.loops:,} (max_loops).", "max_loops")


def padded_view(x: np.ndarray, geom) -> np.ndarray:
    """``x`` (C, *spatial) padded as the engine pads it: the values the kernel sees,
    padding cells included (the engine's own :func:`~app.engine.arrays.pad`)."""
    return pad(np.asarray(x, dtype=np.float64)[None], geom)[0]


#: trace steps a scene keeps once made (the latest): a player asks for each step's record two
#: or three times in a row, and a 32x32 scene with all 1,024 kept held 8 MB
RECORDS_KEPT = 32


class Stepped:
    """A scene the player steps through: step k (0..steps) shows what trace step k - 1
    made. Subclasses set ``trace``, ``steps`` and ``step`` (and ``trace_offset`` when the
    page shows one part of a longer trace)."""

    trace_offset = 0

    def at(self, step: int):
        """This scene at ``step``, sharing everything already computed."""
        self.__dict__.setdefault("_records", OrderedDict())  # shared by every clone
        clone = copy.copy(self)
        clone.step = min(step, self.steps)
        return clone

    def record(self, step: int):
        """The trace step shown at ``step`` (>= 1); the latest ``RECORDS_KEPT`` are kept."""
        records = self.__dict__.setdefault("_records", OrderedDict())
        if step in records:
            records.move_to_end(step)
        else:
            records[step] = self.trace.step(self.trace_offset + step - 1)
            while len(records) > RECORDS_KEPT:
                records.popitem(last=False)
        return records[step]


#: scenes kept for the next request of the same view (a player stepping through one): each is
#: bounded by the page limits, at most ~1 MB with its kept records (tests/web/test_caches.py)
SCENES_KEPT = 32


_built = BoundedCache(lambda key: key[0](key[1], key[2]), lambda scene: 1,
                      max_entries=SCENES_KEPT, max_bytes=SCENES_KEPT, max_item_bytes=1)
"""Scenes by (scene class, view at step 0, budget): entries counted, not sized (see above)."""


def _scene_key(build: Callable[[object, Budget], Scene], view, budget: Budget) -> tuple:
    """A scene does not depend on the step, the speed, projector mode or the tour stop."""
    return build, replace(view, step=0, speed=type(view).speed, projector=False, tour=0), budget


def is_built(build: Callable[[object, Budget], Scene], view, budget: Budget) -> bool:
    """Whether the scene of ``view`` is kept, so that showing it costs only its step."""
    return _scene_key(build, view, budget) in _built


class Explained(NamedTuple):
    """A scene, or why there is none: the reason, the size formulas filled in (when the
    parameters allow writing them) and the limit crossed, if that was the reason."""

    scene: object | None
    error: str | None = None
    formulas: tuple[str, ...] = ()
    limit: str | None = None


def explain(build: Callable[[object, Budget], Scene], view, budget: Budget) -> Explained:
    """The scene at the view's step, or the reason it cannot exist.

    A scene does not depend on the step, the speed, projector mode or the tour, so the last
    few are kept: a player stepping through one scene pays for its own step only.
    """
    try:
        scene = _built(_scene_key(build, view, budget))
        return Explained(scene.at(view.step))
    except TooBig as exc:
        return Explained(None, str(exc), limit=exc.limit)
    except ValueError as exc:  # ConvolutionError, or a δ or target of the wrong size
        if not isinstance(exc, ConvolutionError):
            return Explained(None, str(exc))
        try:
            formulas = size_formulas(*view.sizes(), stride=view.stride, padding=view.padding,
                                     dilation=view.dilation)
        except ConvolutionError:
            formulas = []
        return Explained(None, exc.message, tuple(formulas))


class GridScene(Stepped):
    """A scene drawn as grids of cells, stepped by swapping only the cells that change."""

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """Cells that look different at ``self.step`` than at ``previous``: both windows'
        input cells, and the output cells made between the two steps (C order).

        Scenes provide ``window(step)`` (input coordinates -> tap and badge),
        ``input_cell(*coordinates, window)``, ``output_cell(*index, step)`` and
        ``output_grid``, the output values the page draws.
        """
        window = self.window(self.step)
        coords = set(self.window(previous)) | set(window)
        inputs = [self.input_cell(*coord, window) for coord in sorted(coords)]
        lo, hi = sorted((previous, self.step))
        shape = self.output_grid.shape
        outputs = [self.output_cell(*map(int, np.unravel_index(i - 1, shape)), self.step)
                   for i in range(max(lo, 1), hi + 1)]
        return inputs, outputs
