"""What a page keeps between requests is bounded: the last few scenes, and in each only the
latest trace steps. A player stepping through every step of big scenes does not make the
server grow with it."""

from __future__ import annotations

import tracemalloc

import httpx

from app.web import scenes

OURS = [tracemalloc.Filter(True, "*/app/*")]  # what the app's own code allocated


def _grid(seed: int, side: int) -> str:
    return ";".join(",".join(str((r * c + seed) % 7 - 3) for c in range(side))
                    for r in range(side))


def _play(client: httpx.Client, seed: int, kernel: str, steps: int) -> None:
    url = f"/2d?x={_grid(seed, 32)}&w={kernel}&padding=4"
    assert client.get(url).status_code == 200
    for step in range(1, steps + 1):
        reply = client.get(f"{url}&step={step}&prev={step - 1}", headers={"HX-Request": "true"})
        assert reply.status_code == 200


def test_stepping_through_every_step_of_big_scenes_keeps_little(client: httpx.Client):
    """Two 32x32 scenes with a 9x9 kernel, 250 of their steps asked for as the player asks
    (a step fragment with ``prev``): all those records kept would be 2 MB a scene
    (8 KB each); the latest RECORDS_KEPT and the scene itself are a few hundred KB. Measured
    as what the app's own code allocated and still holds, after a first scene of the same
    shape has filled the layout caches (which have bounds of their own)."""
    kernel = _grid(0, 9)
    _play(client, 0, kernel, 40)
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot().filter_traces(OURS)
        for seed in (1, 2):
            _play(client, seed, kernel, 250)
        after = tracemalloc.take_snapshot().filter_traces(OURS)
    finally:
        tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert kept < 1 << 20, kept
    assert len(scenes._built) <= scenes.SCENES_KEPT
