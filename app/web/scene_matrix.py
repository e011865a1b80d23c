"""The matrix page (``/matrix``): the convolution of a small input as a matrix, from the
engine's :func:`~app.engine.conv_matrix` and :func:`~app.engine.im2col`.

Three views of the same numbers (``matrix=``): ``im2col``, each window unrolled into a row of
the patches matrix P, the output P times the unrolled kernel (and ∂L/∂W as δ times P);
``W``, the weight matrix with ``vec(y) = W · vec(x)``, each row the kernel slid into place;
``Wt``, its transpose, with ``∂L/∂x = Wᵀ · vec(δ)``, the transposed convolution and
/backprop's ∂L/∂X. The player steps through the output cells, the window on the grid and the
matrix's row (im2col, W) or column (Wᵀ) in step. The view, its parsing and its scene live
here, the page's own module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from ..config import Settings
from ..engine import backward
from ..engine.cost import Cost, backward_cost, forward_cost
from ..engine.matrix import conv_matrix, im2col, matrix_entries, matrix_terms
from ..i18n import N_, gettext
from ..presets import IMAGES_2D, KERNELS_2D
from .cells import Cell, bucket, fit
from .formatting import format_exact, format_full, format_matrix
from .parsing import _choice, _common, _preset, parse_matrix, parse_vector
from .scene2d import Scene2D
from .scenes import TooBig, shared, stepwise
from .views import GridValues, View

#: the page's three views of the matrix, as the toggle names them
MATRICES = {"im2col": N_("im2col: patches × kernel"), "W": "W · vec(x)", "Wt": "Wᵀ · vec(δ)"}


def small_inputs(side: int) -> dict:
    """The 2-D page's input presets this page takes: at most ``side`` a side."""
    return {k: v for k, v in IMAGES_2D.items() if max(np.shape(v[1])) <= side}


def small_kernels(side: int) -> dict:
    return {k: v for k, v in KERNELS_2D.items() if max(np.shape(v[1])) <= side}


@dataclass(frozen=True)
class ViewMatrix(GridValues, View):
    """Everything the matrix page shows, as the URL says it."""

    input: str = "lesson"
    x: tuple[tuple[float, ...], ...] | None = None
    kernel: str = "lesson"
    w: tuple[tuple[float, ...], ...] | None = None
    delta: tuple[float, ...] | None = None  # δ = ∂L/∂y typed in; none: 1 everywhere
    matrix: str = "W"
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | str = 0
    padding_mode: str = "zeros"
    dilation: int | tuple[int, int] = 1
    mode: str = "cross-correlation"
    step: int = 0
    speed: float = 2
    projector: bool = False
    tour: int = 0


def parse_view_matrix(query: Mapping[str, str], limits: Settings) -> ViewMatrix:
    """Read the matrix page's state; :class:`~app.web.parsing.StateError` names a bad one."""
    side, k_side = limits.page_max_matrix_side, limits.page_max_matrix_kernel
    changes = {**_preset(query, "input", small_inputs(side)),
               **_preset(query, "kernel", small_kernels(k_side))}
    base = ViewMatrix(**changes)
    if query.get("x", "").strip():
        x = parse_matrix(query["x"], "x", side, "page_max_matrix_side")
        if x != base.input_values:
            changes["x"] = tuple(map(tuple, x))
    if query.get("w", "").strip():
        w = parse_matrix(query["w"], "w", k_side, "page_max_matrix_kernel")
        if w != base.kernel_values:
            changes["w"] = tuple(map(tuple, w))
    if query.get("delta", "").strip():
        changes["delta"] = tuple(parse_vector(query["delta"], "delta",
                                              limits.page_max_signal, "page_max_signal"))
    changes |= _choice(query, "matrix", MATRICES,
                       gettext("matrix must be 'im2col', 'W' or 'Wt' (the view of the matrix)"))
    return ViewMatrix(**changes, **_common(query, 2, base))


@dataclass(frozen=True)
class MatrixCell(Cell):
    """A matrix entry: ``faint`` for a zero no kernel tap puts there (the matrix's many)."""

    faint: bool = False
    now: bool = False  # in the column of Wᵀ the step highlights

    @property
    def classes(self) -> str:
        return super().classes + (" faint" if self.faint else "") + (" now" if self.now else "")


@dataclass(frozen=True)
class Vector:
    """A vector written beside a matrix: its name, its grid's name and its rows of cells
    (one row when it runs along the matrix's top or bottom, one cell a row down its side)."""

    label: str
    name: str
    rows: list[list[Cell]]


class SceneMatrix(Scene2D):
    """One view of the matrix page: the 2-D page's grids and player, and the matrices.

    Raises :class:`TooBig` for a matrix over ``page_max_matrix_entries`` before anything is
    built, :class:`ValueError` for a δ that does not fit the output.
    """

    picture = False

    def __init__(self, view, budget) -> None:
        self.budget = budget
        super().__init__(view, budget)

    def cost(self) -> Cost:
        g = self.geom
        entries, limit = matrix_entries(g), self.budget.matrix_entries
        if entries > limit:
            rows, cols = g.c_out * math.prod(g.out_spatial), g.c_in * math.prod(g.in_spatial)
            raise TooBig(gettext(
                "This setting's matrix W would be %(rows)s × %(cols)s, %(entries)s entries, and "
                "this page draws at most %(most)s (page_max_matrix_entries): less padding, a "
                "larger stride or a smaller input will fit.") % {
                "rows": rows, "cols": cols, "entries": f"{entries:,}", "most": f"{limit:,}"},
                "page_max_matrix_entries")
        # the forward pass and its trace, the backward pass, and the matrices built
        return forward_cost(g) + backward_cost(g) + Cost(3 * entries, 3 * entries, 3,
                                                         8 * 3 * entries)

    def run(self) -> None:
        super().run()
        x, w = self.engine_arrays()
        params = {k: v for k, v in self.params.items()}
        self.weight_matrix = conv_matrix(x.shape, w, **params)
        self.entries = matrix_terms(self.geom)
        params.pop("mode")
        self.patches = im2col(x, self.geom.kernel, **params)
        out = self.output.shape
        if self.view.delta is None:
            self.delta = np.ones(out)
        elif len(self.view.delta) == self.output.size:
            self.delta = np.asarray(self.view.delta, dtype=np.float64).reshape(out)
        else:
            raise ValueError(gettext(
                "delta needs %(needed)s values (the output is %(rows)s×%(cols)s), got %(got)s")
                % {"needed": self.output.size, "rows": out[0], "cols": out[1],
                   "got": len(self.view.delta)})
        self.grads = backward(x, w, self.delta[None], **self.params)

    # --- what the matrices are made of ------------------------------------------------
    @property
    def kind(self) -> str:
        return self.view.matrix

    @shared
    def sliding_kernel(self) -> np.ndarray:
        """The kernel as it slides (flipped in convolution mode), the patches' other factor."""
        return self.flipped_kernel if self.geom.flip else self.w

    @shared
    def grad_sliding(self) -> np.ndarray:
        """∂L/∂W in the order the kernel slides (flipped back in convolution mode)."""
        gw = self.grads.grad_weight[0, 0]
        return np.flip(gw) if self.geom.flip else gw

    @shared
    def _taps(self) -> dict[tuple[int, int], int]:
        """W's entry -> the tap that puts its weight there (the first, where several fold)."""
        taps: dict[tuple[int, int], int] = {}
        for r, c, t in zip(self.entries.row.tolist(), self.entries.col.tolist(),
                           self.entries.tap.tolist(), strict=True):
            taps.setdefault((r, c), t)
        return taps

    @shared
    def _patch_padding(self) -> np.ndarray:
        """Which entries of the patches matrix are padding cells, (prod(out), prod(kernel))."""
        g = self.geom
        out = np.indices(g.out_spatial).reshape(2, -1).T
        taps = np.indices(g.kernel).reshape(2, -1).T
        at = out[:, None] * np.asarray(g.stride) + taps[None] * np.asarray(g.dilation)
        return self.padding_mask[at[..., 0], at[..., 1]]

    @shared
    def matrix_scale(self) -> float:
        return float(np.abs(self.weight_matrix).max())

    @shared
    def patches_scale(self) -> float:
        return float(np.abs(self.patches).max())

    def _entry(self, prefix: str, r: int, c: int, value: float, scale: float, side: int,
               tap: int | None, faint: bool = False, ghost: bool = False,
               now: bool = False) -> MatrixCell:
        return MatrixCell(id=f"{prefix}-{r}-{c}", text=fit(value, side),
                          exact=format_full(value), row=r, col=c, tap=tap, faint=faint,
                          ghost=ghost, now=now, bucket=0 if faint else bucket(value, scale))

    # --- the main matrix, its rows at this step -----------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """The drawn matrix's rows and columns."""
        return {"im2col": self.patches.shape, "W": self.weight_matrix.shape,
                "Wt": self.weight_matrix.T.shape}[self.kind]

    @property
    def highlighted(self) -> int | None:
        """The row (im2col, W) or column (Wᵀ) of the output made at this step."""
        return self.step - 1 if self.step else None

    def matrix_row(self, r: int) -> list[MatrixCell]:
        """Row ``r`` of the drawn matrix."""
        side = max(self.shape)
        if self.kind == "im2col":
            pad = self._patch_padding
            return [self._entry("m", r, c, float(v), self.patches_scale, side, tap=c,
                                ghost=bool(pad[r, c]))
                    for c, v in enumerate(self.patches[r])]
        matrix = self.weight_matrix if self.kind == "W" else self.weight_matrix.T
        cells = []
        for c, v in enumerate(matrix[r]):
            tap = self._taps.get((r, c) if self.kind == "W" else (c, r))
            cells.append(self._entry("m", r, c, float(v), self.matrix_scale, side, tap=tap,
                                     faint=tap is None,
                                     now=self.kind == "Wt" and c == self.highlighted))
        return cells

    def matrix_rows(self) -> list[list[MatrixCell]]:
        return [self.matrix_row(r) for r in range(self.shape[0])]

    def changed_rows(self, previous: int) -> list[int]:
        """The rows a step from ``previous`` changes: the row highlighted before and now (on
        Wᵀ the highlight is a column, so every row)."""
        if self.kind == "Wt":
            return list(range(self.shape[0]))
        return sorted({s - 1 for s in (previous, self.step) if s})

    # --- the vectors around it ----------------------------------------------------------
    def _vector(self, label: str, name: str, values: np.ndarray, *, across: bool,
                shown: int | None = None, taps: bool = False,
                current: int | None = None) -> Vector:
        scale = float(np.abs(values).max())
        side = max(self.shape)
        cells = []
        for i, v in enumerate(values.ravel().tolist()):
            hidden = shown is not None and i >= shown
            cells.append(Cell(id=f"{name}-{i}", text="" if hidden else fit(v, side),
                              exact=None if hidden else format_full(v), empty=hidden,
                              bucket=0 if hidden else bucket(v, scale),
                              row=0 if across else i, col=i if across else 0,
                              tap=i if taps else None, current=i == current))
        return Vector(label, name, [cells] if across else [[c] for c in cells])

    @stepwise
    def vectors(self) -> dict[str, Vector]:
        """The vectors of the view: ``top`` along the matrix's columns, ``side`` down its
        rows (the result, filled in as the player makes it), and on im2col ``left`` (δ) and
        ``bottom`` (∂L/∂W)."""
        made = self.step
        now = self.highlighted
        if self.kind == "im2col":
            return {
                "top": self._vector(gettext("vec(w), the kernel as it slides"), "vw",
                                    self.sliding_kernel, across=True, taps=True),
                "side": self._vector("vec(y) = P · vec(w)", "vy", self.output, across=False,
                                     shown=made, current=now),
                "left": self._vector("vec(δ)", "vd", self.delta, across=False, current=now),
                "bottom": self._vector("∂L/∂w = vec(δ)ᵀ · P", "vg", self.grad_sliding,
                                       across=True, taps=True),
            }
        if self.kind == "W":
            return {
                "top": self._vector("vec(x)", "vx", self.x, across=True),
                "side": self._vector("vec(y) = W · vec(x)", "vy", self.output, across=False,
                                     shown=made, current=now),
            }
        return {
            "top": self._vector("vec(δ)", "vd", self.delta, across=True, current=now),
            "side": self._vector("∂L/∂x = Wᵀ · vec(δ)", "vgx", self.grads.grad_input[0],
                                 across=False),
        }

    @property
    def matrix_label(self) -> str:
        rows, cols = self.shape
        label = {"im2col": N_("Patches matrix P, %(rows)s × %(cols)s"),
                 "W": N_("Weight matrix W, %(rows)s × %(cols)s"),
                 "Wt": N_("Transposed matrix Wᵀ, %(rows)s × %(cols)s")}[self.kind]
        return gettext(label) % {"rows": rows, "cols": cols}

    @property
    def matrix_caption(self) -> str:
        """The matrix's caption, short: its product and its size."""
        rows, cols = self.shape
        return {"im2col": f"P ({rows}×{cols}) · w = y", "W": f"W ({rows}×{cols}) · x = y",
                "Wt": f"Wᵀ ({rows}×{cols}) · δ = ∂L/∂x"}[self.kind]

    @stepwise
    def matrix_sentence(self) -> str:
        """What the highlighted row (or column) does at this step, in words."""
        if not self.step:
            words = {
                "im2col": N_("Each row of P is one window of the input, unrolled."),
                "W": N_("Each row of W is the kernel slid to one window; the rest are zeros."),
                "Wt": N_("Each column of Wᵀ is the kernel stamped where one output's window "
                         "lay.")}[self.kind]
            return gettext(words)
        i, (r, c) = self.step, self.out_position()
        sentence = {
            "im2col": N_("Row %(i)s of P is the window of output (%(row)s, %(col)s), unrolled."),
            "W": N_("Row %(i)s of W is the kernel over the window of output (%(row)s, "
                    "%(col)s)."),
            "Wt": N_("Column %(i)s of Wᵀ stamps the kernel, times δ %(i)s, back onto the window "
                     "of output (%(row)s, %(col)s).")}[self.kind]
        return gettext(sentence) % {"i": i, "row": r + 1, "col": c + 1}

    # --- the link to /backprop ----------------------------------------------------------
    @property
    def backprop_url(self) -> str:
        """/backprop with this x, kernel and δ, playing ∂L/∂X: the same numbers as Wᵀ · δ."""
        g = self.geom
        params = {"preset": "lesson-2d", "x": format_matrix(self.x.tolist()),
                  "w": format_matrix(self.w.tolist()), "loss": "custom",
                  "delta": ",".join(format_exact(v) for v in self.delta.ravel().tolist()),
                  "part": "input"}
        view = self.view
        for name in ("stride", "padding", "dilation"):
            value = getattr(view, name)
            if value != getattr(ViewMatrix, name):
                params[name] = ",".join(map(str, value)) if isinstance(value, tuple) \
                    else str(value)
        if g.padding_mode != "zeros":
            params["padding_mode"] = g.padding_mode
        if g.flip:
            params["mode"] = "convolution"
        if view.projector:
            params["projector"] = "1"
        return "/backprop?" + urlencode(params, safe=",;")
