"""Jinja2 templates with block rendering (jinja2-fragments): a fragment is a named block of
its page, rendered alone for HTMX requests."""

from __future__ import annotations

import re

from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape

from .. import i18n
from ..paths import TEMPLATES
from .cells import grid_size
from .controls import slider_ranges, slider_value
from .formatting import SUBSCRIPTS, format_exact, format_factor, format_number
from .links import other_locale, switched, with_lang
from .scene1d import BOTTOM, HEIGHT, LEFT, TOP, WIDTH

templates = Jinja2Blocks(directory=str(TEMPLATES))
templates.env.add_extension("jinja2.ext.i18n")
# {% trans %} and _() in templates: the request's language (app.i18n), escaped as Jinja2's
# new-style gettext does (a translation with %(name)s takes its values as keywords)
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)


def _size_class(rows: list) -> str:
    cols = max((len(r) for r in rows), default=0)
    return grid_size(max(cols, len(rows)))[0]


def _axis_text(value: object) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _subscripts(text: str) -> Markup:
    """``O_H = ...`` with the axis as a subscript, the rest escaped."""
    return Markup(re.sub(r"_([A-Za-z0-9]+)", r"<sub>\1</sub>", str(escape(text))))


templates.env.filters["subscripts"] = _subscripts
# "12" as "₁₂": the lesson's names, x₁ or b₂
templates.env.filters["subscripts_digits"] = lambda text: str(text).translate(SUBSCRIPTS)
# a row of cells joined here, not looped in the template: ~1,500 cells on a big page
templates.env.filters["cells"] = lambda cells: Markup("".join([c.markup() for c in cells]))
templates.env.globals.update(
    fmt=lambda v: format_number(float(v)),
    fmt_factor=format_factor,
    exact=format_exact,
    # what a values box holds, and sends back: every value exactly
    matrix_text=lambda m: "\n".join(" ".join(format_exact(v) for v in row) for row in m),
    axis_text=_axis_text,
    size_class=_size_class,
    slider_ranges=slider_ranges,
    slider_value=slider_value,
    zip=zip,
    lang=i18n.current,  # lang(): the request's language, for <html lang>
    lang_in_url=i18n.in_url,
    with_lang=with_lang,  # every link a page makes: lang= kept when the URL chose it
    other_lang=other_locale, switched_url=switched,  # the top bar's language switcher
    width=WIDTH, height=HEIGHT, left=LEFT, top=TOP, bottom=BOTTOM,
)


def compile_all() -> None:
    """Compile every template now rather than on its first request (each took ~80 ms)."""
    for name in templates.env.list_templates(extensions=["html"]):
        templates.env.get_template(name)
