"""Korean and English pages: every template string has its Korean, a Korean page shows no
English the templates wrote, the language is chosen as README's "Korean and English" says, and
a page whose URL chose it keeps it in every link it makes."""

from __future__ import annotations

import ast
import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app/locale/ko/LC_MESSAGES/pages.po"
TEMPLATES = ROOT / "templates"

#: every page, its first preset (the default view), the 404 and the tour's first stop
PAGES = ["/", "/1d", "/2d", "/3d", "/channels", "/backprop", "/matrix", "/transposed",
         "/pool", "/network", "/no-such-page", "/2d?tour=4", "/2d?show=picture",
         "/1d?view=discrete", "/backprop?preset=learn-sobel&epoch=3",
         "/network?panel=results", "/network?panel=draw", "/network?panel=backward",
         "/pool?part=backward", "/transposed?show=gather", "/matrix?matrix=Wt"]


def _method_map() -> list[tuple[str, str]]:
    """pages.cfg's method map, as make messages reads it."""
    lines = (ROOT / "app/locale/pages.cfg").read_text().splitlines()
    return [(line.strip("[] ").split(":")[1].strip(), line.strip("[] ").split(":")[0])
            for line in lines if line.startswith("[")]


def _extracted() -> dict[str, tuple]:
    found = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), _method_map(), options_map={"templates/**.html": {
                "extensions": "jinja2.ext.i18n"}}):
        key = message if isinstance(message, str) else message[0]
        found[key] = message if isinstance(message, tuple) else (message,)
    return found


def _placeholders(text: str) -> list[str]:
    return sorted(set(re.findall(r"%\((\w+)\)s", text)))


def test_every_template_string_has_its_korean() -> None:
    with PO.open("rb") as file:
        catalogue = read_po(file)
    extracted = _extracted()
    assert len(extracted) > 300  # the extractor found the templates' strings
    problems = []
    for key, ids in extracted.items():
        message = catalogue.get(ids if len(ids) > 1 else key)
        if message is None:
            problems.append(f"no entry: {key!r}")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"untranslated or fuzzy: {key!r}")
            continue
        for translated in strings:
            if _placeholders(translated) != _placeholders(key):
                problems.append(f"placeholders differ: {key!r} -> {translated!r}")
    assert problems == []


# --- no English left on a Korean page ----------------------------------------------------------

#: three or more words of ASCII letters in a row: an English phrase
PHRASE = re.compile(r"[A-Za-z]+(?:[ '’-]+[A-Za-z]+){2,}")
#: English that a Korean page keeps: names and citations
ALLOWED = {"Odena et al"}


class _Visible(HTMLParser):
    """The text a person reads or hears: text nodes (not inside script, style or code) and
    the aria-label, title, alt, placeholder and aria-valuetext attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in ("script", "style", "code"):
            self._hidden += 1
        self.texts += [v for k, v in attrs if v and k in (
            "aria-label", "title", "alt", "placeholder", "aria-valuetext")]

    def handle_endtag(self, tag) -> None:
        if tag in ("script", "style", "code"):
            self._hidden -= 1

    def handle_data(self, data) -> None:
        if not self._hidden:
            self.texts.append(data)


def _own_words(template: str) -> str:
    """A template's own words, the ones it writes untranslated: outside {{ }}, {% %}, {# #}
    and {% trans %} blocks."""
    template = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", template, flags=re.S)
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", template, flags=re.S)


@cache
def _template_text() -> str:
    return " ".join(_own_words(p.read_text()) for p in TEMPLATES.glob("*.html"))


def _unmarked(texts: list[str], templates: str, python: str) -> list[str]:
    """The English phrases of ``texts`` that a template wrote: its own words, or words that
    come from nowhere in the Python either (app.js's, say). What the Python of app/ says is
    left to app.po (the other half of issue #19); a template may capitalize it."""
    phrases = {m.group(0) for t in texts for m in PHRASE.finditer(t)} - ALLOWED
    python = python.lower()
    return sorted(p for p in phrases if p in templates or p.lower() not in python)


@cache
def _python_text() -> str:
    """Every string constant of the Python of app/: where a page's other words come from."""
    parts = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                parts.append(node.value)
    return "\n".join(parts)


@pytest.mark.parametrize("url", PAGES)
def test_a_korean_page_shows_no_english_the_templates_wrote(client: httpx.Client,
                                                            url: str) -> None:
    """Every English phrase on the page in Korean: none may come from a template (its own
    words, unmarked) or from app.js's words (body data-texts, checked with the page). What
    comes from the Python of app/ (scene sentences, stop and preset titles: app.po, the other
    half of issue #19) is that half's to translate, and not failed here."""
    response = client.get(url + ("&" if "?" in url else "?") + "lang=ko")
    assert response.status_code in (200, 404)
    assert '<html lang="ko"' in response.text
    parser = _Visible()
    parser.feed(response.text)
    texts = parser.texts + list(re.findall(r"data-texts='([^']*)'", response.text))
    assert _unmarked(texts, _template_text(), _python_text()) == []


def test_the_check_finds_an_unmarked_template_phrase() -> None:
    """The check above fails on a template's own English, and on English from nowhere in the
    Python; marked strings and the Python's are not its business."""
    template = _own_words('<h1>{{ _("Signals sliding past") }}</h1><p>Press Play now</p>'
                          '{% trans %}Kernel slides over{% endtrans %}')
    python = "Press Play now; Weight matrix W"
    texts = ["Press Play now", "Weight matrix W", "신호 Signals sliding past", "Odena et al"]
    assert _unmarked(texts, template, python) == ["Press Play now", "Signals sliding past"]
    assert _unmarked(["Weight matrix W", "입력 x"], template, python) == []


# --- how the language is chosen -----------------------------------------------------------------

@pytest.mark.parametrize(("header", "lang", "word"), [
    ("ko-KR,ko;q=0.9", "ko", "입력"),
    ("ko", "ko", "입력"),
    ("en", "en", "Input"),
    ("fr-FR,fr;q=0.9", "en", "Input"),
    ("", "en", "Input"),
])
def test_accept_language_chooses_the_pages_language(client: httpx.Client, header: str,
                                                    lang: str, word: str) -> None:
    response = client.get("/2d", headers={"Accept-Language": header} if header else {})
    assert response.status_code == 200
    assert f'<html lang="{lang}"' in response.text
    assert f"<legend>{word}</legend>" in response.text
    assert response.headers["content-language"] == lang


def test_lang_in_the_url_overrides_accept_language(client: httpx.Client) -> None:
    response = client.get("/2d?lang=en", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="en"' in response.text
    assert "<legend>Input</legend>" in response.text
    # the switcher offers Korean, in Korean, to the same address
    assert ('<a class="lang-switch" id="lang-switch" href="/2d?lang=ko" hreflang="ko" '
            'lang="ko">한국어</a>') in response.text


def _attr(html: str, ident: str, name: str) -> str:
    match = re.search(rf'<[^>]*id="{ident}"[^>]*>', html)
    assert match, ident
    found = re.search(rf'\b{name}="([^"]*)"', match.group(0))
    assert found, (ident, name)
    return found.group(1).replace("&amp;", "&")


def test_the_switcher_keeps_every_other_parameter(client: httpx.Client) -> None:
    html = client.get("/2d?input=digit&kernel=sobel-x&lang=ko&stride=2").text
    assert _attr(html, "lang-switch", "href") == "/2d?input=digit&kernel=sobel-x&stride=2&lang=en"
    assert _attr(html, "lang-switch", "hreflang") == "en"
    assert ">English</a>" in html
    html = client.get("/pool?kind=avg", headers={"Accept-Language": "ko"}).text
    assert _attr(html, "lang-switch", "href") == "/pool?kind=avg&lang=en"


# --- lang= carried on ---------------------------------------------------------------------------

def _page_links(html: str) -> list[str]:
    """Every address the page links to or asks for (href, hx-get, action, data-base,
    data-next), but a form's own: its fields ask for the page's bare path (hx-get="/2d") and
    send the form's fields with it, hidden lang among them (checked below)."""
    found = re.findall(r'\b(href|hx-get|action|data-base|data-next)="(/[^"]*)"', html)
    return [u.replace("&amp;", "&") for name, u in found
            if not u.startswith(("/static/", "/api/", "/docs"))
            and not (name in ("hx-get", "action") and "?" not in u)]


@pytest.mark.parametrize("url", ["/", "/2d?tour=4", "/backprop", "/pool", "/network",
                                 "/network?panel=results", "/matrix?matrix=Wt",
                                 "/no-such-page"])
def test_a_page_whose_url_chose_korean_keeps_it_in_every_link(client: httpx.Client,
                                                              url: str) -> None:
    html = client.get(url + ("&" if "?" in url else "?") + "lang=ko").text
    links = _page_links(html)
    assert len(links) >= 5
    missing = [u for u in links if "lang=ko" not in u.split("#")[0].split("?", 1)[-1]
               and "lang=en" not in u]
    assert missing == []
    # the form's controls send it too
    if 'id="controls"' in html:
        assert '<input type="hidden" name="lang" value="ko">' in html


def test_without_lang_in_the_url_links_are_left_alone(client: httpx.Client) -> None:
    html = client.get("/", headers={"Accept-Language": "ko"}).text
    assert '<html lang="ko"' in html
    assert not [u for u in _page_links(html) if "lang=" in u and "lang-switch" not in u
                and u != "/?lang=en"]
    assert '<a href="/1d">' in html


def test_an_edit_keeps_lang_in_the_pushed_url(client: httpx.Client) -> None:
    response = client.get("/2d?kernel=sharpen&lang=ko", headers={"HX-Request": "true"})
    assert response.headers["hx-push-url"] == "/2d?kernel=sharpen&lang=ko"
    response = client.get("/2d?stride=x&lang=ko", headers={"HX-Request": "true"})
    assert response.headers["hx-replace-url"].endswith("&lang=ko")
    assert "스트라이드" in response.text or "stride" in response.text


def test_the_tour_and_the_404_keep_lang(client: httpx.Client) -> None:
    response = client.get("/tour?stop=2&lang=ko", follow_redirects=False)
    assert response.headers["location"] == "/1d?signal=step&kernel=ramp&compare=1&tour=2&lang=ko"
    html = client.get("/2D?lang=ko").text
    assert 'href="/2d?lang=ko"' in html  # the suggestion
    assert "이 주소에는 페이지가 없습니다" in html
