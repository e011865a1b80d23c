"""/network over real HTTP: the maps, probabilities and accuracy on the page are the engine's
(checked against SciPy and NumPy written out here), a conv1 map's link opens /2d with the
same numbers, every request trains at most its budget and the page asks again for the rest,
the backward pass's steps, and every bad parameter explained."""

from __future__ import annotations

import html
import re

import httpx
import numpy as np
import pytest
from scipy.signal import correlate2d

from app.config import Settings
from app.engine import digits
from app.engine.network import Network
from app.engine.training import TrainConfig, Trainer
from app.paths import TEMPLATES
from app.web import contract
from app.web.scene_network import SceneNetwork
from tests.web.html import Page
from tests.web.test_contract import members, read_by_templates

HTMX = {"HX-Request": "true"}
BUDGET = Settings().network_request_digits // 32  # steps a request trains at batch 32


def maps(text: str, layer: str) -> list[np.ndarray]:
    """The pictures of a layer's column on the page, from their exact ``data-values``."""
    column = re.search(rf'data-layer="{layer}">(.*?)</figure>', text, re.S).group(1)
    found = []
    for m in re.finditer(r'<svg class="map s(\d+)[^"]*" viewBox="0 0 (\d+) (\d+)"[^>]*'
                         r'data-values="([^"]*)"', column):
        w, h = int(m.group(2)), int(m.group(3))
        found.append(np.array([float(v) for v in m.group(4).split(",")]).reshape(h, w))
    return found


def weights_after(steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    trainer = Trainer(TrainConfig(seed=seed))
    trainer.run(steps)
    return {name: value.copy() for name, value in trainer.net.params()}


def by_hand(x: np.ndarray, p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The network's layers for one 8 x 8 image, with SciPy's correlation and NumPy."""
    def conv(a, w, b):  # a (C_in, H, W), w (C_out, C_in, 3, 3): padding 1 is "same"
        return np.array([sum(correlate2d(a[i], w[o, i], mode="same") for i in range(len(a)))
                         + b[o] for o in range(len(w))])

    def pool(a):
        c, h, w = a.shape
        return a.reshape(c, h // 2, 2, w // 2, 2).max(axis=(2, 4))

    out = {"conv1": conv(x[None], p["conv1.weight"], p["conv1.bias"])}
    out["relu1"] = np.maximum(out["conv1"], 0)
    out["pool1"] = pool(out["relu1"])
    out["conv2"] = conv(out["pool1"], p["conv2.weight"], p["conv2.bias"])
    out["relu2"] = np.maximum(out["conv2"], 0)
    out["pool2"] = pool(out["relu2"])
    out["logits"] = p["fc.weight"] @ out["pool2"].ravel() + p["fc.bias"]
    e = np.exp(out["logits"] - out["logits"].max())
    out["p"] = e / e.sum()
    return out


def test_every_map_and_probability_on_the_page_is_the_networks(client: httpx.Client) -> None:
    steps, digit = 15, 7
    text = client.get(f"/network?steps={steps}&digit={digit}").text
    split = digits.split()
    image = digits.load().images[split.test_index[digit - 1]] / 16
    want = by_hand(image, weights_after(steps))
    [shown] = maps(text, "input")
    np.testing.assert_array_equal(shown, image)
    for layer in ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2"):
        got = np.array(maps(text, layer))
        assert got.shape == want[layer].shape, layer
        np.testing.assert_allclose(got, want[layer], rtol=1e-10, atol=1e-12, err_msg=layer)
    [logits] = maps(text, "fc")
    np.testing.assert_allclose(logits.ravel(), want["logits"], rtol=1e-10, atol=1e-12)
    p = np.array([float(v) for v in re.findall(r'data-p="([^"]+)"', text)])
    np.testing.assert_allclose(p, want["p"], rtol=1e-10, atol=1e-15)
    bars = re.findall(r'<span class="p">([^<]+)</span>', text)
    assert bars == [f"{100 * v:.1f} %" for v in want["p"]]
    label = int(split.test.labels[digit - 1])
    page = Page(text)
    assert f"Test digit {digit} of 300: a {label}" in page.text("digit-status")
    predicted = int(np.argmax(want["p"]))
    assert f"Predicted {predicted} ({100 * want['p'][predicted]:.1f} %)" in \
        page.text("prediction")
    assert f"= {-np.log(want['p'][label]):.3f}".rstrip("0") in page.text("prediction")
    # the shapes, as PyTorch prints them
    for layer, shape in (("conv1", "[1, 4, 8, 8]"), ("pool1", "[1, 4, 4, 4]"),
                         ("conv2", "[1, 8, 4, 4]"), ("pool2", "[1, 8, 2, 2]"),
                         ("fc", "[1, 10]")):
        column = re.search(rf'data-layer="{layer}">(.*?)</figure>', text, re.S).group(1)
        assert f'<code class="shape">{shape}</code>' in column, layer


def test_the_test_accuracy_is_the_test_digits_classified_by_these_weights(
        client: httpx.Client) -> None:
    page = Page(client.get("/network?steps=20").text)
    trainer = Trainer(TrainConfig())
    trainer.run(20)
    test = digits.split().test
    right = np.mean(trainer.net.forward(test.inputs()).argmax(axis=1) == test.labels)
    assert page.attrs["scene"]["data-test-accuracy"] == repr(float(right))
    assert f"test accuracy {100 * right:.1f} %" in page.text("train-status")
    assert page.attrs["scene"]["data-steps"] == "20"


def test_a_conv1_maps_link_opens_that_convolution_on_the_2d_page(client: httpx.Client) -> None:
    text = client.get("/network?steps=5&digit=3").text
    links = re.findall(r'data-layer="conv1">.*?</figure>', text, re.S)[0]
    hrefs = [html.unescape(h) for h in re.findall(r'<a href="(/2d\?[^"]+)"', links)]
    assert len(hrefs) == 4
    conv1 = maps(text, "conv1")
    for href, expected in zip(hrefs, conv1, strict=True):
        shown = np.full((8, 8), np.nan)  # each output cell's exact value (its name), or text
        for r, c, rest in re.findall(r'<div id="out-(\d+)-(\d+)"([^>]*>[^<]*)',
                                     client.get(f"{href}&step=64").text):
            exact = re.search(r'aria-label="([^"]+)"', rest)
            shown[int(r), int(c)] = float(exact.group(1) if exact else rest.split(">")[1])
        np.testing.assert_allclose(shown, expected, rtol=1e-12, atol=1e-15)
    # the same input: the digit over 16, whole
    x = re.search(r"x=([^&]+)", hrefs[0]).group(1)
    np.testing.assert_array_equal(
        np.array([[float(v) for v in row.split(",")] for row in x.split(";")]),
        maps(text, "input")[0])


def test_a_request_trains_at_most_its_budget_and_the_page_asks_for_the_rest(
        client: httpx.Client) -> None:
    seed = 4242  # a run no other test trains: nothing cached
    first = client.get(f"/network?seed={seed}&steps=50")
    page = Page(first.text)
    assert page.attrs["scene"]["data-steps"] == str(BUDGET)
    assert page.attrs["scene"]["data-busy"] == "true"
    assert f"Replaying to step 50: at {BUDGET}" in page.text("train-status")
    poll = page.attrs["net-poll"]
    assert html.unescape(poll["hx-get"]) == f"/network?seed={seed}&steps=50"
    # the poller's requests replace the address with the step reached
    reply = client.get(poll["hx-get"], headers={**HTMX, "HX-Trigger": "net-poll"})
    assert reply.headers["hx-replace-url"] == f"/network?seed={seed}&steps={2 * BUDGET}"
    reply = client.get(poll["hx-get"], headers={**HTMX, "HX-Trigger": "net-poll"})
    done = Page(reply.text)
    assert done.attrs["scene"]["data-steps"] == "50"
    assert done.attrs["scene"]["data-busy"] == "false" and "net-poll" not in done.attrs
    assert reply.headers["hx-replace-url"] == f"/network?seed={seed}&steps=50"
    # the state reached is the straight run's
    trainer = Trainer(TrainConfig(seed=seed))
    trainer.run(50)
    test = digits.split().test
    right = np.mean(trainer.net.forward(test.inputs()).argmax(axis=1) == test.labels)
    assert done.attrs["scene"]["data-test-accuracy"] == repr(float(right))


def test_live_training_moves_on_by_its_budget_until_its_target(client: httpx.Client) -> None:
    url, seen = "/network?seed=777&train=50", []
    for _ in range(5):
        reply = client.get(url, headers={**HTMX, "HX-Trigger": "net-poll"})
        page = Page(reply.text)
        seen.append(int(page.attrs["scene"]["data-steps"]))
        if "net-poll" not in page.attrs:
            break
        url = html.unescape(page.attrs["net-poll"]["hx-get"])
        assert "Pause" in reply.text
    assert seen == [BUDGET, 2 * BUDGET, 50]
    assert reply.headers["hx-replace-url"] == "/network?seed=777&steps=50"
    values = Page(reply.text).attrs["accuracy-curve"]["data-test"].split(",")
    assert len(values) == 3  # steps 0, 20 and 40


def test_a_bigger_batch_trains_fewer_steps_a_request() -> None:
    settings = Settings()
    from app.web.scene_network import ViewNetwork, request_budget
    assert request_budget(ViewNetwork(batch=256), settings) == \
        max(1, settings.network_request_digits // 256)
    assert request_budget(ViewNetwork(batch=1), settings) == settings.network_request_digits


def test_the_buttons_step_an_epoch_and_reset(client: httpx.Client) -> None:
    text = client.get("/network?steps=3&batch=100").text
    hrefs = dict((label, html.unescape(h)) for h, label in
                 re.findall(r'<a class="button"[^>]*? href="([^"]+)"[^>]*>([^<]+)</a>', text))
    assert hrefs["One step"] == "/network?batch=100&steps=4"
    assert hrefs["One epoch"] == "/network?batch=100&steps=18"  # 15 steps of 100 an epoch
    assert hrefs["Reset"] == "/network?batch=100"
    assert hrefs["Train live"] == "/network?batch=100&steps=3&train=303"  # 20 epochs on


def test_the_backward_steps_say_the_engines_numbers(client: httpx.Client) -> None:
    weights = weights_after(10)
    image = digits.load().images[digits.split().test_index[0]] / 16
    want = by_hand(image, weights)
    label = int(digits.split().test.labels[0])
    start = Page(client.get("/network?steps=10&panel=backward").text)
    assert start.text("step-status") == "Step 0 of 8"
    assert start.attrs["player"]["data-base"] == "/network?steps=10&panel=backward"
    reply = client.get("/network?steps=10&panel=backward&step=1&prev=0", headers=HTMX)
    step = Page(reply.text)
    assert step.text("step-status") == "Step 1 of 8"
    delta = want["p"][label] - 1
    assert f"{delta:.3f}".rstrip("0") in step.text("arith")
    assert f"p − onehot({label})" in step.text("arith")
    # δ at the logits is drawn from step 1; conv1's gradient waits for step 8
    assert re.search(r'data-item="d-logits">.*?data-values', reply.text, re.S)
    d = re.search(r'data-item="d-logits">.*?data-values="([^"]+)"', reply.text, re.S).group(1)
    onehot = np.eye(10)[label]
    np.testing.assert_allclose([float(v) for v in d.split(",")], want["p"] - onehot,
                               rtol=1e-10, atol=1e-15)
    assert 'class="waiting-note">step 8<' in reply.text
    last = client.get("/network?steps=10&panel=backward&step=8&prev=7", headers=HTMX).text
    assert "waiting-note" not in last
    # conv1's kernels beside their gradients: W₁, ∂L/∂W₁ kernel by kernel, the engine's
    net = Network.digits(0)
    for name, value in net.params():
        value[...] = weights[name]
    _, grads = net.gradients(image[None, None], np.array([label]))
    item = re.search(r'data-item="dw1">(.*?)</figure>', last, re.S).group(1)
    shown = [np.array([float(v) for v in m.split(",")]).reshape(3, 3)
             for m in re.findall(r'data-values="([^"]+)"', item)]
    np.testing.assert_array_equal(np.array(shown[0::2]), weights["conv1.weight"][:, 0])
    np.testing.assert_allclose(np.array(shown[1::2]), grads["conv1.weight"][:, 0],
                               rtol=1e-12, atol=1e-15)
    relu = want["conv2"] > 0
    four = client.get("/network?steps=10&panel=backward&step=4&prev=3", headers=HTMX).text
    assert f"({int(relu.sum())} of 128)" in Page(four).text("arith")


def test_the_results_are_the_test_digits_counted(client: httpx.Client) -> None:
    text = client.get("/network?steps=20&panel=results").text
    trainer = Trainer(TrainConfig())
    trainer.run(20)
    test = digits.split().test
    predicted = trainer.net.forward(test.inputs()).argmax(axis=1)
    counts = np.bincount(test.labels * 10 + predicted, minlength=100).reshape(10, 10)
    table = re.search(r'<table id="confusion".*?</table>', text, re.S).group(0)
    rows = [[int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>", row)]
            for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, re.S)]
    assert rows == counts.tolist()
    wrong = np.flatnonzero(predicted != test.labels)
    link = r'<a href="/network\?[^"]*digit=(\d+)[^"]*" title="Test digit'
    shown = [int(n) for n in re.findall(link, text)]
    assert shown == (wrong[:12] + 1).tolist()
    assert f"Test digits it gets wrong: {len(wrong)} of 300" in text
    kernels = re.search(r'class="net-kernels">(.*?)</figure>', text, re.S).group(1)
    values = [np.array([float(v) for v in m.split(",")]).reshape(3, 3)
              for m in re.findall(r'data-values="([^"]+)"', kernels)]
    np.testing.assert_array_equal(np.array(values), trainer.net.params()[0][1][:, 0])


def test_a_drawing_is_the_networks_input_and_gets_its_prediction(client: httpx.Client) -> None:
    pixels = np.zeros((8, 8), dtype=int)
    pixels[1:7, 3:5] = 16  # a stroke down the middle: a 1, perhaps
    pixels[6, 2:6] = 9
    draw = ",".join(map(str, pixels.ravel()))
    text = client.get(f"/network?steps=20&panel=draw&draw={draw}").text
    want = by_hand(pixels / 16, weights_after(20))
    np.testing.assert_array_equal(maps(text, "input")[0], pixels / 16)
    np.testing.assert_allclose(np.array(maps(text, "conv2")), want["conv2"], rtol=1e-10,
                               atol=1e-12)
    predicted = int(np.argmax(want["p"]))
    page = Page(text)
    assert page.text("prediction").startswith(
        f"Predicted {predicted} ({100 * want['p'][predicted]:.1f} %)")
    assert page.text("digit-status").startswith("Your drawing")
    pad = [int(v) for v in re.findall(r'class="px v(\d+)"', text)]
    assert pad == pixels.ravel().tolist()
    assert page.attrs["pad"]["data-base"] == "/network?steps=20&panel=draw"


def test_the_page_says_vary_and_pushes_its_address(client: httpx.Client) -> None:
    reply = client.get("/network?steps=2&digit=9", headers={**HTMX, "HX-Trigger": "x"})
    assert "HX-Request" in reply.headers["vary"]
    assert reply.headers["hx-push-url"] == "/network?steps=2&digit=9"
    assert reply.text.lstrip().startswith('<section id="scene"')


@pytest.mark.parametrize(("query", "status", "message"), [
    ("lr=abc", 422, "lr must be a number (the learning rate)"),
    ("lr=0", 422, "lr must be a number above 0 and at most 1, got 0"),
    ("lr=nan", 422, "got nan"),
    ("lr=-inf", 422, "got -inf"),
    ("lr=1e999", 422, "got 1e999"),
    ("batch=0", 422, "batch must be between 1 and 256 (digits in a training step), got 0"),
    ("batch=257", 413, "got 257 (network_max_batch=256)"),
    ("steps=20001", 413, "got 20001 (network_max_steps=20000)"),
    ("steps=-3", 422, "steps must be between 0 and 20000, got a negative number"),
    ("steps=" + "9" * 400, 422, "steps must be a whole number from 0 to 20000"),
    ("train=1.5", 422, "train must be a whole number"),
    ("digit=0", 422, "digit must be between 1 and 300 (one of the 300 test digits), got 0"),
    ("digit=301", 422, "got 301"),
    ("seed=-1", 422, "seed must be between 0 and 2147483647, got a negative number"),
    ("seed=", 200, None),
    ("draw=1,2,3", 422, "draw must be 64 whole numbers from 0 to 16 separated by commas"),
    ("draw=" + ",".join(["17"] * 64), 422, "draw's pixels must be from 0 to 16, got 17"),
    ("draw=" + ",".join(["-1"] * 64), 422, "draw must be 64 whole numbers"),
    ("draw=" + ",".join(["1"] * 20000), 414, "page_max_query_bytes"),
    ("panel=forward", 422, "panel must be 'train' (the curves), 'backward' (the backward"),
    ("speed=nan", 200, None),
    ("step=-1", 422, "step must be between 0 and 1000000"),
])
def test_bad_parameters_are_explained_on_the_page(client: httpx.Client, query: str,
                                                  status: int, message: str | None) -> None:
    reply = client.get(f"/network?{query}")
    assert reply.status_code == status, reply.text[-500:]
    if message:
        assert message in html.unescape(reply.text)
        assert len(reply.text) < 200_000  # no huge echo


def test_an_address_too_long_is_a_414(client: httpx.Client) -> None:
    reply = client.get("/network?lr=" + "1" * 17_000)
    assert reply.status_code == 414 and "page_max_query_bytes" in reply.text


def test_the_templates_read_only_what_the_contract_lists(client: httpx.Client) -> None:
    names = members(contract.SceneNetworkContract)
    read = read_by_templates(("page_network.html", "network_parts.html"))
    assert read <= set(names), read - set(names)
    assert (TEMPLATES / "network_parts.html").exists()
    from app.engine.training import CheckpointCache
    from app.web.scene_network import parse_view_network
    view = parse_view_network({"steps": "3", "panel": "backward", "step": "2"}, Settings())
    scene = SceneNetwork(view, CheckpointCache(1, 1).advance(view.config, 3, 5))
    assert isinstance(scene, contract.SceneNetworkContract)
    for name in names:
        assert hasattr(scene, name), name
