"""PyTorch as an independent oracle for pooling, ReLU, linear, softmax cross-entropy and the
digits network: every result and gradient of the engine against ``torch.nn.functional``'s
(CPU, float64), over random geometry. Not a test dependency: run it where torch imports::

    python bench/torch_layers.py              # 3,000 random pools, the layers, the network
    python bench/torch_layers.py --pools 300  # a quicker look

Pools are drawn in 1, 2 and 3 spatial dimensions with every parameter (kernel, stride or
none, padding up to half the kernel, dilation, ceil_mode, count_include_pad) over small
integers, so ties are everywhere and PyTorch's tie rule is what is checked. Each is also
sent to both, and the two must agree on *whether* it is valid, with one known exception:
``avg_pool3d`` alone also refuses a kernel larger than the *unpadded* input ("input image
... smaller than kernel size"), which ``avg_pool1d`` and ``avg_pool2d`` accept; the engine
takes those 3-D pools as the 1-D and 2-D ones (they are counted, not failed). A max-pool
window of padding alone is -inf in both, but PyTorch's backward then writes to an index
outside the input (its running argmax starts at the first tap, which is padding), so such
geometries are compared forward only.

Prints one line per family with the worst relative difference and exits non-zero when any
differs by more than 1e-12 or validity disagrees.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engine import (
    ConvolutionError,
    avg_pool,
    avg_pool_backward,
    max_pool,
    max_pool_backward,
)
from app.engine.layers import (
    linear,
    linear_backward,
    relu,
    relu_backward,
    softmax_cross_entropy,
)
from app.engine.network import Network

TOLERANCE = 1e-12


def relative(ours: np.ndarray, theirs: torch.Tensor | np.ndarray) -> float:
    t = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    scale = max(float(np.abs(t).max(initial=0)), 1e-30)
    return float(np.abs(np.asarray(ours) - t).max(initial=0)) / scale


def random_pool(rng: np.random.Generator) -> tuple[str, np.ndarray, dict]:
    nd = int(rng.integers(1, 4))
    kind = str(rng.choice(["max", "avg"]))
    kernel = [int(k) for k in rng.integers(1, 5, nd)]
    params: dict = {"kernel_size": kernel, "ceil_mode": bool(rng.integers(0, 2))}
    if rng.integers(0, 2):
        params["stride"] = [int(s) for s in rng.integers(1, 4, nd)]
    # padding up to one past half the kernel, so both must refuse some
    params["padding"] = [int(rng.integers(0, k // 2 + 2)) for k in kernel]
    if kind == "max":
        params["dilation"] = [int(d) for d in rng.integers(1, 3, nd)]
    else:
        params["count_include_pad"] = bool(rng.integers(0, 2))
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)),
             *(int(i) for i in rng.integers(1, 8, nd)))
    return kind, rng.integers(-3, 4, shape).astype(np.float64), params


def check_pools(count: int, rng: np.random.Generator) -> tuple[float, int, int, int, int]:
    """(worst difference, compared, refused by both, avg_pool3d's extra refusals,
    validity disagreements)."""
    worst, compared, refused, known, disagree = 0.0, 0, 0, 0, 0
    for _ in range(count):
        kind, x, params = random_pool(rng)
        nd = len(params["kernel_size"])
        pool = getattr(F, f"{kind}_pool{nd}d")
        tx = torch.from_numpy(x).requires_grad_()
        try:
            ty = pool(tx, **params)
            torch_ok, why = True, ""
        except RuntimeError as error:
            torch_ok, why = False, str(error)
        ours, ours_backward = (max_pool, max_pool_backward) if kind == "max" else \
            (avg_pool, avg_pool_backward)
        kernel = params.pop("kernel_size")
        try:
            y = ours(x, kernel, **params)
            engine_ok = True
        except ConvolutionError:
            engine_ok = False
        if engine_ok and not torch_ok and nd == 3 and kind == "avg" and \
                "smaller than kernel size" in why:
            known += 1
            continue
        if torch_ok != engine_ok:
            disagree += 1
            print(f"validity differs: {kind} {kernel} {params} on {list(x.shape)}: torch "
                  f"{'accepts' if torch_ok else 'refuses'}, the engine "
                  f"{'accepts' if engine_ok else 'refuses'}")
            continue
        if not torch_ok:
            refused += 1
            continue
        t = ty.detach().numpy()
        if not np.array_equal(np.isinf(y), np.isinf(t)):
            disagree += 1
            print(f"-inf windows differ: {kind} {kernel} {params} on {list(x.shape)}")
            continue
        finite = np.isfinite(t)
        worst = max(worst, relative(y[finite], t[finite]))
        if finite.all():  # else torch's backward writes out of bounds (see the docstring)
            dy = rng.standard_normal(t.shape)
            ty.backward(torch.from_numpy(dy))
            worst = max(worst, relative(ours_backward(x, dy, kernel, **params), tx.grad))
        compared += 1
    return worst, compared, refused, known, disagree


def check_layers(rng: np.random.Generator) -> float:
    worst = 0.0
    for _ in range(50):
        n, f_in, f_out, k = (int(v) for v in rng.integers(1, 7, 4))
        x, w, b = rng.standard_normal((n, f_in)), rng.standard_normal((f_out, f_in)), \
            rng.standard_normal(f_out)
        dy = rng.standard_normal((n, f_out))
        tx, tw, tb = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
        ty = F.linear(tx, tw, tb)
        ty.backward(torch.from_numpy(dy))
        g = linear_backward(x, w, dy)
        worst = max(worst, relative(linear(x, w, b), ty), relative(g.grad_input, tx.grad),
                    relative(g.grad_weight, tw.grad), relative(g.grad_bias, tb.grad))
        r = torch.from_numpy(x).requires_grad_()
        F.relu(r).backward(torch.from_numpy(np.ones_like(x)))
        worst = max(worst, relative(relu(x), F.relu(torch.from_numpy(x))),
                    relative(relu_backward(x, np.ones_like(x)), r.grad))
        logits = rng.standard_normal((n, k)) * 10 ** rng.integers(0, 4)
        labels = rng.integers(0, k, n)
        tz = torch.from_numpy(logits).requires_grad_()
        tloss = F.cross_entropy(tz, torch.from_numpy(labels))
        tloss.backward()
        loss, grad = softmax_cross_entropy(logits, labels)
        worst = max(worst, relative(np.array(loss), tloss), relative(grad, tz.grad))
    return worst


def torch_network(net: Network) -> torch.nn.Sequential:
    """The digits network in torch, with the engine network's parameters."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32, 10)).double()
    params = dict(net.params())
    with torch.no_grad():
        for (name, value), key in zip(model.named_parameters(), params, strict=True):
            value.copy_(torch.from_numpy(params[key]))
            assert value.shape == params[key].shape, (name, key)
    return model


def check_network(rng: np.random.Generator) -> float:
    worst = 0.0
    for seed in range(5):
        net = Network.digits(seed=seed)
        model = torch_network(net)
        x = rng.standard_normal((6, 1, 8, 8))
        labels = rng.integers(0, 10, 6)
        for _ in range(3):  # and after a few steps, each side stepping itself
            loss, grads = net.gradients(x, labels)
            model.zero_grad()
            logits = model(torch.from_numpy(x))
            tloss = F.cross_entropy(logits, torch.from_numpy(labels))
            tloss.backward()
            worst = max(worst, relative(net.activations[-1], logits),
                        relative(np.array(loss), tloss))
            for (_, value), tparam in zip(grads.items(), model.parameters(), strict=True):
                worst = max(worst, relative(value, tparam.grad))
            net.step(grads, 0.1)
            with torch.no_grad():
                for tparam in model.parameters():
                    tparam -= 0.1 * tparam.grad
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=3000, help="random pools to compare")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = np.random.default_rng(args.seed)
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    worst_pool, compared, refused, known, disagree = check_pools(args.pools, rng)
    print(f"pools: {compared} compared (and {refused} refused by both, {known} refused by "
          f"avg_pool3d alone for a kernel past the unpadded input), worst relative "
          f"difference {worst_pool:.1e}, validity disagreements {disagree}")
    worst_layers = check_layers(rng)
    print(f"relu, linear, cross-entropy: worst relative difference {worst_layers:.1e}")
    worst_net = check_network(rng)
    print(f"digits network (logits, loss, every gradient, 3 SGD steps x 5 seeds): worst "
          f"relative difference {worst_net:.1e}")
    ok = disagree == 0 and max(worst_pool, worst_layers, worst_net) <= TOLERANCE
    print("agree" if ok else "DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
