"""Korean for what the Python makes (the "app" catalogue): every marked string translated, and
pages in Korean saying their stops, sentences and errors in Korean — over real HTTP.

The catalogue is checked against Babel's own extraction of ``app/**.py`` (the way `make
messages` extracts it), not against a list kept here: a new ``gettext("…")`` without its Korean
fails the first test.
"""

from __future__ import annotations

import contextvars
import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.i18n import gettext, pgettext, set_locale
from app.web.lesson import STOPS
from tests.web.html import Page

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None,
            "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
KO = {"lang": "ko"}


def _extracted() -> dict[tuple[str, str | None], str]:
    """Every (msgid, context) Babel extracts from app/**.py, with where it was found."""
    with (ROOT / "app/locale/app.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def _catalogue(domain: str = "app"):
    with (ROOT / f"app/locale/ko/LC_MESSAGES/{domain}.po").open("rb") as po:
        return read_po(po)


def test_every_marked_python_string_has_korean_with_the_same_placeholders() -> None:
    extracted = _extracted()
    assert len(extracted) > 50  # the extraction itself found the app's strings
    catalogue = _catalogue()
    problems = []
    for (msgid, context), where in sorted(extracted.items(), key=str):
        message = catalogue.get(msgid, context=context) or next(
            (m for m in catalogue if isinstance(m.id, tuple) and msgid in m.id), None)
        if message is None:
            problems.append(f"{where}: {msgid!r} is not in app.po (run make messages)")
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(f"{where}: {msgid!r} has no Korean (or a fuzzy one)")
            continue
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != set(PLACEHOLDER.findall(msgid)):
                problems.append(f"{where}: {msgid!r}: its Korean {string!r} has other "
                                "placeholders")
            if not HANGUL.search(string) and HANGUL.search(msgid) is None and \
                    re.search(r"[A-Za-z]{3}", PLACEHOLDER.sub("", msgid)):
                problems.append(f"{where}: {msgid!r}: {string!r} has no Korean in it")
    assert not problems, "\n".join(problems)


def test_no_python_word_changes_a_template_words_korean() -> None:
    """The two catalogues are merged into one at run time, the app's last: a msgid both have
    must mean the same in both, or the template's word turns into the Python's (the signal
    "Step" would rename the player's "Step"). A word that says two things takes a context
    (``pgettext``)."""
    pages = {m.id: m.string for m in _catalogue("pages") if m.id and not m.context}
    clashes = [f"{m.id!r}: app.po {m.string!r}, pages.po {pages[m.id]!r}"
               for m in _catalogue() if m.id and not m.context and m.id in pages
               and pages[m.id] and m.string != pages[m.id]]
    assert not clashes, "\n".join(clashes)


def test_the_step_signal_is_not_the_players_step(client: httpx.Client) -> None:
    page = client.get("/1d?lang=ko").text
    assert '<option value="step">계단 함수</option>' in page
    assert '<option value="step">Step</option>' in client.get("/1d?lang=en").text
    def in_korean() -> tuple[str, str]:
        set_locale("ko")
        return pgettext("signal", "Step"), gettext("Step")

    signal, player = contextvars.copy_context().run(in_korean)
    assert signal == "계단 함수"
    assert player != "계단 함수"  # the player's word is left to pages.po


def test_a_korean_page_says_its_error_in_korean_naming_the_field(client: httpx.Client) -> None:
    response = client.get("/2d", params={"lang": "ko", "stride": "0"})
    assert response.status_code == 422
    message = Page(response.text).text("stride-error")
    assert message == "stride는 1 이상 99 이하여야 합니다"
    english = Page(client.get("/2d?stride=0").text).text("stride-error")
    assert english == "stride must be between 1 and 99"


def test_a_page_too_big_says_so_in_korean_naming_the_limit(client: httpx.Client) -> None:
    response = client.get("/2d", params={"lang": "ko", "padding": "99", "input": "digit"})
    assert response.status_code == 413
    assert "page_max_cells" in response.text
    assert "한 페이지는 최대" in response.text


def test_the_tour_says_each_stops_caption_in_korean(client: httpx.Client) -> None:
    page = Page(client.get("/2d?tour=4&lang=ko").text)
    assert page.text("tour").startswith("4 ")
    assert "(1, 1)의 계산 결과는 0·0 + 1·1 + 2·3 + 3·4 = 19" in page.text("tour")
    home = client.get("/?lang=ko").text
    assert "합성곱 연산의 역전파(backpropagation)" in home  # the stop's heading, the Korean's
    for stop in STOPS:  # no stop's English heading is left on the Korean lesson
        assert f">{stop.english_title}<" not in home


@pytest.mark.parametrize("path", ["/1d?view=continuous&step=5", "/2d?show=picture"])
def test_a_kept_scene_speaks_the_language_of_each_request(client: httpx.Client,
                                                          path: str) -> None:
    """Scenes are built once and kept: their words must not follow them into the other
    language. English, Korean, English again, on the same view."""
    english = {"/1d?view=continuous&step=5": "samples (",
               "/2d?show=picture": "Input and output: black = "}[path]
    korean = {"/1d?view=continuous&step=5": "겹치는 샘플",
              "/2d?show=picture": "입력과 출력: 검정 = "}[path]
    for lang, present, absent in (("en", english, korean), ("ko", korean, english),
                                  ("en", english, korean)):
        text = client.get(f"{path}&lang={lang}").text
        assert present in text, (lang, present)
        assert absent not in text, (lang, absent)
