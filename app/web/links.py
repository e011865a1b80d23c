"""Links that keep the language the URL chose: when a request's URL said ``lang=ko`` (or
``lang=en``), every link and request its page makes says it too (:func:`with_lang`), so a
Korean page's links stay Korean whatever the browser's ``Accept-Language``; when
``Accept-Language`` chose, links are left as they are. And the language switcher's address,
the same URL in the other language (:func:`switched`)."""

from __future__ import annotations

from .. import i18n


def _with(url: str, lang: str) -> str:
    """``url`` with ``lang=`` set to ``lang`` (once, last), its other parameters and its
    fragment kept as they are."""
    rest, hash_, fragment = url.partition("#")
    path, _q, query = rest.partition("?")
    pairs = [p for p in query.split("&") if p and p.partition("=")[0] != "lang"]
    pairs.append(f"lang={lang}")
    return f"{path}?{'&'.join(pairs)}{hash_}{fragment}"


def with_lang(url: str) -> str:
    """``url`` carrying ``lang=`` on when the request's URL chose its language, else as is.
    A page's own address only (a path from ``/``); anything else is returned as is."""
    if not i18n.in_url() or not url.startswith("/") or url.startswith("//"):
        return url
    return _with(url, i18n.current())


def other_locale() -> str:
    """The language the switcher offers: English on a Korean page, Korean elsewhere."""
    return "en" if i18n.current() == "ko" else "ko"


def switched(path: str, query: str) -> str:
    """The address of the same page in the other language (``path`` and its raw ``query``):
    every other parameter kept, ``lang=`` switched."""
    return _with(f"{path}?{query}", other_locale())
