"""Vectorised backward pass: grad_weight by one contraction, grad_input by col2im."""

from __future__ import annotations

import itertools
import math

import numpy as np

from .arrays import pad, prepare_backward, unpad_grad, windows
from .forward import chunk_size, effective_kernel, im2col_order
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

    The other parameters mean what they mean in :func:`app.engine.forward`.
    """
    (x, w, _, geom), dy = prepare_backward(
        x, weight, grad_output, stride=stride, padding=padding, dilation=dilation,
        groups=groups, padding_mode=padding_mode, mode=mode,
    )
    n, g, ndim = x.shape[0], geom.groups, geom.ndim
    taps = geom.c_in_group * math.prod(geom.kernel)
    positions = math.prod(geom.out_spatial)

    xp = pad(x, geom)
    win = windows(xp, geom).transpose(im2col_order(ndim))
    wmat_t = effective_kernel(w, geom).reshape(g, geom.c_out_group, taps).swapaxes(1, 2)
    dymat = np.ascontiguousarray(dy).reshape(n, g, geom.c_out_group, positions)

    grad_w = np.zeros((g, geom.c_out_group, taps), dtype=x.dtype)
    grad_xp = np.zeros(xp.shape, dtype=x.dtype)
    chunk = chunk_size(geom, x.itemsize)
    cols = np.empty((chunk, *win.shape[1:]), dtype=x.dtype)
    footprint = [
        tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
              for k, d, s, o in zip(ks, geom.dilation, geom.stride, geom.out_spatial,
                                    strict=True))
        for ks in itertools.product(*(range(k) for k in geom.kernel))
    ]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        work = cols[: stop - start]
        np.copyto(work, win[start:stop])
        work_mat = work.reshape(stop - start, g, taps, positions)
        grad_w += np.matmul(dymat[start:stop], work_mat.swapaxes(2, 3)).sum(axis=0)
        # The workspace now receives the column gradients, then col2im adds them back by
        # kernel offset: each offset is one strided, in-place add over the whole chunk.
        np.matmul(wmat_t, dymat[start:stop], out=work_mat)
        flat_k = work.reshape(stop - start, geom.c_in, -1, *geom.out_spatial)
        target = grad_xp[start:stop]
        for i, window in enumerate(footprint):
            target[(slice(None), slice(None), *window)] += flat_k[:, :, i]

    grad_w = effective_kernel(grad_w.reshape(w.shape), geom)
    grad_x = unpad_grad(grad_xp, geom)
    grad_b = dy.sum(axis=(0, *range(2, 2 + ndim)))
    return Gradients(
        grad_x if geom.batched else grad_x[0], np.ascontiguousarray(grad_w), grad_b
    )
