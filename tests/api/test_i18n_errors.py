"""The API's error messages in Korean: the request's language (``Accept-Language: ko`` or
``?lang=ko``) changes the words of ``error`` and nothing else — the status, ``code``,
``field`` and the limit a 413 names stay byte for byte what English gets — and the Korean
still names the field and the limit's number. Every message of the API and the engine has its
Korean in the catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app import workers
from app.api.schemas import PoolParams, TraceRequest
from app.config import Settings
from app.engine import ConvolutionError
from app.engine.geometry import plan
from app.i18n import set_locale
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
HANGUL = re.compile("[\uac00-\ud7a3]")
JSON = {"content-type": "application/json"}
OK = '"weight": [[[1, 1]]]'

# (why, method, url, body (text) or None, extra headers, field, numbers the message must
# keep). The field and the numbers are written by hand from the request, not read back.
CASES = [
    # 41 characters, the parse stops at the end of them, on line 1
    ("bad JSON", "POST", "/api/v1/forward", '{"input": [[1, 2]], ' + OK + ",", {}, None,
     ["1", "41"]),
    ("not an object", "POST", "/api/v1/forward", "[1, 2]", {}, None, []),
    ("NaN", "POST", "/api/v1/forward", '{"input": [[1, NaN]], ' + OK + "}", {}, "input",
     ["1.8e308"]),
    ("nested too deeply", "POST", "/api/v1/forward", '{"input": ' + "[" * 1100 + "]" * 1100
     + "}", {}, "input", []),
    ("missing field", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]]}', {}, "weight", []),
    ("unknown field", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + ', "strde": 2}', {}, "strde", []),
    ("a string among numbers", "POST", "/api/v1/forward", '{"input": [[1, "2"]], ' + OK
     + "}", {}, "input", []),
    ("ragged", "POST", "/api/v1/forward", '{"input": [[1, 2], [3]], ' + OK + "}", {},
     "input", ["2"]),
    ("not one of the modes", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + ', "padding_mode": "mirror"}', {}, "padding_mode", []),
    ("wrong type in the query", "GET", "/api/v1/shape?input_size=3&kernel_size=2"
     "&in_channels=three", None, {}, "in_channels", []),
    ("below the minimum", "GET", "/api/v1/shape?input_size=3&kernel_size=2&in_channels=0",
     None, {}, "in_channels", ["1"]),
    ("above the maximum", "GET", "/api/v1/shape?input_size=3&kernel_size=2"
     "&batch=2000000", None, {}, "batch", ["1000000"]),
    ("too long", "GET", "/api/v1/shape?input_size=3&kernel_size=2&padding_mode="
     + "z" * 21, None, {}, "padding_mode", ["20"]),
    ("not the pattern", "GET", "/api/v1/shape?input_size=3x3&kernel_size=2", None, {},
     "input_size", ["1000000000", "28,28"]),
    ("axes disagree", "GET", "/api/v1/shape?input_size=3,3&kernel_size=2", None, {},
     "kernel_size", ["2", "1"]),
    ("stride 0", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + ', "stride": 0}', {}, "stride", ["0"]),
    ("groups do not divide", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + ', "groups": 2}', {}, "groups", ["1", "2"]),
    ("kernel larger than the input", "POST", "/api/v1/forward",
     '{"input": [[1, 2]], "weight": [[[1, 1, 1]]]}', {}, "weight", ["2", "3"]),
    ("reflect padding too wide", "POST", "/api/v1/forward", '{"input": [[1, 2]], ' + OK
     + ', "padding": 2, "padding_mode": "reflect"}', {}, "padding", ["2"]),
    ("weight with too few channels", "POST", "/api/v1/forward",
     '{"input": [[1, 2, 3], [4, 5, 6]], ' + OK + "}", {}, "weight", ["1", "2"]),
    ("parameter past the cap", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + ', "stride": 2000000000}', {}, "stride", ["1,000,000,000"]),
    ("exactly one source of delta", "POST", "/api/v1/backward", '{"input": [[1, 2, 3]], '
     + OK + "}", {}, "grad_output", []),
    ("start past the end", "POST", "/api/v1/trace", '{"input": [[1, 2, 3]], ' + OK
     + ', "start": 5}', {}, "start", ["0", "1", "2"]),
    ("a pool with a weight", "POST", "/api/v1/trace", '{"op": "max_pool", "input": '
     '[[1, 2, 3, 4]], "kernel_size": 2, ' + OK + "}", {}, "weight", []),
    ("overflow", "POST", "/api/v1/backward", '{"input": [[1e308, 1e308]], "weight": '
     '[[[1e308]]], "loss": "sum"}', {}, "output", []),
    ("unsupported media type", "POST", "/api/v1/forward", '{"input": [[1, 2, 3]], ' + OK
     + "}", {"content-type": "text/plain"}, None, []),
    ("unknown preset", "GET", "/api/v1/presets/no-such-preset", None, {}, "name", []),
    ("an API address that does not exist", "GET", "/api/v1/nothing-here", None, {}, None,
     []),
    ("a method the address does not take", "GET", "/api/v1/forward", None, {}, None, []),
]

# against a server with small limits: body size, array size, arithmetic
TIGHT = Settings(max_macs=20, max_array_elements=10, max_body_bytes=400)
TIGHT_CASES = [
    ("body over max_body_bytes", "POST", "/api/v1/forward", " " * 401, {}, None,
     ["400"]),
    ("array over max_array_elements", "POST", "/api/v1/forward",
     '{"input": [[' + ", ".join(["1"] * 11) + ']], "weight": [[[1]]]}', {}, "input",
     ["11", "10"]),
    ("arithmetic over max_macs", "POST", "/api/v1/forward",
     '{"input": [[' + ", ".join(["1"] * 10) + ']], "weight": [[[1, 1, 1]]]}', {}, None,
     ["24", "20"]),
]


def send(http: httpx.Client, method: str, url: str, body: str | None,
         headers: dict[str, str], **more: str) -> httpx.Response:
    sent = {**(JSON if body is not None else {}), **headers, **more}
    return http.request(method, url, content=body, headers=sent)


@pytest.fixture(scope="module")
def tight_client() -> Iterator[httpx.Client]:
    with LiveServer(TIGHT) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def named(name: str, text: str) -> bool:
    """Whether ``text`` has ``name`` as a word of its own (Hangul may follow it: "padding은")."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def check_same_error_in_korean(english: httpx.Response, korean: httpx.Response,
                               field: str | None, numbers: list[str]) -> None:
    en, ko = english.json(), korean.json()
    assert english.status_code >= 400
    assert korean.status_code == english.status_code
    # everything but the words, byte for byte
    assert {k: v for k, v in ko.items() if k != "error"} == \
        {k: v for k, v in en.items() if k != "error"}
    assert en["field"] == field
    assert korean.headers["content-language"] == "ko"
    assert english.headers["content-language"] == "en"
    assert not HANGUL.search(en["error"]), en["error"]
    assert HANGUL.search(ko["error"]), ko["error"]
    if field is not None and named(field, en["error"]):
        assert named(field, ko["error"]), ko["error"]  # wherever the English names it
    for number in numbers:
        whole = rf"(?<!\d)(?<!\d,)(?<!\.){re.escape(number)}(?!\d|,\d|\.\d)"  # not a part
        assert re.search(whole, en["error"]), (number, en["error"])
        assert re.search(whole, ko["error"]), (number, ko["error"])
    if "limit" in en:  # a 413 names its setting and value in the words too, in both
        assert f"{en['limit']}={en['limit_value']}" in ko["error"]


@pytest.mark.parametrize(("why", "method", "url", "body", "headers", "field", "numbers"),
                         CASES, ids=[case[0] for case in CASES])
def test_an_error_in_korean_is_the_same_error(client: httpx.Client, why, method, url, body,
                                              headers, field, numbers) -> None:
    english = send(client, method, url, body, headers)
    korean = send(client, method, url, body, headers, **{"accept-language": "ko-KR,ko;q=0.9"})
    check_same_error_in_korean(english, korean, field, numbers)


@pytest.mark.parametrize(("why", "method", "url", "body", "headers", "field", "numbers"),
                         TIGHT_CASES, ids=[case[0] for case in TIGHT_CASES])
def test_a_limit_in_korean_is_the_same_limit(tight_client: httpx.Client, why, method, url,
                                             body, headers, field, numbers) -> None:
    english = send(tight_client, method, url, body, headers)
    korean = send(tight_client, method, url, body, headers, **{"accept-language": "ko"})
    check_same_error_in_korean(english, korean, field, numbers)
    assert english.status_code == 413 and english.json()["code"] == "too_large"


def test_a_streamed_body_over_the_limit_in_korean(tight_client: httpx.Client) -> None:
    """No Content-Length: the body is counted as it arrives (the other 413 path)."""
    def chunks():
        for _ in range(5):
            yield b" " * 100

    english = tight_client.post("/api/v1/forward", content=chunks(), headers=JSON)
    korean = tight_client.post("/api/v1/forward", content=chunks(),
                               headers={**JSON, "accept-language": "ko"})
    check_same_error_in_korean(english, korean, None, ["400"])


def test_lang_in_the_url_chooses_over_accept_language(client: httpx.Client) -> None:
    body = '{"input": [[1, 2, 3]], ' + OK + ', "stride": 0}'
    english = send(client, "POST", "/api/v1/forward", body, {})
    chosen = send(client, "POST", "/api/v1/forward?lang=en", body, {},
                  **{"accept-language": "ko"})
    assert chosen.status_code == 422
    assert chosen.json() == english.json()
    assert chosen.json()["error"] == "stride must be positive, got 0"
    by_url = send(client, "POST", "/api/v1/forward?lang=ko", body, {})
    by_header = send(client, "POST", "/api/v1/forward", body, {}, **{"accept-language": "ko"})
    assert by_url.json() == by_header.json()
    assert HANGUL.search(by_url.json()["error"])


def test_a_language_we_do_not_speak_gets_english(client: httpx.Client) -> None:
    body = '{"input": [[1, 2, 3]], ' + OK + ', "groups": 2}'
    english = send(client, "POST", "/api/v1/forward", body, {})
    french = send(client, "POST", "/api/v1/forward", body, {}, **{"accept-language": "fr"})
    assert french.json() == english.json()
    assert english.json()["error"] == "input channels (1) must be divisible by groups (2)"


def test_the_shape_explanation_is_in_korean_too(client: httpx.Client) -> None:
    """/shape answers an impossible geometry with 200 and an explanation: the engine's words,
    in the request's language, with its numbers."""
    url = "/api/v1/shape?input_size=2&kernel_size=3"
    english = client.get(url).json()
    korean = client.get(url, headers={"accept-language": "ko"}).json()
    assert english["valid"] is korean["valid"] is False
    assert HANGUL.search(korean["explanation"]) and "2" in korean["explanation"]
    assert "3" in korean["explanation"]
    assert english["explanation"] == ("Kernel size can't be greater than actual input size: "
                                      "padded input size 2, dilated kernel size 3")


def test_the_openapi_document_stays_english(client: httpx.Client) -> None:
    english = client.get("/openapi.json").content
    korean = client.get("/openapi.json", headers={"accept-language": "ko"}).content
    assert korean == english
    assert not HANGUL.search(korean.decode())


def test_the_compute_process_answers_in_the_callers_language() -> None:
    """A context variable does not cross into the compute process: the language is passed."""
    set_locale("ko")
    try:
        with pytest.raises(ConvolutionError) as refused:
            workers.in_process(plan, (1, 1, 3), (1, 1, 2), stride=0)
    finally:
        set_locale("en")
    assert refused.value.field == "stride"
    assert refused.value.message == "stride 값은 양수여야 합니다. 받은 값: 0"
    with pytest.raises(ConvolutionError) as english:
        workers.in_process(plan, (1, 1, 3), (1, 1, 2), stride=0)
    assert english.value.message == "stride must be positive, got 0"


# ---- the catalogue: every message the API and the engine can say has its Korean ---------

#: the names of fields that messages quote as they are (never translated), those that cannot be
#: an English word too ("input", "padding" can)
FIELDS = sorted(name for name in {*TraceRequest.model_fields, *PoolParams.model_fields,
                                  "input_size", "in_channels", "max_body_bytes", "batch_size",
                                  "max_spatial_dims"} if "_" in name)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _messages(folder: str) -> dict[str, str]:
    """Every string marked in ``app/<folder>`` (Babel's extraction, as ``make messages``
    does it), with the file it is in."""
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            ROOT / "app" / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
        found[message if isinstance(message, str) else message[0]] = filename
    return found


@pytest.mark.parametrize("folder", ["api", "engine"])
def test_every_message_has_its_korean(folder: str) -> None:
    marked = _messages(folder)
    assert len(marked) > 20  # the extraction found the messages at all
    with (ROOT / "app/locale/ko/LC_MESSAGES/app.po").open("rb") as file:
        catalogue = read_po(file)
    missing = []
    for msgid, filename in marked.items():
        message = catalogue.get(msgid)
        string = None if message is None else message.string
        korean = string[0] if isinstance(string, tuple) else string
        if not korean or (not HANGUL.search(korean) and msgid not in ("%(field)s %(words)s",
                                                                     "%(field)s: %(words)s",
                                                                     "nulls")):
            missing.append((filename, msgid))
        else:
            # the translation uses no placeholder the English does not give it a value for,
            # and names every field the English names (fields are never translated)
            assert set(re.findall(r"%\((\w+)\)s", korean)) <= \
                set(re.findall(r"%\((\w+)\)s", msgid)), msgid
            unnamed = [name for name in FIELDS if named(name, msgid)
                       and not named(name, korean)]
            if unnamed:
                missing.append((filename, msgid, unnamed))
    assert not missing, missing
