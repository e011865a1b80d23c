"""What a page's form shows when the URL holds values the page cannot use: exactly what the URL
says, each bad field marked invalid with its message beside it.

A page reads the URL leniently (:func:`parse_leniently`): every parameter it cannot use is left
out of the view and kept, as typed, with its error. The form writes those raw values back into
their fields, so retyping one value fixes the page; the scene says what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from markupsafe import Markup, escape

from ..i18n import gettext
from .parsing import StateError


def too_long(size: int, most: int) -> str:
    """Why a page refuses an address whose query is ``size`` bytes (page_max_query_bytes)."""
    return gettext("The address is too long: its query has %(size)s bytes, and a page takes at "
                   "most %(most)s (page_max_query_bytes).") % {"size": f"{size:,}",
                                                               "most": f"{most:,}"}


def parse_leniently(parse: Callable, query: Mapping[str, str],
                    limits) -> tuple[object, dict[str, StateError]]:
    """The view ``query`` asks for without each parameter the page cannot use, and those
    parameters' errors by name, in the order they were found."""
    params = {name: query[name] for name in query}
    errors: dict[str, StateError] = {}
    while True:
        try:
            return parse(params, limits), errors
        except StateError as exc:
            if exc.field not in params:  # not one parameter's fault: nothing left to try
                errors[exc.field] = exc
                return parse({}, limits), errors
            errors[exc.field] = exc
            del params[exc.field]


@dataclass(frozen=True)
class Form:
    """The raw text of each parameter the page could not use, and why (see above)."""

    raw: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, query: Mapping[str, str], errors: Mapping[str, StateError]) -> Form:
        return cls({name: query[name] for name in errors if name in query},
                   {name: exc.message for name, exc in errors.items()})

    def value(self, name: str, shown: object) -> object:
        """What the field ``name`` holds: the URL's text if the page could not use it."""
        return self.raw.get(name, shown)

    def attrs(self, name: str) -> Markup:
        """``aria-invalid`` and ``aria-describedby`` for a field the page could not use."""
        if name not in self.invalid:
            return Markup("")
        return Markup(' aria-invalid="true" aria-describedby="{}-error"').format(name)

    def error(self, name: str) -> Markup:
        """The message beside the field ``name`` (empty when it is fine; app.js fills it in
        when a scene fragment reports a new error)."""
        return Markup('<span class="field-error" id="{0}-error" data-for="{0}">{1}</span>'
                      ).format(name, self.invalid.get(name, ""))

    def query(self) -> str:
        """The raw parameters as a query string, to follow a canonical one."""
        return urlencode(self.raw, safe=",;")

    def option(self, name: str, choices: Mapping | list) -> Markup:
        """For a chooser whose URL value is none of its choices: that value as a selected
        option, so the form shows what the URL says."""
        value = self.raw.get(name)
        if value is None or value in choices:
            return Markup("")
        return Markup('<option value="{0}" selected>{0}</option>').format(escape(value[:40]))
