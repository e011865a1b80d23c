"""PyTorch as an independent oracle for the transposed convolution (not a test dependency).

Run from the repository root with a Python that has torch (a separate venv is fine: the
engine needs NumPy only)::

    /path/to/torch-venv/bin/python bench/transposed_oracle.py            # 2,000 cases
    /path/to/torch-venv/bin/python bench/transposed_oracle.py --cases 200

Random geometries in 1, 2 and 3 spatial dimensions with every parameter (batch, empty batch,
unbatched input, channels, groups, kernel, stride, padding, output_padding below the stride
or the dilation, dilation, bias), in float64 and float32. For each, ``conv_transpose`` and
``conv_transpose_backward`` against ``torch.nn.functional.conv_transpose{1,2,3}d`` and
autograd: the largest difference over the output and the three gradients, relative to the
largest magnitude of each (in float32, to at least 1: the terms' own scale).

Geometries PyTorch refuses must be refused here too. PyTorch 2.13 is not consistent with
itself in two ways, and the engine refuses both, as PyTorch's float64 path with a non-empty
batch does: in float32 it returns an empty tensor for an output size of 0 ("Output size is
too small" in float64), and with an empty batch (N = 0) it checks neither the output size
nor output_padding. The summary counts those apart.
Prints a summary and exits non-zero on any other disagreement.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engine import ConvolutionError, conv_transpose, conv_transpose_backward

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def draw_case(rng: np.random.Generator) -> dict:
    ndim = int(rng.integers(1, 4))
    groups = int(rng.integers(1, 4))
    stride = [int(v) for v in rng.integers(1, 5, ndim)]
    dilation = [int(v) for v in rng.integers(1, 4, ndim)]
    return {
        "ndim": ndim, "n": int(rng.choice([0, 1, 2, 3])), "batched": bool(rng.random() < 0.8),
        "c_in": groups * int(rng.integers(1, 4)), "c_out_group": int(rng.integers(1, 4)),
        "spatial": [int(v) for v in rng.integers(1, 6 if ndim < 3 else 4, ndim)],
        "kernel": [int(v) for v in rng.integers(1, 5 if ndim < 3 else 3, ndim)],
        "bias": bool(rng.random() < 0.5),
        "params": {
            "stride": stride, "dilation": dilation, "groups": groups,
            "padding": [int(v) for v in rng.integers(0, 4, ndim)],
            # mostly valid (below the stride or the dilation), sometimes not, to compare
            # the refusals
            "output_padding": [int(rng.integers(0, max(s, d) + (rng.random() < 0.1)))
                               for s, d in zip(stride, dilation, strict=True)],
        },
    }


def relative_error(ours: np.ndarray, theirs: torch.Tensor, floor: float) -> float:
    """Largest |difference| over the largest |value|, that at least ``floor``: every array
    is made of O(1) terms, and a float32 sum of them that cancels to 0.001 is exact to
    ~1e-7 of the terms, not of the result (both libraries miss such a bias gradient by
    ~1e-5 of it)."""
    t = theirs.detach().numpy()
    if t.size == 0:
        return 0.0
    scale = max(float(np.abs(t).max()), floor)
    return float(np.abs(ours.astype(np.float64) - t).max() / scale)


def check(case: dict, dtype: type, rng: np.random.Generator) -> tuple[str, float]:
    """``("agree", error)``, ``("both refuse", 0)``, or a disagreement."""
    ndim, params = case["ndim"], case["params"]
    x_shape = (case["n"], case["c_in"], *case["spatial"]) if case["batched"] else \
        (case["c_in"], *case["spatial"])
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((case["c_in"], case["c_out_group"], *case["kernel"])).astype(dtype)
    b = rng.standard_normal(case["c_out_group"] * params["groups"]).astype(dtype) \
        if case["bias"] else None
    function = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[ndim - 1]
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    try:
        ty = function(tx, tw, tb, **params)
        torch_error = None
    except RuntimeError as exc:
        torch_error = str(exc).splitlines()[0]
    try:
        y = conv_transpose(x, w, b, **params)
        ours_error = None
    except ConvolutionError as exc:
        ours_error = f"{exc.field}: {exc}"
    if torch_error is not None or ours_error is not None:
        if torch_error is not None and ours_error is not None:
            return "both refuse", 0.0
        if ours_error is not None and "Output size is too small" in ours_error and \
                0 in ty.shape[-ndim:]:
            return "torch returns an empty output (its float64 path refuses it); refused " \
                   "here", 0.0
        if ours_error is not None and case["n"] == 0 and case["batched"]:
            return "torch skips its checks for an empty batch; refused here", 0.0
        return f"DISAGREE: torch {torch_error!r}, engine {ours_error!r}", float("inf")
    if y.shape != tuple(ty.shape) or y.dtype != dtype:
        return f"DISAGREE: shape {y.shape} {y.dtype} vs {tuple(ty.shape)}", float("inf")
    dy = rng.standard_normal(y.shape).astype(dtype)
    g = conv_transpose_backward(x, w, dy, **params)
    wanted = [tx, tw] + ([] if tb is None else [tb])
    if ty.numel():
        grads = torch.autograd.grad(ty, wanted, torch.tensor(dy), allow_unused=True)
    else:
        grads = [torch.zeros_like(t) for t in wanted]
    pairs = [(y, ty), (g.grad_input, grads[0]), (g.grad_weight, grads[1])]
    if tb is not None:
        pairs.append((g.grad_bias, grads[2]))
    floor = 1.0 if dtype == np.float32 else 1e-30
    return "agree", max(relative_error(ours, theirs, floor) for ours, theirs in pairs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    torch.set_num_threads(1)
    outcomes: dict[str, int] = {}
    worst = {np.float64: 0.0, np.float32: 0.0}
    failures = []
    for i in range(args.cases):
        case = draw_case(rng)
        for dtype in (np.float64, np.float32):
            outcome, error = check(case, dtype, rng)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome.startswith("DISAGREE") or error > TOLERANCE[dtype]:
                failures.append((i, dtype.__name__, case, outcome, error))
            elif outcome == "agree":
                worst[dtype] = max(worst[dtype], error)
    print(f"torch {torch.__version__}, numpy {np.__version__}: {args.cases} geometries x "
          "(float64, float32)")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:5d}  {outcome}")
    print(f"largest relative difference: float64 {worst[np.float64]:.1e}, "
          f"float32 {worst[np.float32]:.1e}")
    for failure in failures[:10]:
        print("  FAIL", failure)
    print(f"{len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
