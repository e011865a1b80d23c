"""What every page does with a view: build its scene, or say why there is none."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ..engine import ConvolutionError
from ..engine.geometry import size_formulas

Scene = TypeVar("Scene")


def explain(build: Callable[[object], Scene], view) -> tuple[Scene | None, str | None, list[str]]:
    """The scene, or the engine's reason it cannot exist (with the size formulas, filled in,
    when the parameters allow writing them)."""
    try:
        return build(view), None, []
    except ConvolutionError as exc:
        try:
            formulas = size_formulas(np.shape(view.input_values), np.shape(view.kernel_values),
                                     stride=view.stride, padding=view.padding,
                                     dilation=view.dilation)
        except ConvolutionError:
            formulas = []
        return None, exc.message, formulas
