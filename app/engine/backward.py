"""Vectorised backward pass: grad_weight and grad_input block by block, grad_bias by one sum.

Per sample and group the forward pass is ``y = W @ cols`` (see :mod:`app.engine.forward`), so
for every im2col block

    grad_weight += (cols @ dy.T).T
    grad_cols    = W.T @ dy,   added back onto the padded input (col2im)

col2im adds the column gradients back one kernel offset at a time; for a fixed offset the
windows do not overlap, so each is a plain in-place add. Stride 1 works on the flattened
padded input, where every offset's windows are one contiguous run (:func:`col2im_flat`), or,
with no more output than input channels, skips col2im for a "full" correlation of the deltas
(:func:`input_gradient_transposed`); strided convolutions add into a phase-major buffer
(:func:`col2im_phases`). A kernel with far more taps than there are outputs adds one window
at a time instead (:func:`col2im_positions`). :func:`~app.engine.cost.input_gradient_method`
picks the one its cost model finds cheapest.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .arrays import Prepared, pad, prepare_backward, unpad_grad, windows
from .cache import OBJECT_BYTES, bounded_cache
from .cost import flat_run, input_gradient_method, residues, transposed_geometry
from .forward import (
    Block,
    all_finite,
    correlate,
    effective_kernel,
    fill,
    is_float_array,
    schedule,
    try_plan,
    unify,
)
from .geometry import Geometry
from .types import Gradients


def backward(
    x,
    weight,
    grad_output,
    *,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    padding_mode="zeros",
    mode="cross-correlation",
) -> Gradients:
    """Gradients of a loss L through ``y = forward(x, weight, bias, ...)``, given dL/dy.

    x : array_like, shape (N, C_in, *spatial) or unbatched (C_in, *spatial)
    weight : array_like, shape (C_out, C_in / groups, *kernel)
    grad_output : array_like, dL/dy, the output's shape

    Returns ``Gradients(grad_input, grad_weight, grad_bias)``:

    - grad_weight: dL/dw, the input correlated with the upstream deltas (the lesson's
      "use the derivatives as the kernel");
    - grad_input: dL/dx, a full convolution of the deltas (dilated by the stride) with the
      kernel, folded back through the padding exactly as autograd does;
    - grad_bias: dL/db, the deltas summed per output channel.

    An empty batch (N = 0) gives zero weight and bias gradients and an empty grad_input, as
    PyTorch does. The other parameters mean what they mean in :func:`app.engine.forward`;
    the dtype rule is its rule with grad_output in place of bias: float32 when x, weight and
    grad_output are all float32 ndarrays, else float64.
    """
    params = (stride, padding, dilation, groups, padding_mode, mode)
    (x, w, _, geom), dy = prepare_backward_fast(x, weight, grad_output, params)
    grad_w, grad_xp = gradients(pad(x, geom), dy, effective_kernel(w, geom), geom)
    grad_x = np.ascontiguousarray(unpad_grad(grad_xp, geom))
    grad_b = np.add.reduce(dy, axis=schedule(geom).sum_axes)
    grad_w = np.ascontiguousarray(effective_kernel(grad_w.reshape(w.shape), geom))
    return Gradients(grad_x if geom.batched else grad_x[0], grad_w, grad_b)


def prepare_backward_fast(x, weight, grad_output, params: tuple) -> tuple[Prepared, np.ndarray]:
    """:func:`~app.engine.arrays.prepare_backward` with the short path of
    :func:`~app.engine.forward.prepare_fast`: float ndarrays with a valid geometry and finite
    values skip the general conversions; anything else goes through ``prepare_backward``.

    Returns ``(prepared, dy)``, ``dy`` batched: shape (N, C_out, *out).
    """
    if is_float_array(x) and is_float_array(weight) and is_float_array(grad_output):
        geom = try_plan(x, weight, params, None)
        if geom is not None and grad_output.shape == geom.output_shape and all_finite(x) \
                and all_finite(weight) and all_finite(grad_output):
            prepared = unify(x, weight, None, geom, grad_output)
            dy = grad_output.astype(prepared.x.dtype, copy=False)  # float32 when x is
            return prepared, (dy if geom.batched else dy[None])
    stride, padding, dilation, groups, padding_mode, mode = params
    return prepare_backward(x, weight, grad_output, stride=stride, padding=padding,
                            dilation=dilation, groups=groups, padding_mode=padding_mode,
                            mode=mode)


def gradients(xp: np.ndarray, dy: np.ndarray, w: np.ndarray,
              geom: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """dL/dw and dL/d(padded input), in one pass over the im2col blocks.

    xp : ndarray, shape (N, C_in, *padded); dy : ndarray, shape (N, C_out, *out)
    w : ndarray, shape (C_out, C_in_g, *kernel), as it slides (flipped in convolution mode)

    Returns grad_w, shape (groups, C_out_g, C_in_g * prod(kernel)), and grad_xp, shape
    (N, C_in, *padded). grad_xp is made one of four ways (:func:`input_gradient_method`).
    """
    grad_w, grad_xp = _gradients(xp, dy, w, geom)
    assert grad_w is not None
    return grad_w, grad_xp


def input_gradient(dy: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """dL/d(padded input) alone, shape (N, C_in, *padded), made as :func:`gradients` makes
    it but with no input to read and no weight gradient: the transposed convolution
    (:mod:`app.engine.transposed`) is exactly this, with its input as the deltas.

    dy : ndarray, shape (N, C_out, *out); w : ndarray, shape (C_out, C_in_g, *kernel)
    """
    return _gradients(None, dy, w, geom)[1]


def _gradients(xp: np.ndarray | None, dy: np.ndarray, w: np.ndarray,
               geom: Geometry) -> tuple[np.ndarray | None, np.ndarray]:
    """:func:`gradients`; with ``xp`` None, grad_xp alone (and None for grad_w)."""
    sched = schedule(geom)
    dtype = dy.dtype
    shape = (geom.n, geom.c_in, *geom.padded)
    method = input_gradient_method(geom, dtype.itemsize)
    dymat = np.ascontiguousarray(dy).reshape(sched.output_matrix)
    with_weight = xp is not None
    if with_weight:
        cols = windows(xp, geom, kernel_first=True)
    elif method == "transposed":  # nothing to do block by block
        return None, input_gradient_transposed(dy, w, geom)
    workspace = sched.workspace
    if method != "transposed":
        wmat_t = w.reshape(sched.weight_matrix).swapaxes(1, 2)  # (groups, taps, C_out_g)
    if method == "flat":
        flat = flat_layout(geom)
        workspace = flat.workspace
        grad_xp = np.zeros(shape, dtype=dtype)
    elif method == "taps":
        phases = phase_layout(geom)
        grad_phases = np.zeros(phases.shape, dtype=dtype)
    elif method == "positions":
        grad_xp = np.zeros(shape, dtype=dtype)
    work = np.empty(workspace, dtype=dtype)
    grad_w_t = None  # grad_w transposed, (groups, taps, C_out_g)
    for i, block in enumerate(sched.blocks):
        dy_block = dymat[block.output]
        if with_weight:
            mat = fill(work, cols, block)
            # cols @ dy.T rather than dy @ cols.T: OpenBLAS runs this shape up to twice as
            # fast.
            part = np.matmul(mat, dy_block.swapaxes(2, 3))  # (samples, groups, taps, C_out_g)
            part = part[0] if part.shape[0] == 1 else part.sum(axis=0)
            if grad_w_t is None:
                grad_w_t = part
            else:
                grad_w_t += part
            # The workspace is free again: it now receives the column gradients.
        else:
            mat = work[: block.size].reshape(block.matrix)
        if method == "flat":
            col2im_flat(grad_xp, dy, wmat_t, work, block, flat.blocks[i], flat, geom)
        elif method == "taps":
            np.matmul(wmat_t, dy_block, out=mat)
            col2im_phases(grad_phases, mat.reshape(block.shape), block, phases)
        elif method == "positions":
            np.matmul(wmat_t, dy_block, out=mat)
            col2im_positions(grad_xp, mat.reshape(block.shape), block, geom)
    if with_weight and grad_w_t is None:  # an empty batch has no block: nothing reached w
        grad_w_t = np.zeros(sched.weight_matrix, dtype=dtype).swapaxes(1, 2)
    if method == "transposed":
        grad_xp = input_gradient_transposed(dy, w, geom)
    elif method == "taps":
        grad_xp = unphase(grad_phases, phases)
    return (None if grad_w_t is None else grad_w_t.swapaxes(1, 2)), grad_xp


@bounded_cache(lambda geom: 30 * OBJECT_BYTES)
def _transposed_geometry(geom: Geometry) -> Geometry:
    return transposed_geometry(geom)


def input_gradient_transposed(dy: np.ndarray, w: np.ndarray, geom: Geometry) -> np.ndarray:
    """dL/d(padded input) for stride 1, as a "full" correlation of the deltas.

    dy : ndarray, shape (N, C_out, *out); w : ndarray, shape (C_out, C_in_g, *K), as it slides
    Returns shape (N, C_in, *padded):
    ``grad_xp[n, g*C_in_g + c, p] = sum_{co, k} w[g*C_out_g + co, c, k] * dy[n, co, p - k*D]``,
    that is the deltas correlated with the kernel flipped and its channel axes swapped.
    """
    tgeom = _transposed_geometry(geom)
    # (g, C_out_g, C_in_g, *K) -> (g, C_in_g, C_out_g, *K), flipped: the kernel the deltas see.
    wt = w.reshape(geom.groups, geom.c_out_group, geom.c_in_group, *geom.kernel).swapaxes(1, 2)
    wt = wt[(Ellipsis, *(slice(None, None, -1),) * geom.ndim)].reshape(tgeom.weight_shape)
    return correlate(pad(dy, tgeom), wt, tgeom)


@dataclass(frozen=True, slots=True)
class PhaseLayout:
    """Strided col2im into a phase-major buffer.

    With stride ``s`` and dilation ``d``, tap ``k`` of output ``o`` lands on padded cell
    ``o*s + k*d = (o + q)*s + r`` with ``(q, r) = divmod(k*d, s)``. Holding the gradient as
    (N, C_in, *R, *ceil(padded / stride)), one grid for each residue ``r`` that some tap
    lands on (:func:`~app.engine.cost.residues`: at most ``min(K, s)`` per axis, however
    large the stride), makes each kernel offset's add a plain slice ``[*j, q : q + out]``
    with contiguous rows (through the window view they would step by ``s``). At the end one
    copy per kept residue interleaves the phases back into (N, C_in, *padded); the cells of
    residues no tap reaches stay zero.
    """

    shape: tuple[int, ...]  # the phase-major buffer: (N, C_in, *len(R), *ceil(padded/stride))
    taps: tuple[tuple, ...]  # per kernel offset: (index into the column gradients, j, q0, q[1:])
    phases: tuple[tuple, ...]  # per kept residue: (index r::s into the padded grid, index j)
    padded: tuple[int, ...]  # (N, C_in, *(ceil_i * s_i))
    crop: tuple[slice, ...]  # (N, C_in, *padded) inside that
    complete: bool  # every residue is kept, so the interleaved copy covers every cell


def _layout_size(layout) -> int:
    """Estimated bytes of a cached layout: a few small objects per tap, phase or block."""
    items = sum(len(getattr(layout, name)) for name in ("taps", "phases", "blocks", "offsets")
                if hasattr(layout, name))
    return (20 + 6 * items) * OBJECT_BYTES


@bounded_cache(_layout_size)
def phase_layout(geom: Geometry) -> PhaseLayout:
    """:class:`PhaseLayout` for ``geom``."""
    stride = geom.work_stride
    kept = residues(geom)
    where = [{r: j for j, r in enumerate(rs)} for rs in kept]
    grids = tuple(-(-p // s) for p, s in zip(geom.padded, stride, strict=True))
    taps = []
    for ks in itertools.product(*(range(k) for k in geom.kernel)):
        qr = [divmod(k * d, s) for k, d, s in zip(ks, geom.dilation, stride, strict=True)]
        rest = tuple(slice(q, q + o) for (q, _), o in zip(qr[1:], geom.out_spatial[1:],
                                                            strict=True))
        js = tuple(w[r] for w, (_, r) in zip(where, qr, strict=True))
        taps.append(((slice(None), slice(None), *ks), js, qr[0][0], rest))
    lead, colon = (geom.n, geom.c_in), slice(None)
    phases = tuple(
        ((colon, colon, *(slice(r, None, s) for r, s in zip(rs, stride, strict=True))),
         (colon, colon, *js))
        for rs, js in zip(itertools.product(*kept),
                          itertools.product(*(range(len(r)) for r in kept)), strict=True)
    )
    return PhaseLayout(
        shape=(*lead, *map(len, kept), *grids), taps=tuple(taps), phases=phases,
        padded=(*lead, *(g * s for g, s in zip(grids, stride, strict=True))),
        crop=(slice(None), slice(None), *(slice(0, p) for p in geom.padded)),
        complete=all(len(r) == s for r, s in zip(kept, stride, strict=True)),
    )


def col2im_phases(grad_phases: np.ndarray, grad_cols: np.ndarray, block: Block,
                  layout: PhaseLayout) -> None:
    """Add one block of column gradients onto the phase-major gradient, in place.

    grad_phases : ndarray, shape ``layout.shape``
    grad_cols : ndarray, the block in im2col layout (samples, C_in, *kernel, rows, *out[1:])
    For a fixed kernel offset the windows do not overlap, so each add is a plain one.
    """
    target = grad_phases[block.samples]
    first, stop = block.rows.start, block.rows.stop
    colon = slice(None)
    for source, j, q0, rest in layout.taps:
        dest = target[(colon, colon, *j, slice(q0 + first, q0 + stop), *rest)]
        dest += grad_cols[source]


def unphase(grad_phases: np.ndarray, layout: PhaseLayout) -> np.ndarray:
    """The phase-major gradient interleaved back into (N, C_in, *padded), one phase at a
    time (a single transposed copy would run with an innermost axis of length ``s``)."""
    allocate = np.empty if layout.complete else np.zeros
    grad_xp = allocate(layout.padded, dtype=grad_phases.dtype)
    for dest, source in layout.phases:
        grad_xp[dest] = grad_phases[source]
    return grad_xp[layout.crop]


def col2im_positions(grad_xp: np.ndarray, grad_cols: np.ndarray, block: Block,
                     geom: Geometry) -> None:
    """Add one block of column gradients onto ``grad_xp`` one output position at a time.

    grad_xp : ndarray, shape (N, C_in, *padded)
    grad_cols : ndarray, the block in im2col layout (samples, C_in, *kernel, rows, *out[1:])
    Each position's window is one strided slice of ``grad_xp`` whose cells are distinct, so
    its add is a plain one; this loops over positions where the other methods loop over taps.
    """
    target = windows(grad_xp, geom, writeable=True)[block.samples]  # (s, C, *O, *K)
    colon, ndim = slice(None), geom.ndim
    rows = range(block.rows.start, block.rows.stop)
    for o in itertools.product(rows, *map(range, geom.out_spatial[1:])):
        local = (o[0] - block.rows.start, *o[1:])
        target[(colon, colon, *o)] += grad_cols[(colon, colon, *(colon,) * ndim, *local)]


@dataclass(frozen=True, slots=True)
class FlatBlock:
    """Where one block lands in the flattened padded input (see :class:`FlatLayout`)."""

    start: int  # flat index of the block's first output row: row * prod(padded[1:])
    length: int  # flat positions from there to the block's last real output, inclusive
    wide: tuple[int, ...]  # the block's deltas laid out wide: (samples, C_out, rows, *padded[1:])


@dataclass(frozen=True, slots=True)
class FlatLayout:
    """Stride-1 col2im on the flattened padded input.

    Give each output row the padded input's width (``padded[1:]`` instead of ``out[1:]``,
    zero deltas in the extra "virtual" positions). Then output position ``p`` and kernel
    offset ``k`` meet the flat input cell ``p + offsets[k]``, so one offset's windows over a
    block of rows are a single contiguous run, and its add is one contiguous slice.
    """

    offsets: tuple[int, ...]  # flat offset of every kernel tap, in weight order
    virtual: bool  # whether rows have virtual positions (never in 1-D)
    real: tuple[slice, ...]  # the real outputs inside the wide deltas
    blocks: tuple[FlatBlock, ...]  # one per block of the schedule
    workspace: int  # elements: the largest block's column gradients plus its wide deltas


@bounded_cache(_layout_size)
def flat_layout(geom: Geometry) -> FlatLayout:
    """:class:`FlatLayout` for ``geom`` (stride 1), one entry per block of its schedule."""
    padded, out, ndim = geom.padded, geom.out_spatial, geom.ndim
    row_strides = [math.prod(padded[i + 1:]) for i in range(ndim)]  # in elements
    offsets = tuple(
        sum(k * d * s for k, d, s in zip(ks, geom.dilation, row_strides, strict=True))
        for ks in itertools.product(*(range(k) for k in geom.kernel))
    )
    sched = schedule(geom)
    blocks, workspace = [], sched.workspace
    for block in sched.blocks:
        samples, rows = block.shape[0], block.rows.stop - block.rows.start
        length = flat_run(geom, rows)
        wide = (samples, geom.c_out, rows, *padded[1:])
        blocks.append(FlatBlock(block.rows.start * row_strides[0], length, wide))
        workspace = max(workspace, samples * geom.c_in * len(offsets) * length + math.prod(wide))
    real = (slice(None),) * 3 + tuple(slice(0, o) for o in out[1:])
    return FlatLayout(offsets, padded[1:] != out[1:], real, tuple(blocks), workspace)


def col2im_flat(grad_xp: np.ndarray, dy: np.ndarray, wmat_t: np.ndarray, work: np.ndarray,
                block: Block, fb: FlatBlock, flat: FlatLayout, geom: Geometry) -> None:
    """Stride 1: the column gradients of one block, added onto ``grad_xp`` in place.

    grad_xp : ndarray, shape (N, C_in, *padded); dy : ndarray, shape (N, C_out, *out)
    wmat_t : ndarray, shape (groups, taps, C_out_g); ``work`` is free workspace.

    With the deltas laid out wide, ``W.T @ dy`` gives the column gradients of a contiguous
    run of flat positions; kernel offset ``k`` adds them to ``flat[start + offsets[k]:]``.
    """
    samples, g, taps = fb.wide[0], geom.groups, wmat_t.shape[1]
    size = samples * g * taps * fb.length
    grad_cols = work[:size].reshape(samples, g, taps, fb.length)
    deltas = dy[block.samples, :, block.rows]
    if flat.virtual:
        wide = work[size: size + math.prod(fb.wide)].reshape(fb.wide)
        wide.fill(0)
        wide[flat.real] = deltas
        deltas = wide
    deltas = deltas.reshape(samples, g, geom.c_out_group, -1)[..., : fb.length]
    np.matmul(wmat_t, deltas, out=grad_cols)
    grad_cols = grad_cols.reshape(samples, geom.c_in, len(flat.offsets), fb.length)
    target = grad_xp.reshape(*grad_xp.shape[:2], -1)[block.samples]
    for i, offset in enumerate(flat.offsets):
        dest = target[:, :, fb.start + offset: fb.start + offset + fb.length]
        dest += grad_cols[:, :, i]
