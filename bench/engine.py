"""Benchmark of the vectorised engine against the naive loops, SciPy and PyTorch (CPU).

Run from the repository root::

    .venv/bin/python bench/engine.py              # full run (a few minutes)
    .venv/bin/python bench/engine.py --quick      # fewer repeats, for a first look
    .venv/bin/python bench/engine.py --markdown   # the same table as Markdown
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/engine.py --torch-threads 1   # one core

Rows whose label starts with "transposed" time ``conv_transpose`` and
``conv_transpose_backward`` against ``torch.nn.functional.conv_transpose{1,2,3}d`` (weight
``(C_in, C_out, *kernel)``); the others the convolution.

For every size, dtype (float64, float32) and pass ("fwd" = forward with bias, "fwd+bwd" =
forward then all three gradients; for the pooling rows, ``max_pool``/``avg_pool`` then the
input gradient, against ``torch.nn.functional.max_pool2d``/``avg_pool2d`` and autograd) it
prints the median time of the engine and of each reference, and the ratio engine /
reference, all measured in the same run. Repeats are
interleaved (engine, reference, reference, engine, ...) so that clock and cache drift hit
every contender alike; each sample loops a call enough times to last a few milliseconds.

References:

- naive: ``app.engine.naive``, the definition as plain loops (small sizes only);
- scipy: ``scipy.signal.correlate`` / ``convolve`` (single-channel sizes only); its backward
  is ``convolve(dy, w, "full")`` for the input and ``correlate(x, dy, "valid")`` for the weight;
- torch: ``torch.nn.functional.conv{1,2,3}d`` with ``torch.set_num_threads(2)`` (or
  ``--torch-threads``), when torch is importable. Its forward+backward is the faster of
  autograd (``torch.autograd.grad``) and a no-grad forward plus
  ``torch.ops.aten.convolution_backward``; both are measured and the table names the winner.

The "err" column is the largest difference from PyTorch's result over the output and the three
gradients, relative to the largest magnitude of each: ~1e-15 in float64, ~1e-7 in float32.
The "target" column shows the engine/torch ratio this size is expected to meet.

Two threads (NumPy's OpenBLAS and torch both) are the default. The script sets
``OPENBLAS_THREAD_TIMEOUT=4`` unless it is set already (see the comment at the imports):
without it OpenBLAS's idle, spinning workers starve torch's and the torch column comes out up
to 10x too slow. On a machine where other work holds a core, multi-threaded BLAS and OpenMP
still stall for milliseconds; the header prints the load average so such runs can be spotted,
and one thread each (the last command above) gives steadier ratios.

Environment: apart from that timeout the script leaves the environment as it finds it, and
prints the BLAS NumPy uses.
On some machines ``OPENBLAS_CORETYPE`` (which forces OpenBLAS to use the kernels of the named
CPU, e.g. ``Haswell``, instead of detecting the CPU) and ``OPENBLAS_L2_SIZE`` (the L2 cache
size OpenBLAS assumes when blocking its matrix products) are set, because older OpenBLAS
builds compute wrong results or crash on those processors. Both slow a current NumPy; to
measure without them, unset both in the command alone
(``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python bench/engine.py``) and check
the "core" the header then reports. Change neither in tests or CI.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# OpenBLAS's idle workers spin for about 2**28 cycles (~0.1 s) after every call, and torch's
# OpenMP workers spin too: interleaved in one process on two cores, each pool's spinning
# starves the other and the two-thread timings swing by 10x. A short timeout (2**4 cycles)
# puts OpenBLAS's workers to sleep at once; it must be set before NumPy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.engine import (
    avg_pool,
    avg_pool_backward,
    backward,
    conv_transpose,
    conv_transpose_backward,
    forward,
    max_pool,
    max_pool_backward,
)
from app.engine.naive import (
    backward_naive,
    conv_transpose_backward_naive,
    conv_transpose_naive,
    forward_naive,
)

try:
    import scipy.signal
except ImportError:  # pragma: no cover - SciPy is a test dependency
    scipy = None

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

TORCH_THREADS = 2  # default of --torch-threads


@dataclass(frozen=True)
class Size:
    """One benchmark row: input (N, C_in, *spatial), weight (C_out, C_in, *kernel), or for
    a transposed convolution (C_in, C_out, *kernel)."""

    label: str
    group: str  # "visualizer", "large" or "transposed"
    n: int
    c_in: int
    c_out: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: int = 1
    padding: int = 0
    naive: bool = False  # small enough for the plain loops
    op: str = "conv"  # or "transposed"

    @property
    def single_channel(self) -> bool:
        return self.n == 1 and self.c_in == 1 and self.c_out == 1 and self.padding == 0 \
            and self.stride == 1 and self.op == "conv"

    @property
    def weight_shape(self) -> tuple[int, ...]:
        channels = (self.c_in, self.c_out) if self.op == "transposed" else \
            (self.c_out, self.c_in)
        return (*channels, *self.kernel)


SIZES = (
    Size("1D 256 k9", "visualizer", 1, 1, 1, (256,), (9,), naive=True),
    Size("2D 28x28 k3", "visualizer", 1, 1, 1, (28, 28), (3, 3), naive=True),
    Size("2D 3->8 64x64 k3", "visualizer", 1, 3, 8, (64, 64), (3, 3)),
    Size("3D 1->4 16^3 k3", "visualizer", 1, 1, 4, (16, 16, 16), (3, 3, 3)),
    Size("2D N8 16->32 64x64 k3 p1", "large", 8, 16, 32, (64, 64), (3, 3), padding=1),
    Size("2D 3->16 224x224 k5 s2", "large", 1, 3, 16, (224, 224), (5, 5), stride=2),
    Size("1D N16 8->16 4096 k31", "large", 16, 8, 16, (4096,), (31,)),
    # issue 16's sizes: an MNIST-sized map upsampled, and a DCGAN generator's layer
    Size("transposed 2D 28x28 k3 s2", "transposed", 1, 1, 1, (28, 28), (3, 3), stride=2,
         naive=True, op="transposed"),
    Size("transposed 2D N8 32->16 32x32 k4 s2 p1", "transposed", 8, 32, 16, (32, 32), (4, 4),
         stride=2, padding=1, op="transposed"),
)



@dataclass(frozen=True)
class PoolSize:
    """One pooling row: input (N, C, *spatial), ``kind`` "max" or "avg", the kernel (and,
    by default, the stride)."""

    label: str
    kind: str
    n: int
    c: int
    spatial: tuple[int, ...]
    kernel: int
    group: str = "pool"


POOL_SIZES = (
    PoolSize("max_pool 2D N8 C16 64x64 k2", "max", 8, 16, (64, 64), 2),
    PoolSize("avg_pool 2D N8 C16 64x64 k2", "avg", 8, 16, (64, 64), 2),
)

# engine / torch ratios the engine is expected to meet: (group, pass) -> {dtype: ratio}
TARGETS = {
    ("pool", "fwd"): {"float64": 1.5},
    ("pool", "fwd+bwd"): {"float64": 1.5},
    ("visualizer", "fwd+bwd"): {"float64": 1.0, "float32": 1.0},
    ("large", "fwd"): {"float64": 0.75, "float32": 1.5},
    ("large", "fwd+bwd"): {"float64": 0.75, "float32": 1.5},
    ("transposed", "fwd"): {"float64": 1.5},
    ("transposed", "fwd+bwd"): {"float64": 1.5},
}


@dataclass
class Contender:
    """A callable being timed, with its samples (seconds per call)."""

    name: str
    call: Callable[[], object]
    max_samples: int
    per_sample: int = 1
    times: list[float] = field(default_factory=list)

    def calibrate(self, sample_seconds: float) -> None:
        """Warm up, then choose how many calls one sample loops over."""
        self.call()
        start = time.perf_counter()
        self.call()
        once = time.perf_counter() - start
        self.per_sample = max(1, min(10_000, math.ceil(sample_seconds / max(once, 1e-7))))

    def sample(self) -> None:
        call, loops = self.call, self.per_sample
        start = time.perf_counter()
        for _ in range(loops):
            call()
        self.times.append((time.perf_counter() - start) / loops)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def measure(contenders: list[Contender], sample_seconds: float) -> None:
    """Interleaved samples: each round takes one sample of every contender still short."""
    for c in contenders:
        c.calibrate(sample_seconds)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_ in range(max(c.max_samples for c in contenders)):
            for c in contenders:
                if round_ < c.max_samples:
                    c.sample()
    finally:
        if gc_was_enabled:
            gc.enable()


# ----------------------------------------------------------------------------- contenders


def make_arrays(size: Size, dtype: np.dtype, rng: np.random.Generator):
    """x (N, C_in, *spatial), w (C_out, C_in, *kernel), b (C_out,), dy (N, C_out, *out)."""
    x = rng.standard_normal((size.n, size.c_in, *size.spatial)).astype(dtype)
    w = rng.standard_normal(size.weight_shape).astype(dtype)
    b = rng.standard_normal(size.c_out).astype(dtype)
    run = conv_transpose if size.op == "transposed" else forward
    y = run(x, w, b, stride=size.stride, padding=size.padding)
    dy = rng.standard_normal(y.shape).astype(dtype)
    return x, w, b, dy


def engine_calls(size: Size, x, w, b, dy, naive: bool = False):
    """The engine's forward, and forward+backward (the naive loops' with ``naive``)."""
    params = {"stride": size.stride, "padding": size.padding}
    if size.op == "transposed":
        run, grad = (conv_transpose_naive, conv_transpose_backward_naive) if naive else \
            (conv_transpose, conv_transpose_backward)
    else:
        run, grad = (forward_naive, backward_naive) if naive else (forward, backward)

    def fwd():
        return run(x, w, b, **params)

    def fwd_bwd():
        return run(x, w, b, **params), grad(x, w, dy, **params)

    return fwd, fwd_bwd


def naive_calls(size: Size, x, w, b, dy):
    return engine_calls(size, x, w, b, dy, naive=True)


def scipy_calls(x, w, b, dy):
    """Single channel: x (1, 1, *S), w (1, 1, *K), dy (1, 1, *O)."""
    x0, w0, b0, dy0 = x[0, 0], w[0, 0], b[0], dy[0, 0]
    correlate, convolve = scipy.signal.correlate, scipy.signal.convolve

    def fwd():
        return correlate(x0, w0, mode="valid") + b0

    def fwd_bwd():
        y = correlate(x0, w0, mode="valid") + b0
        return y, convolve(dy0, w0, mode="full"), correlate(x0, dy0, mode="valid"), dy0.sum()

    return fwd, fwd_bwd


def torch_calls(size: Size, x, w, b, dy):
    """Forward, and the two forward+backward paths (autograd, aten.convolution_backward)."""
    nd = len(size.spatial)
    transposed = size.op == "transposed"
    conv = ((F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d) if transposed else
            (F.conv1d, F.conv2d, F.conv3d))[nd - 1]
    tx, tw, tb, tdy = (torch.from_numpy(a) for a in (x, w, b, dy))
    gx, gw, gb = (t.clone().requires_grad_() for t in (tx, tw, tb))
    stride, padding = [size.stride] * nd, [size.padding] * nd

    def fwd():
        with torch.no_grad():
            return conv(tx, tw, tb, stride=stride, padding=padding)

    def fwd_bwd_autograd():
        y = conv(gx, gw, gb, stride=stride, padding=padding)
        return y, torch.autograd.grad(y, (gx, gw, gb), tdy)

    def fwd_bwd_aten():
        with torch.no_grad():
            y = conv(tx, tw, tb, stride=stride, padding=padding)
            grads = torch.ops.aten.convolution_backward(
                tdy, tx, tw, [size.c_out], stride, padding, [1] * nd, transposed, [0] * nd, 1,
                [True, True, True],
            )
        return y, grads

    return fwd, fwd_bwd_autograd, fwd_bwd_aten


def pool_calls(size: PoolSize, x, dy):
    """The engine's pool: forward, and forward then the input gradient."""
    pool, pool_backward = (max_pool, max_pool_backward) if size.kind == "max" else \
        (avg_pool, avg_pool_backward)

    def fwd():
        return pool(x, size.kernel)

    def fwd_bwd():
        return pool(x, size.kernel), pool_backward(x, dy, size.kernel)

    return fwd, fwd_bwd


def torch_pool_calls(size: PoolSize, x, dy):
    """torch's pool: forward (no grad), and forward+backward through autograd."""
    nd = len(size.spatial)
    pool = getattr(F, f"{size.kind}_pool{nd}d")
    tx, tdy = torch.from_numpy(x), torch.from_numpy(dy)
    gx = tx.clone().requires_grad_()

    def fwd():
        with torch.no_grad():
            return pool(tx, size.kernel)

    def fwd_bwd():
        y = pool(gx, size.kernel)
        return y, torch.autograd.grad(y, (gx,), tdy)

    return fwd, fwd_bwd


def pool_rows(size: PoolSize, samples: int, sample_seconds: float,
              rng: np.random.Generator) -> list[list[str]]:
    """The table rows of one pooling size, both dtypes and both passes."""
    rows = []
    for dtype in (np.float64, np.float32):
        x = rng.standard_normal((size.n, size.c, *size.spatial)).astype(dtype)
        out = tuple(i // size.kernel for i in size.spatial)
        dy = rng.standard_normal((size.n, size.c, *out)).astype(dtype)
        engine = pool_calls(size, x, dy)
        tc = torch_pool_calls(size, x, dy) if torch is not None else None
        err = "-"
        if tc is not None:
            y, gx = engine[1]()
            ty, (tgx,) = tc[1]()
            err = f"{relative_error((y, gx), (ty, tgx)):.0e}"
        for i, pass_ in enumerate(("fwd", "fwd+bwd")):
            eng = Contender("engine", engine[i], samples)
            contenders = [eng]
            if tc is not None:
                ref = Contender("autograd" if i else "torch", tc[i], samples)
                contenders.append(ref)
            measure(contenders, sample_seconds)
            torch_t = contenders[1].median if tc is not None else None
            target = TARGETS.get((size.group, pass_), {}).get(np.dtype(dtype).name)
            target_cell = "-" if target is None or torch_t is None else \
                f"<={target:g} " + ("ok" if eng.median / torch_t <= target else "MISS")
            torch_cell = fmt_time(torch_t) + (" (autograd)" if i and torch_t else "")
            rows.append([size.label, np.dtype(dtype).name, pass_, fmt_time(eng.median),
                         torch_cell, fmt_ratio(eng.median, torch_t), target_cell,
                         "-", "-", "-", "-", err])
    return rows


def relative_error(ours, theirs) -> float:
    """Largest |difference| over the largest |value|, worst over the arrays given."""
    worst = 0.0
    for a, t in zip(ours, theirs, strict=True):
        t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
        scale = max(float(np.abs(t).max()), 1e-30)
        worst = max(worst, float(np.abs(np.asarray(a, dtype=np.float64) - t).max()) / scale)
    return worst


# ----------------------------------------------------------------------------- reporting


def blas_info() -> list[str]:
    """NumPy's BLAS as built, the kernel it runs (OpenBLAS only) and the relevant env vars."""
    lines = []
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        lines.append(f"numpy {np.__version__}: BLAS {blas.get('name')} {blas.get('version')}")
    except (AttributeError, KeyError, TypeError):
        lines.append(f"numpy {np.__version__}: BLAS unknown")
    core = _openblas_runtime()
    if core:
        lines.append(f"OpenBLAS at run time: {core}")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OPENBLAS_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT",
                                          "OMP_NUM_THREADS")}
    lines.append("env: " + ", ".join(f"{k}={v if v is not None else '(unset)'}"
                                      for k, v in env.items()))
    return lines


def _openblas_runtime() -> str | None:
    """Core and thread count of the OpenBLAS loaded in this process, read through ctypes."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return None
    paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps)))
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            try:
                corename = getattr(lib, f"{prefix}_get_corename{suffix}")
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = ctypes.c_char_p
            return f"core {corename().decode()}, {threads()} threads ({Path(path).name})"
    return None


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f}us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f}ms"
    return f"{seconds:.2f}s"


def fmt_ratio(ours: float, theirs: float | None) -> str:
    return "-" if theirs is None else f"{ours / theirs:.2f}"


def render(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 3 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


# ----------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> None:
    samples, naive_samples, sample_seconds = (5, 1, 0.01) if args.quick else (21, 3, 0.02)
    if torch is not None:
        torch.set_num_threads(args.torch_threads)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    rng = np.random.default_rng(0)
    header = ["size", "dtype", "pass", "engine", "torch", "x torch", "target", "scipy",
              "x scipy", "naive", "x naive", "err"]
    rows = []
    for size in SIZES:
        if args.only and args.only.lower() not in size.label.lower():
            continue
        for dtype in (np.float64, np.float32):
            x, w, b, dy = make_arrays(size, np.dtype(dtype), rng)
            engine = engine_calls(size, x, w, b, dy)
            naive = naive_calls(size, x, w, b, dy) if size.naive and not args.no_naive else None
            sp = scipy_calls(x, w, b, dy) if size.single_channel and scipy else None
            tc = torch_calls(size, x, w, b, dy) if torch is not None else None
            err = "-"
            if tc is not None:
                y, (gx, gw, gb) = engine[1]()
                ty, tgrads = tc[2]()
                err = f"{relative_error((y, gx, gw, gb), (ty, *tgrads)):.0e}"
            for pass_ in ("fwd", "fwd+bwd"):
                i = 0 if pass_ == "fwd" else 1
                eng = Contender("engine", engine[i], samples)
                refs = {}
                if tc is not None:
                    if pass_ == "fwd":
                        refs["torch"] = [Contender("torch", tc[0], samples)]
                    else:
                        refs["torch"] = [Contender("autograd", tc[1], samples),
                                         Contender("aten", tc[2], samples)]
                if sp is not None:
                    refs["scipy"] = [Contender("scipy", sp[i], samples)]
                if naive is not None:
                    refs["naive"] = [Contender("naive", naive[i], naive_samples)]
                measure([eng, *(c for cs in refs.values() for c in cs)], sample_seconds)
                ours = eng.median
                best = {k: min(cs, key=lambda c: c.median) for k, cs in refs.items()}
                torch_t = best["torch"].median if "torch" in best else None
                target = TARGETS.get((size.group, pass_), {}).get(np.dtype(dtype).name)
                if target is None or torch_t is None:
                    target_cell = "-"
                else:
                    target_cell = f"<={target:g} " + ("ok" if ours / torch_t <= target else "MISS")
                torch_cell = fmt_time(torch_t)
                if pass_ == "fwd+bwd" and "torch" in best:
                    torch_cell += f" ({best['torch'].name})"
                rows.append([
                    size.label, np.dtype(dtype).name, pass_, fmt_time(ours),
                    torch_cell, fmt_ratio(ours, torch_t), target_cell,
                    fmt_time(best["scipy"].median if "scipy" in best else None),
                    fmt_ratio(ours, best["scipy"].median if "scipy" in best else None),
                    fmt_time(best["naive"].median if "naive" in best else None),
                    fmt_ratio(ours, best["naive"].median if "naive" in best else None),
                    err,
                ])
    for pool_size in POOL_SIZES:
        if args.only and args.only.lower() not in pool_size.label.lower():
            continue
        rows.extend(pool_rows(pool_size, samples, sample_seconds, rng))
    info = blas_info()
    if torch is not None:
        info.append(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        info.append("torch not importable: no torch column")
    info.append(f"median of {samples} interleaved samples ({naive_samples} for naive); "
                "ratio = engine / reference")
    if hasattr(os, "getloadavg"):
        info.append("load average before / after: " + " / ".join(
            ", ".join(f"{v:.2f}" for v in load) for load in (load_before, os.getloadavg())))
    out = sys.stdout
    for line in info:
        out.write(("- " if args.markdown else "") + line + "\n")
    out.write("\n" + render(header, rows, args.markdown) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--only", metavar="TEXT", help="only sizes whose label contains TEXT")
    parser.add_argument("--no-naive", action="store_true", help="skip the plain loops")
    parser.add_argument("--torch-threads", type=int, default=TORCH_THREADS, metavar="N",
                        help=f"torch.set_num_threads (default {TORCH_THREADS})")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
