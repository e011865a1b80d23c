"""The sliders beside stride, padding and dilation: the range each one spans on a page.

A slider runs from the smallest value a field takes to the largest that still teaches
something on the page's input, and one past where the scene stops fitting, so a drag can
reach a setting the page explains it cannot show (the explanation is the lesson):

- stride: 1 to the input's longest side (a stride that long leaves one output per axis);
- padding: 0 to the dilated kernel's longest extent ``D(K - 1) + 1`` (one more than "full");
- dilation: 1 to one past the largest at which the kernel still fits the unpadded input,
  ``floor((I - 1) / (K - 1)) + 1`` on the axis that allows most.

Each is at least 1 wide, at most the 99 the fields take (:mod:`.parsing`). The values come from
the view's own sizes, so a page can say them before (or without) a scene; a scene fragment
sends them again (``HX-Trigger``), as a new input or kernel moves them.
"""

from __future__ import annotations

FIELD_MAX = 99  # the largest value a stride, padding or dilation field takes (parsing.py)


def _axes(value: object, ndim: int) -> tuple[int, ...]:
    """Per-axis whole numbers of a field's value (a name, such as padding's "same", is 0)."""
    if isinstance(value, tuple):
        return value
    return (value if isinstance(value, int) else 0,) * ndim


def slider_ranges(view) -> dict[str, tuple[int, int]]:
    """``{name: (lowest, highest)}`` for stride, padding and dilation on ``view``'s page."""
    sizes, kernel = view.sizes()
    dilation = _axes(view.dilation, len(kernel))
    extent = max(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    fitting = [(i - 1) // (k - 1) + 1 for i, k in zip(sizes, kernel, strict=True) if k > 1]
    top = {"stride": max(sizes, default=1), "padding": extent,
           "dilation": max(fitting, default=1)}
    low = {"stride": 1, "padding": 0, "dilation": 1}
    return {name: (low[name], min(FIELD_MAX, max(low[name] + 1, top[name]))) for name in low}


def slider_value(text: str, span: tuple[int, int]) -> int:
    """Where a slider stands for a field holding ``text``: its largest axis ("2,1" is 2), within
    the slider's ``span``; a padding by name stands at the low end until the page says what the
    engine made of it (app.js reads the player's ``data-padding``)."""
    try:
        value = max(int(part) for part in text.split(","))
    except ValueError:
        value = span[0]
    return min(max(value, span[0]), span[1])
