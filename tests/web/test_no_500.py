"""No query string breaks any page: every answer is the page (200) or an explanation (422, or
413 for a setting over a page limit)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

PAGES = {
    "/1d": ["signal", "x", "kernel", "w", "view", "compare", "stride", "padding", "dilation",
            "padding_mode", "mode", "bias", "step", "prev", "speed"],
    "/3d": ["volume", "stride", "padding", "dilation", "padding_mode", "mode", "step", "prev"],
    "/channels": ["preset", "groups", "sample", "stride", "padding", "dilation", "mode",
                  "step", "prev"],
    "/backprop": ["preset", "loss", "delta", "target", "part", "eta", "epoch", "stride",
                  "padding", "dilation", "padding_mode", "step", "prev"],
    "/pool": ["input", "kind", "kernel", "stride", "padding", "dilation", "ceil_mode",
              "count_include_pad", "part", "compare", "conv", "step", "prev", "speed"],
    "/backprop/verify": ["preset", "loss", "delta", "part", "padding", "stride"],
    "/matrix": ["input", "x", "kernel", "w", "delta", "matrix", "stride", "padding",
                "dilation", "padding_mode", "mode", "step", "prev", "speed"],
    "/transposed": ["input", "x", "kernel", "w", "stride", "padding", "output_padding",
                    "dilation", "show", "step", "prev", "speed"],
    "/network": ["seed", "lr", "batch", "steps", "train", "digit", "panel", "step", "prev",
                 "speed", "draw"],
}
values = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10),
    st.integers(-3, 120).map(str),
    st.sampled_from(["same", "full", "valid", "1,2", "1,2,3", "0", "reflect", "convolution",
                     "mse", "input", "1e400", "nan", "-1", "1 2 3", "box", "lesson", "Wt",
                     "im2col", "random", "1;2", "circular",
                     "avg", "backward", "inf", "", "99999999999999999999", "sobel-x", "ties"]),
)


@pytest.mark.parametrize("path", list(PAGES))
def test_no_query_string_breaks_the_page(client: httpx.Client, path: str) -> None:
    @settings(max_examples=60, deadline=None)
    @given(st.dictionaries(st.sampled_from(PAGES[path]), values, max_size=5))
    def check(params: dict) -> None:
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(path, params=params, headers=headers)
            assert response.status_code in (200, 413, 422), (params, response.status_code)

    check()
