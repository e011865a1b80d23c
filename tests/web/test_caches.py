"""What a page keeps between requests is bounded: the last few scenes, and in each only the
latest trace steps. A player stepping through every step of big scenes does not make the
server grow with it."""

from __future__ import annotations

import tracemalloc

import httpx

from app.web import scenes


def _grid(seed: int, side: int) -> str:
    return ";".join(",".join(str((r * c + seed) % 7 - 3) for c in range(side))
                    for r in range(side))


def test_stepping_through_every_step_of_big_scenes_keeps_little(client: httpx.Client):
    """Two 32x32 scenes with a 9x9 kernel, 400 of their steps asked for as the player asks
    (a step fragment with ``prev``): all those records kept would be over 3 MB a scene
    (8 KB each), 8 MB in all; the latest RECORDS_KEPT and the scenes measured 2.6 MB, of
    which ~0.7 MB is the standard library's own bounded caches of these long URLs."""
    kernel = _grid(0, 9)
    client.get("/2d")  # templates and the first imports, before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for seed in (1, 2):
            url = f"/2d?x={_grid(seed, 32)}&w={kernel}&padding=4"
            assert client.get(url).status_code == 200
            for step in range(1, 401):
                reply = client.get(f"{url}&step={step}&prev={step - 1}",
                                   headers={"HX-Request": "true"})
                assert reply.status_code == 200
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4 * (1 << 20), kept
    assert len(scenes._built) <= scenes.SCENES_KEPT
