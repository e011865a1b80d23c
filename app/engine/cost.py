"""What a convolution will really cost, worked out from its geometry before anything runs.

A multiply-accumulate count alone does not say it: the backward pass picks one of four ways to
make the input gradient (:func:`input_gradient_method`), and each has its own arithmetic, its
own workspace and its own number of Python-level iterations, some of which grow with the
stride, the dilation or the padded row width rather than with the work a person asked for.
:func:`forward_cost` and :func:`backward_cost` count, for the path the engine will take:

- ``macs``: multiply-accumulates, BLAS products and the "full" correlation included;
- ``moves``: elements copied or added outside BLAS (im2col, col2im, padding);
- ``loops``: Python-level iterations (one per im2col block, per kernel tap of col2im, ...);
- ``peak_bytes``: the largest total of arrays the call allocates at once (the caller's own
  arrays not counted).

:func:`pool_forward_cost` and :func:`pool_backward_cost` count the same four things for
max and average pooling (``macs``: the input cells the windows read, a comparison or an
addition each), for the method :func:`pool_method` picks.

Callers with limits (the HTTP API, the pages) compare these with their settings before
calling; the engine itself uses :attr:`Cost.seconds` to pick the cheapest input-gradient
method. Everything here is arithmetic on shapes, in O(blocks + kernel size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .cache import OBJECT_BYTES, bounded_cache
from .forward import Blocking, blocking
from .geometry import Geometry, plan
from .pool_geometry import PoolGeometry, axis_windows, cells_read, tap_count

if TYPE_CHECKING:  # transposed.py imports this module (through backward.py)
    from .transposed import TransposedGeometry

# Rough costs on one core of the 2-core machine we measure on (bench/engine.py): a BLAS
# multiply-accumulate in the small, thin products convolutions make; an element copied or
# added by NumPy; a byte freshly allocated (page faults); one Python-level iteration with its
# NumPy indexing. They rank the methods; the limits use the counts themselves.
SECONDS_PER_MAC = 0.5e-9
SECONDS_PER_MOVE = 1e-9
SECONDS_PER_BYTE = 0.25e-9
SECONDS_PER_LOOP = 3e-6

#: the input-gradient methods (see :func:`input_gradient_method`)
METHODS = ("transposed", "flat", "taps", "positions")


@dataclass(frozen=True, slots=True)
class Cost:
    """What one call costs (see the module docstring)."""

    macs: int
    moves: int
    loops: int
    peak_bytes: int

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.macs + other.macs, self.moves + other.moves,
                    self.loops + other.loops, max(self.peak_bytes, other.peak_bytes))

    def times(self, count: int) -> Cost:
        """This cost ``count`` times over, one after another (the peak stays one call's)."""
        return Cost(self.macs * count, self.moves * count, self.loops * count,
                    self.peak_bytes if count else 0)

    @property
    def seconds(self) -> float:
        """A rough estimate of the time on one core, to compare methods by."""
        return (self.macs * SECONDS_PER_MAC + self.moves * SECONDS_PER_MOVE
                + self.peak_bytes * SECONDS_PER_BYTE + self.loops * SECONDS_PER_LOOP)


def _padded_elements(geom: Geometry) -> int:
    return geom.n * geom.c_in * math.prod(geom.padded)


def _has_padding(geom: Geometry) -> bool:
    return any(b or a for b, a in geom.padding)


def _im2col_elements(geom: Geometry) -> int:
    return geom.n * geom.c_in * math.prod(geom.kernel) * math.prod(geom.out_spatial)


def forward_cost(geom: Geometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`app.engine.forward` for ``geom`` (float64 unless ``itemsize`` 4)."""
    blocks = blocking(geom)
    padded = _padded_elements(geom) if _has_padding(geom) else 0
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    return Cost(
        macs=geom.macs, moves=_im2col_elements(geom) + 2 * padded + output,
        loops=blocks.blocks + geom.ndim,
        peak_bytes=itemsize * (2 * padded + output + blocks.workspace),
    )


# ----------------------------------------------------------------------------- col2im


def residues(geom: Geometry) -> tuple[tuple[int, ...], ...]:
    """Per spatial axis, the residues ``(k * dilation) mod stride`` some kernel tap lands on.

    Strided col2im keeps one grid per residue (:class:`~app.engine.backward.PhaseLayout`);
    residues no tap reaches hold only zeros, so they get no grid.
    """
    return tuple(tuple(sorted({k * d % s for k in range(min(kk, s))}) if d % s else (0,))
                 if s > 1 else (0,)
                 for kk, d, s in zip(geom.kernel, geom.dilation, geom.work_stride, strict=True))


def flat_run(geom: Geometry, rows: int) -> int:
    """Stride-1 col2im on the flattened padded input (:class:`~app.engine.backward.
    FlatLayout`): how many flat positions a block of ``rows`` output rows spans, from its
    first output to its last real one. Each row is as wide as a padded row, so a padded row
    millions wide (a dilated kernel with padding to match) makes a run that wide."""
    padded, out = geom.padded, geom.out_spatial
    row_strides = [math.prod(padded[i + 1:]) for i in range(geom.ndim)]
    tail = sum((o - 1) * s for o, s in zip(out[1:], row_strides[1:], strict=True)) + 1
    return (rows - 1) * row_strides[0] + tail


def _row_groups(geom: Geometry, blocks: Blocking) -> list[tuple[int, int]]:
    """``(rows in the group, how many groups have that many)`` for the bands of output rows."""
    out_rows = geom.out_spatial[0]
    full, last = divmod(out_rows, blocks.rows_per_block)
    return [(blocks.rows_per_block, full)] + ([(last, 1)] if last else [])


def _flat_cost(geom: Geometry, blocks: Blocking, itemsize: int, padded: int) -> Cost:
    taps = math.prod(geom.kernel)
    width = math.prod(geom.padded[1:])
    groups = _row_groups(geom, blocks)
    runs = sum(flat_run(geom, rows) * count for rows, count in groups)
    grad_cols = geom.n * geom.c_in * taps * runs
    workspace = max(blocks.workspace, max(
        blocks.samples_per_block * (geom.c_in * taps * flat_run(geom, rows)
                                    + geom.c_out * rows * width)
        for rows, _ in groups))
    return Cost(macs=grad_cols * geom.c_out_group, moves=2 * grad_cols + padded,
                loops=blocks.blocks * taps, peak_bytes=itemsize * (padded + workspace))


def transposed_geometry(geom: Geometry) -> Geometry:
    """Geometry of grad_input as a convolution (stride 1): the deltas (N, C_out, *out),
    zero-padded "full", correlated with a (C_in, C_out_g, *kernel) kernel. Its output has
    the padded input's shape: where a single window leaves cells after it unread (a stride
    larger than the rest of the input), the padding after is that much wider."""
    pads = []
    for p, o, e in zip(geom.padded, geom.out_spatial, geom.extent, strict=True):
        unread = p - (o - 1) - e  # 0 unless the axis has one output and cells past it
        pads.append((e - 1, e - 1 + unread))
    return plan(
        (geom.n, geom.c_out, *geom.out_spatial), (geom.c_in, geom.c_out_group, *geom.kernel),
        padding=pads, dilation=geom.dilation, groups=geom.groups,
    )


def _method_costs(geom: Geometry, itemsize: int) -> dict[str, Cost]:
    """The cost of each input-gradient method that applies to ``geom``, beyond the weight
    gradient's pass over the blocks (which every method shares)."""
    blocks = blocking(geom)
    padded = _padded_elements(geom)
    taps = math.prod(geom.kernel)
    cols = _im2col_elements(geom)
    costs: dict[str, Cost] = {}
    stride_one = geom.work_stride == (1,) * geom.ndim
    if stride_one:
        tgeom = transposed_geometry(geom)
        tblocks = blocking(tgeom)
        tpadded = tgeom.n * tgeom.c_in * math.prod(tgeom.padded)
        costs["transposed"] = Cost(
            macs=tgeom.macs, moves=_im2col_elements(tgeom) + tpadded, loops=tblocks.blocks,
            peak_bytes=itemsize * (tpadded + padded + tblocks.workspace))
        costs["flat"] = _flat_cost(geom, blocks, itemsize, padded)
    kept = residues(geom)
    phases = geom.n * geom.c_in * math.prod(
        len(r) * -(-p // s) for r, p, s in zip(kept, geom.padded, geom.work_stride,
                                                strict=True))
    costs["taps"] = Cost(
        macs=cols * geom.c_out_group, moves=cols + phases + padded,
        loops=blocks.blocks * taps + math.prod(map(len, kept)),
        peak_bytes=itemsize * (phases + (0 if stride_one else padded) + blocks.workspace))
    costs["positions"] = Cost(
        macs=cols * geom.c_out_group, moves=cols + padded,
        loops=blocks.sample_groups * math.prod(geom.out_spatial),
        peak_bytes=itemsize * (padded + blocks.workspace))
    return costs


def _preferred(geom: Geometry) -> str:
    """The method measured fastest at the sizes people use (bench/engine.py)."""
    if geom.work_stride != (1,) * geom.ndim:
        return "taps"
    return "transposed" if geom.c_out_group <= geom.c_in_group else "flat"


def input_gradient_method(geom: Geometry, itemsize: int = 8) -> str:
    """How :func:`~app.engine.backward.gradients` makes grad_input for ``geom``:

    - ``"transposed"`` (stride 1): a "full" correlation of the deltas with the flipped
      kernel; best when there are no more output than input channels per group;
    - ``"flat"`` (stride 1): col2im on the flattened padded input, one contiguous add per
      kernel tap;
    - ``"taps"`` (any stride): col2im into one grid per stride residue, one add per tap;
    - ``"positions"`` (any stride): col2im one output position at a time, an add into that
      window — for a kernel with many more taps than the block has outputs.

    The method measured fastest at ordinary sizes is kept unless the cost model finds one at
    least twice as cheap: the "full" correlation of a 250,000-tap kernel over one output, or
    a flat run as wide as a padded row of millions, are not ordinary.
    """
    return _choose(geom, itemsize)[0]


@bounded_cache(lambda choice: 12 * OBJECT_BYTES)
def _choose_cached(key: tuple[Geometry, int]) -> tuple[str, Cost]:
    return _choose_uncached(*key)


def _choose(geom: Geometry, itemsize: int) -> tuple[str, Cost]:
    """The cheapest method and its cost (worked out once per geometry: ~70 us)."""
    return _choose_cached((geom, itemsize))


def _choose_uncached(geom: Geometry, itemsize: int) -> tuple[str, Cost]:
    costs = _method_costs(geom, itemsize)
    preferred = _preferred(geom)
    best = min(costs, key=lambda m: costs[m].seconds / (2 if m == preferred else 1))
    return best, costs[best]


def backward_cost(geom: Geometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`app.engine.backward` for ``geom``: padding, the pass over the
    im2col blocks for the weight gradient, the chosen input-gradient method, and folding the
    gradient back through the padding."""
    blocks = blocking(geom)
    padded = _padded_elements(geom)
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    weights = geom.c_out * geom.c_in_group * math.prod(geom.kernel)
    shared = Cost(
        macs=geom.macs, moves=_im2col_elements(geom) + 3 * padded + output,
        loops=blocks.blocks + 2 * geom.ndim,
        peak_bytes=itemsize * (2 * padded + output + weights + blocks.workspace))
    _, method = _choose(geom, itemsize)
    # the method's buffers exist beside the padded input and its gradient
    return shared + Cost(method.macs, method.moves, method.loops,
                         shared.peak_bytes + method.peak_bytes)


# ----------------------------------------------------------------------------- transposed


def transposed_cost(geom: TransposedGeometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`app.engine.conv_transpose` for ``geom``: the adjoint convolution's
    input gradient by the method :func:`input_gradient_method` picks for it (its buffers
    include the uncropped output), the cropped copy, the zeros past what the stamps reach,
    and the bias."""
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    conv = geom.adjoint
    if conv is None:
        return Cost(0, output, 1, itemsize * output)
    _, method = _choose(conv, itemsize)
    reached = geom.n * geom.c_out * math.prod(geom.reached)
    extended = output if geom.reached != geom.out_spatial else 0
    # the products may copy the input (the adjoint's deltas) to a contiguous layout: matmul
    # does, for the flat method's slice of them (tracemalloc saw it)
    inputs = geom.n * geom.c_in * math.prod(geom.in_spatial)
    return Cost(
        macs=method.macs, moves=method.moves + reached + extended + output,
        loops=method.loops + geom.ndim + 1,
        peak_bytes=method.peak_bytes + itemsize * (reached + extended + inputs))


def transposed_backward_cost(geom: TransposedGeometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`app.engine.conv_transpose_backward` for ``geom``: dL/dy cut to the
    cells the stamps reach and padded as the adjoint convolution pads its input, that
    convolution (dL/dx) and its weight gradient in one pass over the im2col blocks, and the
    bias gradient's sum."""
    output = geom.n * geom.c_out * math.prod(geom.out_spatial)
    inputs = geom.n * geom.c_in * math.prod(geom.in_spatial)
    weights = geom.c_in * geom.c_out_group * math.prod(geom.kernel)
    conv = geom.adjoint
    if conv is None:
        return Cost(0, output + inputs + weights, 1,
                    itemsize * (inputs + weights + geom.c_out))
    blocks = blocking(conv)
    forward = forward_cost(conv, itemsize)
    # with no padding pad() copies the cut deltas (a strided view) instead of padding them
    copied = 0 if _has_padding(conv) or geom.reached == geom.out_spatial else \
        geom.n * geom.c_out * math.prod(geom.reached)
    partial = weights * (blocks.samples_per_block + 2)  # each block's product, its sum, a copy
    return Cost(
        macs=2 * conv.macs, moves=forward.moves + output + copied + weights,
        loops=forward.loops + blocks.blocks + 1,
        peak_bytes=forward.peak_bytes + itemsize * (copied + partial + geom.c_out))


def _gather_reach(geom: TransposedGeometry) -> int:
    """The most (input element, tap) pairs one output cell gathers per input channel: per
    axis, the taps ``k`` with ``k * D`` in one residue class mod ``S``, and no more than the
    input's positions."""
    reach = 1
    for k, i, s, d in zip(geom.kernel, geom.in_spatial, geom.stride, geom.dilation,
                          strict=True):
        period = s // math.gcd(s, d)
        reach *= min(k, i, -(-k // period))
    return reach


def transposed_trace_terms_per_step(geom: TransposedGeometry, view: str) -> int:
    """The most terms one step of a transposed-convolution trace can have (see
    :mod:`app.engine.transposed_trace`), from the geometry alone: a ``"gather"`` step sums
    ``C_in / groups`` channels' pairs reaching its cell; a ``"scatter"`` step stamps
    ``C_out / groups * prod(kernel)`` cells and sums, for each, what the steps before it
    gathered there (its running sum)."""
    gather = geom.c_in_group * _gather_reach(geom)
    if view == "gather":
        return gather
    return geom.c_out_group * math.prod(geom.kernel) * (1 + gather)
# ----------------------------------------------------------------------------- pooling

#: how pooling loops (see :mod:`app.engine.pool`): over the kernel taps that reach an
#: input cell, each tap one NumPy call for every window; or over the windows
POOL_METHODS = ("taps", "windows")

#: NumPy runs a ufunc over strided slices through buffers of up to 8192 elements per
#: operand (three: two inputs and the output), measured with tracemalloc
UFUNC_BUFFER_ELEMENTS = 3 * 8192


def pool_loops(geom: PoolGeometry) -> dict[str, int]:
    """Python-level iterations of one pass of each pooling method that applies to ``geom``
    (an axis whose taps are too many to list offers no "taps")."""
    loops = {"windows": math.prod(geom.out_spatial)}
    taps = tap_count(geom)
    if taps is not None:
        loops["taps"] = taps
    return loops


def pool_method(geom: PoolGeometry) -> str:
    """The pooling method with fewer iterations; "taps" when they tie (a tap handles every
    window in one call, a window only its own cells)."""
    loops = pool_loops(geom)
    return "taps" if loops.get("taps", math.inf) <= loops["windows"] else "windows"


def _pool_sizes(geom: PoolGeometry) -> tuple[int, int, int]:
    """(input elements, output elements, input cells the windows read)."""
    return (geom.planes * math.prod(geom.in_spatial),
            geom.planes * math.prod(geom.out_spatial), cells_read(geom))


def pool_forward_cost(geom: PoolGeometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`~app.engine.pool.max_pool` or :func:`~app.engine.pool.avg_pool`
    for ``geom``: ``macs`` counts the cells read (a comparison or an addition each)."""
    _, output, cells = _pool_sizes(geom)
    method = pool_method(geom)
    loops = pool_loops(geom)[method]
    peak = (output + min(UFUNC_BUFFER_ELEMENTS, 3 * output)) * itemsize
    if geom.kind == "avg":
        peak += math.prod(geom.out_spatial) * 8  # the divisors
    if method == "windows":  # one window's result
        peak += geom.planes * itemsize
    return Cost(macs=cells, moves=cells + 2 * output, loops=loops + geom.ndim,
                peak_bytes=peak)


def pool_backward_cost(geom: PoolGeometry, itemsize: int = 8) -> Cost:
    """The cost of :func:`~app.engine.pool.max_pool_backward` or
    :func:`~app.engine.pool.avg_pool_backward`: the max pass again (to find each window's
    winner), then every cell read once more to send each δ where it goes."""
    inputs, output, cells = _pool_sizes(geom)
    method = pool_method(geom)
    loops = pool_loops(geom)[method]
    if geom.kind == "max":
        forward = pool_forward_cost(geom, itemsize)
        if method == "taps":  # the max, what is left of each δ, a hit mask and a product
            extra = output * (2 * itemsize + 1 + itemsize)
        else:  # one window's cells gathered, its winners and their coordinates
            box = math.prod(int(t.cells.max()) for t in axis_windows(geom))
            extra = geom.planes * (box * (itemsize + 8) + (geom.ndim + 3) * 8)
        return forward + Cost(macs=cells, moves=4 * cells + output + inputs, loops=loops,
                              peak_bytes=forward.peak_bytes + inputs * itemsize + extra)
    shares = output * itemsize + math.prod(geom.out_spatial) * 8
    return Cost(macs=cells, moves=cells + output + inputs, loops=loops + geom.ndim,
                peak_bytes=(inputs + min(UFUNC_BUFFER_ELEMENTS, 3 * output)) * itemsize
                + 2 * shares)


def pool_trace_terms_per_step(geom: PoolGeometry) -> int:
    """Terms of one pooling trace step, forward or backward: every cell of its window."""
    return math.prod(geom.kernel)


# ----------------------------------------------------------------------------- traces

def trace_terms_per_step(geom: Geometry, part: str) -> int:
    """The most terms one step of a trace part can have (``"forward"``, ``"weight"``,
    ``"input"`` or ``"bias"``; see :mod:`app.engine.trace`), from the geometry alone. A
    window of steps is vectorised whatever the part (a fixed number of NumPy calls per
    spatial axis), so its cost is its terms: O(steps x terms per step).

    An input step's terms per axis are at most its taps times the outputs one tap can reach
    through the positions holding the element: one for zero padding, three for reflect and
    circular (the element and two copies), and for replicate the edge element's whole run
    of copies, stride by stride.
    """
    if part == "forward":
        return geom.c_in_group * math.prod(geom.kernel)
    if part in ("weight", "bias"):
        return geom.n * math.prod(geom.out_spatial)
    terms = geom.c_out_group
    for k, o, s, (b, a) in zip(geom.kernel, geom.out_spatial, geom.stride, geom.padding,
                               strict=True):
        reach = {"zeros": 1, "reflect": 3, "circular": 3}.get(geom.padding_mode,
                                                                (b + a) // s + 1)
        terms *= k * min(o, reach)
    return terms
