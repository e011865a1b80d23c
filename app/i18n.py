"""English and Korean: which language a request is answered in, and the translations.

A request's language is its ``lang`` query parameter when that is one of :data:`LOCALES`,
else the best match of its ``Accept-Language``, else English; :class:`LocaleMiddleware` sets
it for the request (a context variable, so the worker threads that build scenes see it too),
and :func:`gettext` / :func:`ngettext` translate into it, in templates (Jinja2's i18n
extension) and in Python alike. English is the source language: its strings are the msgids.

The catalogues are Babel's: ``app/locale/<locale>/LC_MESSAGES/<domain>.po``, one domain per
kind of source so they can be edited apart — ``pages`` (``templates/``) and ``app`` (the
Python of ``app/``). The ``.po`` files are the source; the ``.mo`` files are compiled from them
by the install (``make locale``, which ``make run`` and ``make test`` do; the Dockerfile too)
and are not committed. A module-level string is marked with :func:`N_` (extracted, not
translated) and translated where it is shown.
"""

from __future__ import annotations

import contextvars
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: the languages the app speaks, the source language first
LOCALES = ("en", "ko")
DEFAULT = "en"
#: the catalogues' domains (see above)
DOMAINS = ("pages", "app")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("locale", default=DEFAULT)


class CatalogueNotCompiled(RuntimeError):
    """A ``.po`` file has no ``.mo`` beside it, or one older than itself."""


def N_(message: str) -> str:  # gettext's own name for a marker
    """Mark ``message`` for extraction only: it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> NullTranslations:
    """Every domain's catalogue of ``locale``, merged (English: none, the msgids are it)."""
    if locale == DEFAULT:
        return NullTranslations()
    merged: Translations | None = None
    for domain in DOMAINS:
        po = LOCALE_DIR / locale / "LC_MESSAGES" / f"{domain}.po"
        mo = po.with_suffix(".mo")
        # a checkout has the .po (the .mo compiled from it); an installed package, the .mo alone
        if not mo.exists() or (po.exists() and mo.stat().st_mtime < po.stat().st_mtime):
            raise CatalogueNotCompiled(
                f"{mo} is missing or older than {po.name}: compile the catalogues with "
                "`make locale` (make run and make test do it).")
        with mo.open("rb") as file:
            loaded = Translations(file, domain=domain)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    return merged or NullTranslations()


def check_compiled() -> None:
    """Fail now, at start-up, if a catalogue is not compiled (rather than on a request)."""
    for locale in LOCALES:
        translations(locale)


def current() -> str:
    """The language of the request being answered."""
    return _current.get()


def set_locale(locale: str) -> contextvars.Token:
    """Answer in ``locale`` from now on in this context (tests, scripts); returns the token
    to reset it with."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}: one of {', '.join(LOCALES)}")
    return _current.set(locale)


def gettext(message: str) -> str:
    """``message`` in the request's language."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message, in the request's language."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the request's language, as meant in ``context``: for a word that says
    two things (the signal "Step" is not the player's "Step")."""
    return translations(_current.get()).pgettext(context, message)



def from_accept_language(header: str) -> str | None:
    """The best of :data:`LOCALES` for an ``Accept-Language`` header (``ko-KR,ko;q=0.9,
    en;q=0.8``), or None if it names none of them. ``*`` matches the default."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag))
    for _q, _i, tag in sorted(ranked):
        if tag == "*":
            return DEFAULT
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return None


def choose(query_lang: str | None, accept_language: str | None) -> tuple[str, bool]:
    """The language of a request, and whether its URL chose it (``lang=``): a URL's choice is
    carried on by every link the page makes."""
    if query_lang in LOCALES:
        return query_lang, True
    if accept_language:
        found = from_accept_language(accept_language[:1000])
        if found:
            return found, False
    return DEFAULT, False


_explicit: contextvars.ContextVar[bool] = contextvars.ContextVar("lang_in_url", default=False)


def in_url() -> bool:
    """Whether the request's URL chose its language (so links carry ``lang=`` on)."""
    return _explicit.get()


def _query_lang(query_string: bytes) -> str | None:
    for pair in query_string.split(b"&"):
        name, _eq, value = pair.partition(b"=")
        if name == b"lang":
            return value.decode("latin-1")
    return None


class LocaleMiddleware:
    """Set the request's language (see the module) and say it: ``Content-Language``, and
    ``Vary: Accept-Language`` since the same URL may answer in either."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = None
        for name, value in scope.get("headers", ()):
            if name == b"accept-language":
                accept = value.decode("latin-1")
                break
        locale, explicit = choose(_query_lang(scope.get("query_string", b"")), accept)
        token = _current.set(locale)
        token_explicit = _explicit.set(explicit)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"content-language", locale.encode()))
                vary = [i for i, (n, _v) in enumerate(headers) if n.lower() == b"vary"]
                if vary:
                    name, value = headers[vary[0]]
                    if b"accept-language" not in value.lower():
                        headers[vary[0]] = (name, value + b", Accept-Language")
                else:
                    headers.append((b"vary", b"Accept-Language"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _current.reset(token)
            _explicit.reset(token_explicit)
