"""What every page does with a view: build its scene, or say why there is none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import TypeVar

from ..engine import ConvolutionError
from ..engine.geometry import size_formulas

Scene = TypeVar("Scene")


@lru_cache(maxsize=64)
def _built(build: Callable[[object], Scene], view) -> Scene:
    return build(view)


def explain(build: Callable[[object], Scene], view) -> tuple[Scene | None, str | None, list[str]]:
    """The scene at the view's step, or the engine's reason it cannot exist (with the size
    formulas, filled in, when the parameters allow writing them).

    A scene does not depend on the step, the speed or projector mode, so the last few are
    kept: a player stepping through one scene pays for its own step only.
    """
    try:
        scene = _built(build, replace(view, step=0, speed=type(view).speed, projector=False))
        return scene.at(view.step), None, []
    except ValueError as exc:  # ConvolutionError, or a δ or target of the wrong size
        if not isinstance(exc, ConvolutionError):
            return None, str(exc), []
        try:
            formulas = size_formulas(*view.sizes(), stride=view.stride, padding=view.padding,
                                     dilation=view.dilation)
        except ConvolutionError:
            formulas = []
        return None, exc.message, formulas
