"""What every page's scene shares: the pipeline from a view to what the page draws (arrays →
plan → budget → forward → trace), stepping, the grids' cells, and building a scene from a view
(or saying why there is none).

One rule for the step: a scene is at one step, ``scene.step``, and every method that depends on
it reads that; the scene at another step is ``scene.at(k)``, a clone that shares everything
already computed. What each page's templates read from its scene is written down in
:mod:`.contract`.
"""

from __future__ import annotations

import copy
import functools
import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from ..engine import ConvolutionError, forward, plan
from ..engine.arrays import pad
from ..engine.cache import BoundedCache
from ..engine.cost import Cost, forward_cost
from ..engine.geometry import size_formulas
from ..engine.trace import ForwardTrace
from ..i18n import current, gettext
from .cells import Cell, badge, bucket, fit
from .formatting import format_full


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
    matrix_entries: int = 0  # the matrix page's W (page_max_matrix_entries)

    @classmethod
    def of(cls, settings) -> Budget:
        return cls(cells=settings.page_max_cells, macs=settings.max_macs,
                   work_bytes=settings.max_work_bytes, loops=settings.max_loops,
                   matrix_entries=settings.page_max_matrix_entries)

    def check(self, cells: int, cost: Cost) -> None:
        """Refuse, in words, a scene over any limit."""
        if cells > self.cells:
            raise TooBig(gettext(
                "This setting would draw %(cells)s values, and a page draws at most "
                "%(most)s (page_max_cells): less padding, dilation or a smaller input will "
                "fit.") % {"cells": f"{cells:,}", "most": f"{self.cells:,}"}, "page_max_cells")
        if cost.macs > self.macs:
            raise TooBig(gettext(
                "This setting needs %(macs)s multiply-adds, and a page computes at most "
                "%(most)s (max_macs).") % {"macs": f"{cost.macs:,}", "most": f"{self.macs:,}"},
                "max_macs")
        if cost.peak_bytes > self.work_bytes:
            raise TooBig(gettext(
                "This setting would need %(bytes)s bytes of working memory, and a page may "
                "use %(most)s (max_work_bytes).")
                % {"bytes": f"{cost.peak_bytes:,}", "most": f"{self.work_bytes:,}"},
                "max_work_bytes")
        if cost.loops > self.loops:
            raise TooBig(gettext(
                "This setting needs %(loops)s steps of Python, and a page may take %(most)s "
                "(max_loops).") % {"loops": f"{cost.loops:,}", "most": f"{self.loops:,}"},
                "max_loops")


def padded_view(x: np.ndarray, geom) -> np.ndarray:
    """``x`` (C, *spatial) padded as the engine pads it: the values the kernel sees,
    padding cells included (the engine's own :func:`~app.engine.arrays.pad`)."""
    return pad(np.asarray(x, dtype=np.float64)[None], geom)[0]


def formulas_of(view, in_spatial: tuple[int, ...], kernel: tuple[int, ...]) -> list[str]:
    """The output-size formula of every axis, with the view's stride, padding and dilation."""
    return size_formulas(in_spatial, kernel, stride=view.stride, padding=view.padding,
                         dilation=view.dilation)


class shared:  # lower case: a decorator, as functools.cached_property is
    """A value of the built scene, computed when first asked for and then shared by every
    clone :meth:`Stepped.at` makes. (A ``cached_property`` would be computed again on each
    clone, that is on every step the player asks for.) Only for what does not depend on the
    step."""

    def __init__(self, function) -> None:
        self.function = function
        self.__doc__ = function.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, scene, owner=None):
        if scene is None:
            return self
        values = scene._shared
        if self.name not in values:
            values[self.name] = self.function(scene)
        value = scene.__dict__[self.name] = values[self.name]  # this clone's next look is quick
        return value


def stepwise(method):
    """A step method: what the scene shows at ``self.step``, the one step it reads.

    Given a step, as the templates call these (``scene.sentence(scene.step)``), it answers for
    ``self.at(step)``: the same rule, said at the call.
    """
    @functools.wraps(method)
    def at_step(self, step: int | None = None):
        if step is None or step == self.step:
            return method(self)
        return method(self.at(step))
    return at_step


#: trace steps a scene keeps once made (the latest): a player asks for each step's record two
#: or three times in a row, and a 32x32 scene with all 1,024 kept held 8 MB
RECORDS_KEPT = 32


class Stepped:
    """A scene the player steps through: step k (0..steps) shows what trace step k - 1
    made. Subclasses set ``trace``, ``steps`` and ``step`` (and ``trace_offset`` when the
    page shows one part of a longer trace)."""

    trace_offset = 0

    def __init__(self) -> None:
        self._records: OrderedDict = OrderedDict()  # shared by every clone, as is
        self._shared: dict = {}  # what :class:`shared` keeps

    def at(self, step: int):
        """This scene at ``step``, sharing everything already computed. Cheap (a shallow
        copy): a player's step update is one, on the event loop."""
        clone = copy.copy(self)
        clone.step = min(step, self.steps)
        return clone

    @stepwise
    def record(self):
        """The trace step shown at this step (>= 1); the latest ``RECORDS_KEPT`` are kept,
        for every clone."""
        records, step = self._records, self.step
        if step in records:
            records.move_to_end(step)
        else:
            records[step] = self.trace.step(self.trace_offset + step - 1)
            while len(records) > RECORDS_KEPT:
                records.popitem(last=False)
        return records[step]


class Scene(Stepped):
    """One view of a page, from the engine: its arrays, the engine's plan of them (geometry),
    the page budget checked against the engine's cost model of everything it will run, then
    the forward pass and its trace.

    A page's scene says what is its own: :meth:`arrays` (from its view), and where its page
    differs, :meth:`engine_params`, :meth:`cells`, :meth:`cost`, :meth:`run` and
    :meth:`count_steps`. Raises :class:`~app.engine.ConvolutionError` when the geometry is
    impossible and :class:`TooBig` over the budget, before anything is computed.
    """

    def __init__(self, view, budget: Budget) -> None:
        super().__init__()
        self.view = view
        self.x, self.w, self.bias = self.arrays()
        self.params = self.engine_params()
        x, w = self.engine_arrays()
        self.geom = plan(x.shape, w.shape, **self.params,
                         bias_shape=None if self.bias is None else self.bias.shape)
        budget.check(cells=self.cells(), cost=self.cost())
        self.run()
        #: steps are values computed so far: 0 (none yet) to ``steps`` (all of them); at
        #: step k the trace has just made its value k - 1 (C order)
        self.steps = self.count_steps()
        self.step = min(view.step, self.steps)

    # --- the pipeline: what a page may change -------------------------------------------
    @property
    def single(self) -> bool:
        """Whether the page draws one channel and one kernel (its view's values have no
        channel axes): ``x`` (*spatial) and ``w`` (*kernel) go to the engine as
        (1, *spatial) and (1, 1, *kernel), and ``output`` is its one channel."""
        return self.view.channel_axes == 0

    @classmethod
    def formulas_for(cls, view) -> list[str]:
        """The output-size formulas of ``view``, the numbers filled in: what its page says
        when the geometry is impossible (a page whose sizes follow another rule, the
        transposed convolution's or a pool's, says its own)."""
        return formulas_of(view, *view.sizes())

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The input, the kernel and the bias as the page shows them (float64): the view's
        values, and its bias where it has one (a bias of 0 is none)."""
        bias = getattr(self.view, "bias", 0.0)
        return (np.asarray(self.view.input_values, dtype=np.float64),
                np.asarray(self.view.kernel_values, dtype=np.float64),
                np.array([bias]) if bias else None)

    def engine_params(self) -> dict:
        """Stride, padding, dilation, padding mode and mode, as :func:`~app.engine.forward`
        takes them."""
        return self.view.engine_params()

    def engine_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The input and the kernel as the engine takes them (see :attr:`single`)."""
        return (self.x[None], self.w[None, None]) if self.single else (self.x, self.w)

    def cells(self) -> int:
        """The values the page draws: each input channel padded, and each output channel."""
        g = self.geom
        return g.c_in * math.prod(g.padded) + g.c_out * math.prod(g.out_spatial)

    def cost(self) -> Cost:
        """What the scene will compute, in the engine's cost model: one forward pass."""
        return forward_cost(self.geom)

    def run(self) -> None:
        """The forward pass (``output``) and its trace."""
        x, w = self.engine_arrays()
        output = forward(x, w, self.bias, **self.params)
        self.output = output[0] if self.single else output
        self.trace = ForwardTrace(x, w, self.bias, **self.params)

    def count_steps(self) -> int:
        return len(self.trace)

    # --- what every page shows -----------------------------------------------------------
    @shared
    def formulas(self) -> list[str]:
        """The output-size formula of every axis, the numbers filled in."""
        return formulas_of(self.view, self.geom.in_spatial, self.geom.kernel)

    @shared
    def padded(self) -> np.ndarray:
        """The input as the kernel sees it, padding included (the engine's padding): one
        channel's (*padded), or (C_in, *padded)."""
        if self.single:
            return padded_view(self.x[None], self.geom)[0]
        return padded_view(self.x, self.geom)

    @shared
    def padding_mask(self) -> np.ndarray:
        """Which cells of :attr:`padded` are padding, outside the input (its shape)."""
        g = self.geom
        mask = np.ones(g.padded, dtype=bool)
        mask[tuple(slice(before, before + size)
                   for (before, _), size in zip(g.padding, g.in_spatial, strict=True))] = False
        return np.broadcast_to(mask, self.padded.shape)

    def is_padding(self, index: tuple[int, ...]) -> bool:
        """Whether the padded input's cell ``index`` is padding, outside the input."""
        return bool(self.padding_mask[index])

    @shared
    def flipped_kernel(self) -> np.ndarray:
        """The kernel flipped along every spatial axis: as it slides in convolution mode."""
        return np.flip(self.w, tuple(range(self.w.ndim - self.geom.ndim, self.w.ndim)))

    @shared
    def input_scale(self) -> float:
        """The input's colour scale: its largest magnitude."""
        return float(np.abs(self.x).max())

    @shared
    def kernel_scale(self) -> float:
        """The kernel's colour scale: its largest magnitude."""
        return float(np.abs(self.w).max())


def _nested(shape: tuple[int, ...], make, index: tuple[int, ...] = ()) -> list:
    """``make(index)`` for every index of ``shape``, as nested lists (the last axis inner)."""
    if len(shape) == 1:
        return [make((*index, i)) for i in range(shape[0])]
    return [_nested(shape[1:], make, (*index, i)) for i in range(shape[0])]


def _flat(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    """``index`` counted in C order over ``shape``."""
    flat = 0
    for i, size in zip(index, shape, strict=True):
        flat = flat * size + i
    return flat


class GridScene(Scene):
    """A scene drawn as grids of cells (input, kernel, output), stepped by swapping only the
    cells that change. ``output_grid`` is the output the page draws (one sample of a batch)."""

    @property
    def output_grid(self) -> np.ndarray:
        return self.output

    @shared
    def output_scale(self) -> float:
        """The output's colour scale: its largest magnitude."""
        return float(np.abs(self.output_grid).max())

    # --- the current step ---------------------------------------------------------------
    @stepwise
    def current(self) -> tuple[int, ...] | None:
        """The index (in ``output_grid``) of the value made at this step; None at step 0."""
        if self.step == 0:
            return None
        index = self.record().index
        return tuple(int(i) for i in index[len(index) - self.output_grid.ndim:])

    @stepwise
    def window(self) -> dict[tuple[int, ...], tuple[int, float]]:
        """The kernel's cells at this step: padded-grid index (the channel first, on a page
        of channels) -> (tap, the weight on it)."""
        if self.step == 0:
            return {}
        record = self.record()
        cells = record.position + np.asarray([b for b, _ in self.geom.padding])
        if not self.single:
            cells = np.column_stack([record.channel, cells])
        return {tuple(index): (tap, weight) for tap, (index, weight) in
                enumerate(zip(cells.tolist(), record.weights.tolist(), strict=True))}

    # --- cells ----------------------------------------------------------------------------
    def input_cell(self, index: tuple[int, ...], window: dict) -> Cell:
        """The padded input's cell ``index``, marked where the kernel's ``window`` is."""
        value = float(self.padded[index])
        tap, weight = window.get(index, (None, None))
        return Cell(id="in-" + "-".join(map(str, index)), text=fit(value, self._input_side),
                    exact=format_full(value), row=index[-2], col=index[-1],
                    ghost=self.is_padding(index), bucket=bucket(value, self.input_scale),
                    tap=tap, badge=None if weight is None else badge(weight))

    @shared
    def _input_side(self) -> int:
        return max(self.padded.shape[-2:])

    @stepwise
    def input_cells(self) -> list:
        """Every padded input cell at this step, as nested lists (rows of cells innermost)."""
        window = self.window()
        return _nested(self.padded.shape, functools.partial(self.input_cell, window=window))

    def kernel_cells(self, array: np.ndarray, prefix: str = "k", taps: bool = False) -> list:
        """A kernel's cells, nested as :meth:`input_cells` (``array`` is the kernel, or its
        flip); ``taps`` colours each with its tap, as the window's cells are."""
        side = max(array.shape[-2:])

        def cell(index: tuple[int, ...]) -> Cell:
            value = float(array[index])
            return Cell(id=f"{prefix}-{'-'.join(map(str, index))}", text=fit(value, side),
                        exact=format_full(value), row=index[-2], col=index[-1],
                        bucket=bucket(value, self.kernel_scale),
                        tap=_flat(index, array.shape) if taps else None)
        return _nested(array.shape, cell)

    def output_cell(self, index: tuple[int, ...]) -> Cell:
        """Output value ``index`` as its cell at this step: blank until it is made."""
        grid = self.output_grid
        made = _flat(index, grid.shape)  # the step that makes it, less one (C order)
        value = float(grid[index])
        shown = made < self.step
        return Cell(id="out-" + "-".join(map(str, index)),
                    text=fit(value, self._output_side) if shown else "",
                    exact=format_full(value) if shown else None, row=index[-2], col=index[-1],
                    bucket=bucket(value, self.output_scale) if shown else 0, empty=not shown,
                    current=made == self.step - 1)

    @shared
    def _output_side(self) -> int:
        return max(self.output_grid.shape[-2:])

    @stepwise
    def output_cells(self) -> list:
        """Every output cell at this step, nested as :meth:`input_cells`."""
        return _nested(self.output_grid.shape, self.output_cell)

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """Cells that look different at this step than at step ``previous``: both windows'
        input cells, and the output cells made between the two steps (C order)."""
        window = self.window()
        indices = set(self.at(previous).window()) | set(window)
        inputs = [self.input_cell(index, window) for index in sorted(indices)]
        lo, hi = sorted((previous, self.step))
        shape = self.output_grid.shape
        outputs = [self.output_cell(tuple(map(int, np.unravel_index(i - 1, shape))))
                   for i in range(max(lo, 1), hi + 1)]
        return inputs, outputs


#: scenes kept for the next request of the same view (a player stepping through one): each is
#: bounded by the page limits, at most ~1 MB with its kept records (tests/web/test_caches.py)
SCENES_KEPT = 32


_built = BoundedCache(lambda key: key[0](key[1], key[2]), lambda scene: 1,
                      max_entries=SCENES_KEPT, max_bytes=SCENES_KEPT, max_item_bytes=1)
"""Scenes by (scene class, view at step 0, budget, language): entries counted, not sized
(see above)."""


def _scene_key(build: type[Scene], view, budget: Budget) -> tuple:
    """A scene does not depend on the step, the speed, projector mode or the tour stop. It
    does depend on the request's language: its words (a legend, a note) are made in it and
    may be kept with it (:class:`shared`), so each language keeps its own scenes."""
    return (build, replace(view, step=0, speed=type(view).speed, projector=False, tour=0),
            budget, current())


def is_built(build: type[Scene], view, budget: Budget) -> bool:
    """Whether the scene of ``view`` is kept, so that showing it costs only its step."""
    return _scene_key(build, view, budget) in _built


class Explained(NamedTuple):
    """A scene, or why there is none: the reason, the size formulas filled in (when the
    parameters allow writing them) and the limit crossed, if that was the reason."""

    scene: object | None
    error: str | None = None
    formulas: tuple[str, ...] = ()
    limit: str | None = None


def explain(build: type[Scene], view, budget: Budget) -> Explained:
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
            formulas = build.formulas_for(view)
        except ConvolutionError:
            formulas = []
        return Explained(None, exc.message, tuple(formulas))
