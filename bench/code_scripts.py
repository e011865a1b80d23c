"""The pages' scripts (``?format=numpy`` / ``?format=torch``): their size and cost at the page
limits, and the PyTorch scripts checked against the engine.

Run from the repository root::

    .venv/bin/python bench/code_scripts.py                # sizes and times at the limits
    CONVSCOPE_TORCH_PYTHON=/path/to/python-with-torch \\
        .venv/bin/python bench/code_scripts.py --torch    # + every torch script checked

Why the torch check lives here and not in ``tests/``: PyTorch is not in the test extra. From
the default index a Linux wheel of torch is 555 MB and pulls the CUDA packages
(``cuda-toolkit``, ``nvidia-cudnn-cu13``, ``nvidia-nccl-cu13``, ``triton``... several GB); the
CPU-only wheels live on PyTorch's own index only. CI does not install that, and a test that
cannot run in CI is not in the suite (nothing is skipped there). ``make torch-check`` runs
this with the Python ``CONVSCOPE_TORCH_PYTHON`` names; it exits 1 on any mismatch.

The torch check runs the same cases as ``tests/web/test_code.py`` (the engine's numbers
computed there from the same values, by the engine's own functions), against a live server.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from tests.conftest import LiveServer
from tests.web.test_code import CASES, check, run

#: the largest scripts a page can ask for, at the default limits (app/config.py)
LARGEST = {
    "2d, 32x32, 9x9 kernel, padding 4":
        "/2d?x=" + ";".join(",".join(str((r * 32 + c) % 17 - 8) for c in range(32))
                            for r in range(32))
        + "&w=" + ";".join(",".join(str((r + c) % 5 - 2.5) for c in range(9)) for r in range(9))
        + "&padding=4",
    "1d, 400 samples (page_max_signal)":
        "/1d?view=discrete&x=" + ",".join(str(i % 13 / 3) for i in range(400)) + "&w=1,2,3",
    "network, its weights (fixed size)": "/network?steps=20&digit=7",
    "backprop, 500 updates (page_max_epochs)": "/backprop?preset=lesson-2d&loss=mse&epoch=500",
}


def sizes(client: httpx.Client) -> None:
    print("Largest scripts: bytes, ms to make (server), ms to run (NumPy, this Python)")
    for name, url in LARGEST.items():
        for flavour in ("numpy", "torch"):
            start = time.perf_counter()
            response = client.get(f"{url}&format={flavour}")
            made = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            line = f"  {name:<78} {flavour:<5} {len(response.content):>8,} B {made:7.1f} ms"
            if flavour == "numpy":
                start = time.perf_counter()
                run(response.text)
                line += f"  run {(time.perf_counter() - start) * 1000:7.0f} ms"
            print(line)


def torch_check(client: httpx.Client, python: str) -> bool:
    ok = True
    for case in CASES:
        url, expected = case()
        sep = "&" if "?" in url else "?"
        response = client.get(f"{url}{sep}format=torch")
        response.raise_for_status()
        start = time.perf_counter()
        try:
            check(run(response.text, python), expected)
            verdict = "ok"
        except AssertionError as exc:
            ok, verdict = False, f"MISMATCH {str(exc)[:300]}"
        print(f"  torch {case.__name__[5:]:<24} {(time.perf_counter() - start) * 1000:6.0f} ms"
              f"  {verdict}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch", action="store_true", help="check the torch scripts too")
    args = parser.parse_args()
    with LiveServer() as server, httpx.Client(base_url=server.url, timeout=120) as client:
        sizes(client)
        if args.torch:
            python = os.environ.get("CONVSCOPE_TORCH_PYTHON")
            if not python:
                print("CONVSCOPE_TORCH_PYTHON is not set: name a Python that has torch.")
                return 2
            return 0 if torch_check(client, python) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
