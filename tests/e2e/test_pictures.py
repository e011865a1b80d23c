"""The 2D page's pictures in a real browser: the greys the browser paints are the engine's
values on the scale the page states (read back from the page, compared with SciPy's output
mapped here), the numbers under the kernel follow the steps, the numbers/picture toggle, an
upload from the page, and no serious accessibility findings."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image
from playwright.sync_api import Page, expect
from scipy.signal import correlate2d

from app.presets import IMAGES_2D, KERNELS_2D
from tests.e2e.conftest import screenshot, serious_violations
from tests.web.test_upload import photo

# every cell of a grid: its painted background as r, g, b
PAINTED = """name => [...document.querySelector(`[role=grid][aria-label="${name}"]`)
  .querySelectorAll('[role=row]')].map(row => [...row.querySelectorAll('[role=gridcell]')]
  .map(cell => getComputedStyle(cell).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)))"""


def painted(page: Page, name: str) -> np.ndarray:
    return np.array(page.evaluate(PAINTED, name))


def greys(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.floor((values - lo) / (hi - lo) * 255 + 0.5), 0, 255).astype(int)


def numbers(page: Page, name: str) -> list[list[str]]:
    rows = page.get_by_role("grid", name=name, exact=True).get_by_role("row")
    return [r.get_by_role("gridcell").all_inner_texts() for r in rows.all()]


def test_the_pixels_painted_are_the_engines_values_on_the_stated_scale(page: Page) -> None:
    for image, kernel in (("digit28", "box-blur"), ("smiley", "sharpen"),
                          ("digit28", "sobel-x")):
        x = np.array(IMAGES_2D[image][1], float)
        out = correlate2d(x, np.array(KERNELS_2D[kernel][1], float), mode="valid")
        lo, hi = min(x.min(), out.min()), max(x.max(), out.max())
        page.goto(f"/2d?input={image}&kernel={kernel}&show=picture&step=999")
        expect(page.locator("#grey-scale")).to_contain_text(
            f"Input and output: black = {lo:g}, white = {hi:g}")
        for name, values in (("Input picture", x), ("Output picture", out)):
            rgb = painted(page, name)
            assert rgb.shape == (*values.shape, 3)
            assert (rgb == greys(values, lo, hi)[..., None]).all(), (image, kernel, name)
        screenshot(page, f"picture-{image}-{kernel}", full_page=False)


def test_the_magnifier_follows_the_steps(page: Page) -> None:
    x = np.array(IMAGES_2D["digit"][1], float)
    w = np.array(KERNELS_2D["laplacian"][1], float)
    out = correlate2d(x, w, mode="valid")
    page.goto("/2d?input=digit&kernel=laplacian&show=picture")
    expect(page.locator("#magnifier")).to_contain_text("once it moves")
    for step in range(1, 9):
        page.keyboard.press("ArrowRight")
        expect(page.locator("#step-status")).to_have_text(f"Step {step} of 36")
        r, c = divmod(step - 1, out.shape[1])
        expect(page.locator("#magnifier")).to_contain_text(f"makes output ({r + 1}, {c + 1})")
        assert numbers(page, "Under the kernel") == \
            [[f"{v:g}" for v in row] for row in x[r:r + 3, c:c + 3]]
        assert numbers(page, "Output value made") == [[f"{out[r, c]:g}"]]
        # the window is marked on the input picture, the new pixel on the output's
        window = page.locator('[aria-label="Input picture"] .cell.win')
        expect(window).to_have_count(9)
        assert window.first.get_attribute("id") == f"in-{r}-{c}"
        assert page.locator('[aria-label="Output picture"] .cell.current').get_attribute(
            "id") == f"out-{r}-{c}"


def test_the_toggle_switches_numbers_and_picture_and_the_address_says_so(page: Page) -> None:
    page.goto("/2d?input=smiley&kernel=box-blur&step=5")
    expect(page.get_by_role("grid", name="Input", exact=True)).to_be_visible()
    page.get_by_role("radio", name="Picture").check()
    expect(page.get_by_role("grid", name="Input picture")).to_be_visible()
    assert re.search(r"[?&]show=picture\b", page.url)
    expect(page.locator("#step-status")).to_have_text("Step 5 of 36")
    page.get_by_label("Grey scale").select_option("each")
    expect(page.locator("#grey-scale")).to_contain_text("Output: black")
    assert "scale=each" in page.url
    page.reload()
    expect(page.get_by_role("grid", name="Input picture")).to_be_visible()
    page.get_by_role("radio", name="Numbers").check()
    expect(page.get_by_role("grid", name="Input", exact=True)).to_be_visible()
    assert "show=" not in page.url


def test_an_uploaded_photo_is_shown_as_a_picture_blurred_sharpened_and_edged(
        page: Page, tmp_path) -> None:
    path = tmp_path / "photo.jpg"
    photo(160, 120).save(path, "JPEG")
    page.goto("/2d?kernel=gaussian")
    page.locator('input[type=file][name=image]').set_input_files(path)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("grid", name="Input picture")).to_be_visible()
    assert "kernel=gaussian" in page.url and "show=picture" in page.url
    rows = page.get_by_role("grid", name="Input picture").get_by_role("row")
    expect(rows).to_have_count(24)
    for kernel in ("gaussian", "sharpen", "sobel-x"):
        page.locator("#kernel-preset").select_option(kernel)
        page.wait_for_url(re.compile(f"kernel={kernel}\\b"))
        # the new scene has arrived (the first choice is the kernel already shown: the address
        # has it before its scene comes back)
        expect(page.locator(".htmx-request")).to_have_count(0)
        expect(page.get_by_role("grid", name="Input picture")).to_be_visible()
        page.keyboard.press("End")
        expect(page.locator("#step-status")).to_have_text("Step 660 of 660")
        assert painted(page, "Output picture").shape == (22, 30, 3)


def test_a_bad_upload_is_said_on_the_page(page: Page, tmp_path) -> None:
    path = tmp_path / "notes.png"
    path.write_bytes(b"not a picture at all")
    page.expected_errors = ["415"]
    page.goto("/2d?kernel=sharpen")
    page.locator('input[type=file][name=image]').set_input_files(path)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_contain_text("not a PNG or JPEG")
    expect(page.locator("#kernel-preset")).to_have_value("sharpen")


def test_no_serious_accessibility_violations_in_pictures(page: Page, axe) -> None:
    urls = ("/2d?input=digit&kernel=sobel-x&show=picture&step=7",
            "/2d?input=smiley&kernel=sharpen&show=picture&scale=input&padding=1&step=40"
            "&projector=1")
    for theme in ("light", "dark"):
        for url in urls:
            page.goto(url)
            page.evaluate(f"localStorage.setItem('convscope-theme', '{theme}')")
            page.reload()
            assert serious_violations(axe, page) == [], (theme, url)
    screenshot(page, "picture-dark-projector", full_page=False)


def test_a_photo_png_made_here_round_trips_through_the_page(page: Page, tmp_path) -> None:
    picture = photo(64, 64)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    path = tmp_path / "p.png"
    path.write_bytes(buffer.getvalue())
    page.goto("/2d?kernel=identity")
    page.locator('input[type=file][name=image]').set_input_files(path)
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("grid", name="Input picture")).to_be_visible()
    expected = np.asarray(picture.convert("L").resize((32, 32), Image.Resampling.LANCZOS))
    rgb = painted(page, "Input picture")
    lo, hi = expected.min(), expected.max()  # identity: the output has the input's range
    difference = np.abs(rgb[..., 0] - greys(expected.astype(float), lo, hi))
    assert difference.mean() < 2 and difference.max() <= 8  # Pillow shrinks in two stages
