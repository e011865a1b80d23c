"""The /network page: the digits CNN drawn layer by layer for one test digit, with the weights
of a training run after ``steps`` steps, its class probabilities, its training curves, and
the controls that train it.

Every number comes from the engine: the weights from :mod:`app.engine.training` (in the
compute process, bounded by the page's limits: :class:`~app.config.Settings`'
``network_*``), the activations and δ from :class:`~app.engine.network.Network`'s records,
the probabilities from :func:`~app.engine.layers.softmax`. This module only decides how they
look: a map's grey (:class:`~app.web.picture.GreyScale`, one scale per layer), a bar's width,
a curve's points.

The state is the URL's (:class:`ViewNetwork`): ``seed``, ``lr``, ``batch`` fix the run,
``steps`` says how far it has trained, ``digit`` which test digit is shown (0..299), and
``train`` (when above ``steps``) the step live training is heading for. A request trains at
most ``network_request_digits`` digits (``steps × batch``) from the nearest checkpoint; when
that falls short of where the URL asks, the page shows where it got and asks again (htmx
polling), so no request costs more than that however far the URL points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cached_property
from urllib.parse import urlencode

import numpy as np
from markupsafe import Markup, escape

from ..config import Settings
from ..engine import digits as digits_data
from ..engine.layers import softmax
from ..engine.training import EVAL_EVERY, TRAIN_PROBE, TrainConfig, Trained, confusion_matrix
from ..i18n import N_, gettext
from . import playback
from .axes import Axis, polyline_points, tick_marks, ticks
from .formatting import format_exact, format_number
from .lesson import STOPS
from .parsing import StateError, flag
from .picture import GreyScale

#: the player's default speed on this page (steps of the backward pass per second)
DEFAULT_SPEED = 1.0
#: what the panel under the network shows: the training curves, or the backward pass
PANELS = ("train", "backward", "results", "draw")


@dataclass(frozen=True)
class ViewNetwork:
    """Everything /network shows, as the URL says it (see the module docstring)."""

    seed: int = 0
    lr: float = 0.01
    batch: int = 32
    steps: int = 0
    train: int = 0
    digit: int = 1
    draw: tuple[int, ...] | None = None  # a digit drawn on the pad: 64 pixels 0..16, by rows
    panel: str = "train"
    step: int = 0
    speed: float = DEFAULT_SPEED
    projector: bool = False
    tour: int = 0

    @property
    def config(self) -> TrainConfig:
        return TrainConfig(seed=self.seed, lr=self.lr, batch_size=self.batch)

    @property
    def target(self) -> int:
        """The step this request heads for: ``train`` while training live, else ``steps``."""
        return max(self.train, self.steps)

    @property
    def default_speed(self) -> float:
        return DEFAULT_SPEED

    def query(self, **changes) -> str:
        """The canonical query string: only what differs from the defaults."""
        view = replace(self, **changes) if changes else self
        default = ViewNetwork()
        params = {}
        for f in fields(view):
            value = getattr(view, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "train" and value <= view.steps:
                continue
            params[f.name] = "1" if value is True else \
                format_exact(value) if isinstance(value, float) else \
                ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        return urlencode(params, safe=",")

    def scene_query(self) -> str:
        return self.query(step=0, speed=DEFAULT_SPEED, projector=False, tour=0, train=0)


def _whole(query: Mapping[str, str], field: str, lo: int, hi: int, limit: str | None = None,
           what: str = "") -> dict:
    """``field``, a whole number from ``lo`` to ``hi``; ``what`` (marked for translation)
    says what it counts, in parentheses after the range."""
    text = query.get(field, "").strip()
    if not text:
        return {}
    what = f" ({gettext(what)})" if what else ""
    numbers = {"field": field, "lo": lo, "hi": hi, "what": what, "limit": limit}
    if len(text) > 12 or not text.isdigit():
        if text.startswith("-") and text[1:].isdigit():
            raise StateError(field, gettext(
                "%(field)s must be between %(lo)s and %(hi)s, got a negative number") % numbers)
        raise StateError(field, gettext("%(field)s must be a whole number from %(lo)s to "
                                        "%(hi)s%(what)s") % numbers)
    value = int(text)
    if not lo <= value <= hi:
        numbers["value"] = value
        if limit and value > hi:
            message = gettext("%(field)s must be between %(lo)s and %(hi)s%(what)s, got "
                              "%(value)s (%(limit)s=%(hi)s)") % numbers
        else:
            message = gettext("%(field)s must be between %(lo)s and %(hi)s%(what)s, got "
                              "%(value)s") % numbers
        raise StateError(field, message, limit if value > hi else None)
    return {field: value}


def parse_view_network(query: Mapping[str, str], limits: Settings) -> ViewNetwork:
    """Read /network's state; :class:`StateError` names a bad parameter."""
    changes: dict = {}
    changes |= _whole(query, "seed", 0, 2**31 - 1)
    changes |= _whole(query, "batch", 1, limits.network_max_batch, "network_max_batch",
                      N_("digits in a training step"))
    changes |= _whole(query, "steps", 0, limits.network_max_steps, "network_max_steps",
                      N_("training steps"))
    changes |= _whole(query, "train", 0, limits.network_max_steps, "network_max_steps",
                      N_("the step live training goes to"))
    changes |= _whole(query, "digit", 1, len(digits_data.split().test), None,
                      N_("one of the 300 test digits"))
    changes |= _whole(query, "step", 0, 10**6)
    if query.get("lr", "").strip():
        text = query["lr"].strip()
        try:
            lr = float(text[:40])
        except ValueError:
            raise StateError("lr", gettext("lr must be a number (the learning rate), e.g. "
                                           "0.01")) from None
        if not (math.isfinite(lr) and 0 < lr <= 1):
            raise StateError("lr", gettext("lr must be a number above 0 and at most 1, got "
                                           "%(value)s") % {"value": text[:20]})
        changes["lr"] = lr
    if query.get("speed", "").strip():
        try:
            speed = float(query["speed"][:40])
        except ValueError:
            raise StateError("speed", gettext("speed must be a number of steps per second")) \
                from None
        listed = playback.speeds("network")
        changes["speed"] = playback.playable(min(max(speed, listed[0]), listed[-1]), listed) \
            if math.isfinite(speed) else DEFAULT_SPEED
    if query.get("draw", "").strip():
        text = query["draw"].strip()
        cells = text.split(",")
        if len(cells) != 64 or not all(c.strip().isdigit() and len(c.strip()) <= 2
                                       for c in cells):
            raise StateError("draw", gettext(
                "draw must be 64 whole numbers from 0 to 16 separated by commas (an 8 x 8 "
                "drawing, row by row), got %(got)s values") % {"got": min(len(cells), 9999)})
        pixels = tuple(int(c) for c in cells)
        if max(pixels) > digits_data.MAX_PIXEL:
            raise StateError("draw", gettext("draw's pixels must be from 0 to 16, got %(got)s")
                             % {"got": max(pixels)})
        changes["draw"] = pixels
    if query.get("panel", "").strip():
        if query["panel"] not in PANELS:
            raise StateError("panel", gettext(
                "panel must be 'train' (the curves), 'backward' (the backward pass, step by "
                "step), 'results' (the confusion matrix, kernels and mistakes) or 'draw' (the "
                "drawing pad)"))
        changes["panel"] = query["panel"]
    changes["projector"] = flag(query, "projector")
    changes |= _whole(query, "tour", 1, len(STOPS))
    return ViewNetwork(**changes)


def request_budget(view: ViewNetwork, limits: Settings) -> int:
    """The training steps one request may take: ``network_request_digits`` digits' worth."""
    return max(1, limits.network_request_digits // view.batch)


# --------------------------------------------------------------------------- drawing

#: the layers as the page draws them: record name, heading, what it does
LAYERS = (
    ("conv1", "conv1", "Conv2d(1, 4, 3, padding=1)"),
    ("relu1", "ReLU", "max(0, x)"),
    ("pool1", "pool", "MaxPool2d(2)"),
    ("conv2", "conv2", "Conv2d(4, 8, 3, padding=1)"),
    ("relu2", "ReLU", "max(0, x)"),
    ("pool2", "pool", "MaxPool2d(2)"),
)


def shape_text(shape: tuple[int, ...]) -> str:
    """A shape as PyTorch prints a tensor's: ``[1, 4, 8, 8]``."""
    return "[" + ", ".join(map(str, shape)) + "]"


def map_svg(values: np.ndarray, scale: GreyScale, label: str, css: str = "") -> Markup:
    """A 2-D array as a grey picture: one square per value, its grey on ``scale``; the
    exact values in ``data-values`` (row by row) and the label as its accessible name."""
    h, w = values.shape
    rects = []
    for r in range(h):
        for c in range(w):
            g, _ = scale.level(float(values[r, c]))
            rects.append(f'<rect x="{c}" y="{r}" width="1" height="1" fill="rgb({g},{g},{g})"/>')
    data = ",".join(format_exact(v) for v in values.ravel())
    return Markup(f'<svg class="map s{h} {css}" viewBox="0 0 {w} {h}" role="img" '
                  f'aria-label="{escape(label)}" data-values="{data}" '
                  f'shape-rendering="crispEdges">{"".join(rects)}</svg>')


@dataclass(frozen=True)
class Map:
    """One feature map: its values (H, W), its picture and, for a convolution's map, the
    address of that one convolution on /2d."""

    label: str
    values: np.ndarray
    svg: Markup
    link: str | None = None
    link_title: str = ""


@dataclass(frozen=True)
class Column:
    """One layer's output: its name, the module, its shape (N, C, H, W) and one map a
    channel, on one grey scale."""

    key: str
    title: str
    module: str
    shape: tuple[int, ...]
    maps: list[Map]
    scale: GreyScale


def _conv_link(x: np.ndarray, w: np.ndarray, bias: float | None) -> str:
    rows = lambda a: ";".join(",".join(format_exact(v) for v in row) for row in a)  # noqa: E731
    params = {"x": rows(x), "w": rows(w), "padding": "1"}
    if bias:
        params["bias"] = format_exact(bias)
    return "/2d?" + urlencode(params, safe=",;")


# --------------------------------------------------------------------------- backward

#: the backward pass as the player steps through it, one layer a step, from the loss down:
#: (layer, what the step says in words)
BACKWARD = (
    ("fc", "softmax"), ("fc", "linear"), ("pool2", "pool"), ("relu2", "ReLU"),
    ("conv2", "conv2"), ("pool1", "pool"), ("relu1", "ReLU"), ("conv1", "conv1"),
)


@dataclass(frozen=True)
class BackItem:
    """One picture group of the backward row: what it shows, its shape (PyTorch's
    notation), its maps, and the player step from which it is filled in."""

    key: str
    title: str
    shape: tuple[int, ...]
    maps: list[Map]
    step: int
    kind: str  # "delta" (a δ) or "grad" (a parameter's gradient)

    @property
    def shape_label(self) -> str:
        return shape_text(self.shape)


def _symmetric(a: np.ndarray) -> GreyScale:
    """A scale with 0 at mid-grey: black −m, white +m, m the largest |value| (a δ has both
    signs, and a zero is what is blocked)."""
    m = float(np.abs(a).max()) if a.size else 0.0
    return GreyScale(-m, m) if m > 0 else GreyScale(0.0, 0.0)


def _maps(title: str, a: np.ndarray) -> list[Map]:
    """One map per channel of ``a`` (C, H, W) on one symmetric scale."""
    scale = _symmetric(a)
    labels = [gettext("%(map)s, channel %(channel)s of %(channels)s") % {
        "map": gettext(title), "channel": c + 1, "channels": len(a)} for c in range(len(a))]
    return [Map(label, a[c], map_svg(a[c], scale, label)) for c, label in enumerate(labels)]


class BackwardMixin:
    """The backward pass of the digit shown, stepped by the player (mixed into
    :class:`SceneNetwork`, which has ``records``, ``label``, ``probabilities``)."""

    records: dict
    label: int
    step: int

    @property
    def steps(self) -> int:
        return len(BACKWARD)

    @cached_property
    def back_items(self) -> list[BackItem]:
        """The backward row, in the network's order (input at the left), each filled in at
        the step the gradient reaches it."""
        r = self.records
        items = [
            BackItem("dx", "∂L/∂x", r["conv1"].delta_input.shape,
                     _maps(N_("∂L/∂x, the input's gradient"), r["conv1"].delta_input[0]), 8,
                     "delta"),
            BackItem("dw1", "W₁ | ∂L/∂W₁", r["conv1"].grads["weight"].shape,
                     _beside(r["conv1"].params["weight"][:, 0],
                             r["conv1"].grads["weight"][:, 0]), 8, "grad"),
            BackItem("d-conv1", "δ conv1", r["conv1"].output.shape,
                     _maps(N_("δ at conv1's output"), r["relu1"].delta_input[0]), 7, "delta"),
            BackItem("d-relu1", "δ ReLU", r["relu1"].output.shape,
                     _maps(N_("δ at the first ReLU's output"), r["pool1"].delta_input[0]), 6,
                     "delta"),
            BackItem("d-pool1", "δ pool", r["pool1"].output.shape,
                     _maps(N_("δ at pool1's output"), r["conv2"].delta_input[0]), 5, "delta"),
            BackItem("dw2", "∂L/∂W₂", r["conv2"].grads["weight"].shape,
                     _maps(N_("∂L/∂W of conv2, output channel's kernels"),
                           _mosaic(r["conv2"].grads["weight"])), 5, "grad"),
            BackItem("d-conv2", "δ conv2", r["conv2"].output.shape,
                     _maps(N_("δ at conv2's output"), r["relu2"].delta_input[0]), 4, "delta"),
            BackItem("d-relu2", "δ ReLU", r["relu2"].output.shape,
                     _maps(N_("δ at the second ReLU's output"), r["pool2"].delta_input[0]), 3,
                     "delta"),
            BackItem("d-pool2", "δ pool", r["pool2"].output.shape,
                     _maps(N_("δ at pool2's output"), r["flatten"].delta_input[0]), 2, "delta"),
            BackItem("dwfc", "∂L/∂W fc", r["fc"].grads["weight"].shape,
                     _maps(N_("∂L/∂W of the linear layer"), r["fc"].grads["weight"][None]), 2,
                     "grad"),
            BackItem("d-logits", "δ logits", r["fc"].output.shape,
                     _maps(N_("δ = ∂L/∂z at the logits"), r["fc"].delta_output[0][:, None][None]),
                     1, "delta"),
        ]
        return items

    def sentence(self, step: int | None = None) -> str:
        """What the step does, in words and the engine's numbers."""
        step = self.step if step is None else step
        r = self.records
        if step == 0:
            return gettext("Press Play or Step forward: the gradient of the loss flows back, "
                           "layer by layer, from the softmax to conv1.")
        if step == 1:
            d = r["fc"].delta_output[0]
            return gettext("Softmax and loss: δ = ∂L/∂z = p − onehot(%(label)s): %(value)s at "
                           "class %(label)s, the other nine their probabilities (Σδ = "
                           "%(sum)s).") % {"label": self.label,
                                           "value": format_number(d[self.label]),
                                           "sum": format_number(float(d.sum()))}
        if step == 2:
            g = r["fc"].grads["weight"]
            return gettext("Linear: δ to its input = Wᵀδ (32 values, drawn as pool2's "
                           "[1, 8, 2, 2]); ∂L/∂W = δ xᵀ, shape %(shape)s, largest |∂L/∂W| "
                           "%(largest)s.") % {"shape": shape_text(g.shape),
                                              "largest": format_number(float(np.abs(g).max()))}
        if step in (3, 6):
            name = "pool2" if step == 3 else "pool1"
            d = r[name].delta_input
            return gettext("Max pool (%(name)s): each δ goes to the winner of its 2×2 window, "
                           "the other three get 0: %(nonzero)s of %(size)s nonzero.") % {
                "name": name, "nonzero": int(np.count_nonzero(d)), "size": d.size}
        if step in (4, 7):
            name, conv = ("relu2", "conv2") if step == 4 else ("relu1", "conv1")
            x = r[name].input
            return gettext("ReLU: δ passes where %(conv)s's output was > 0 (%(positive)s of "
                           "%(size)s) and is blocked elsewhere.") % {
                "conv": conv, "positive": int(np.count_nonzero(x > 0)), "size": x.size}
        name = "conv2" if step == 5 else "conv1"
        g = r[name].grads
        values = {"name": name, "shape": shape_text(g["weight"].shape),
                  "bias": ", ".join(format_number(v) for v in g["bias"])}
        if name == "conv2":
            return gettext("%(name)s: ∂L/∂W = δ slid over its input (shape %(shape)s), ∂L/∂b = "
                           "Σδ = [%(bias)s]; ∂L/∂X to pool1's output = the full convolution of "
                           "δ with the flipped kernels.") % values
        return gettext("%(name)s: ∂L/∂W = δ slid over its input (shape %(shape)s), ∂L/∂b = Σδ "
                       "= [%(bias)s]; ∂L/∂X to the input digit = the full convolution of δ with "
                       "the flipped kernels.") % values

    def shown(self, item: BackItem, step: int | None = None) -> bool:
        step = self.step if step is None else step
        return step >= item.step


def _beside(weight: np.ndarray, grad: np.ndarray) -> list[Map]:
    """Each kernel (K, 3, 3) and its gradient side by side, kernel by kernel: W₁, ∂L/∂W₁, W₂,
    ... (the weights on one symmetric scale, the gradients on another)."""
    ws, gs = _maps(N_("conv1's kernel"), weight), _maps(N_("∂L/∂W of conv1's kernel"), grad)
    return [m for pair in zip(ws, gs, strict=True) for m in pair]


def _mosaic(weight: np.ndarray) -> np.ndarray:
    """conv2's kernels (C_out, C_in, 3, 3) as one picture per output channel: its C_in
    kernels side by side, (C_out, 3, C_in * 3)."""
    c_out, c_in, kh, kw = weight.shape
    return weight.transpose(0, 2, 1, 3).reshape(c_out, kh, c_in * kw)


# the curves' frame, in SVG units
CURVE_W, CURVE_H = 320, 150
CURVE_LEFT, CURVE_RIGHT, CURVE_TOP, CURVE_BOTTOM = 72, 14, 12, 32


class SceneNetwork(BackwardMixin):
    """The page at the view's state: ``trained`` is where the run got (maybe short of the
    view's target, see the module docstring)."""

    def __init__(self, view: ViewNetwork, trained: Trained) -> None:
        self.view, self.trained = view, trained
        self.step_count = trained.step
        self.target = trained.target
        self.config = view.config
        split = digits_data.split()
        self.test = split.test
        net = trained.network()
        # the whole test set with these weights first: the records below are the digit's
        self.test_logits = net.forward(self.test.inputs())
        self.test_predictions = np.argmax(self.test_logits, axis=1)
        self.test_accuracy = float(np.mean(self.test_predictions == self.test.labels))
        self.index = view.digit - 1  # the URL counts from 1
        self.drawn = view.draw is not None
        if self.drawn:  # no true class: the backward pass goes towards the one predicted
            self.pixels = np.array(view.draw, dtype=np.int64).reshape(8, 8)
            self.x = (self.pixels / digits_data.MAX_PIXEL)[None, None]
            self.label = int(np.argmax(net.forward(self.x)[0]))
        else:
            self.pixels = self.test.images[self.index]
            self.x = self.test.inputs()[self.index:self.index + 1]
            self.label = int(self.test.labels[self.index])
        self.loss, self.grads = net.gradients(self.x, np.array([self.label]))
        self.records = {r.name: r for r in net.records()}
        self.logits = self.records["fc"].output[0]
        self.probabilities = softmax(self.records["fc"].output)[0]
        self.predicted = int(np.argmax(self.probabilities))
        self.history = trained.history
        self.params = trained.params
        self.step = min(view.step, self.steps)
        self.speeds = playback.speeds("network")

    @property
    def base(self) -> str:
        """The player's address: this state, without its step."""
        return "/network?" + self.view.query(steps=self.step_count, train=0, step=0)

    # ---------------------------------------------------------------- status

    @property
    def busy(self) -> bool:
        """Whether the page asks again: the state the URL points to is not reached yet."""
        return self.step_count < self.target

    @property
    def live(self) -> bool:
        """Training live (the URL's ``train``), as opposed to catching up with ``steps``."""
        return self.view.train > self.view.steps

    @property
    def epoch(self) -> float:
        return self.step_count / self.config.steps_per_epoch

    @property
    def steps_per_epoch(self) -> int:
        return self.config.steps_per_epoch

    def shown_query(self, **changes) -> str:
        """The address of what this response shows: the step reached."""
        train = self.view.train if self.busy and self.live else 0
        return self.view.query(steps=self.step_count, train=train, step=0, **changes)

    def next_query(self) -> str:
        """Where the page asks next while :attr:`busy`."""
        if self.live:
            return self.view.query(steps=self.step_count, step=0)
        return self.view.query()  # catching up with the address: its player step kept

    # ---------------------------------------------------------------- the network drawn

    @cached_property
    def input_column(self) -> Column:
        x = self.x[0, 0]
        scale = GreyScale(0.0, 1.0)
        label = gettext("Input: your drawing, 8 × 8, pixels / 16") if self.drawn else \
            gettext("Input: test digit %(digit)s of 300 (a %(label)s), 8 × 8, pixels / 16") % {
                "digit": self.view.digit, "label": self.label}
        return Column("input", "input", "x / 16", self.x.shape,
                      [Map(label, x, map_svg(x, scale, label))], scale)

    @cached_property
    def columns(self) -> list[Column]:
        """Every layer from conv1 to the last pool, one column each."""
        out = []
        for key, title, module in LAYERS:
            record = self.records[key]
            a = record.output[0]
            scale = GreyScale.of(a)
            maps = []
            for c in range(a.shape[0]):
                label = gettext("%(title)s (%(key)s) channel %(channel)s of %(channels)s, "
                                "%(rows)s × %(cols)s") % {
                    "title": title, "key": key, "channel": c + 1, "channels": a.shape[0],
                    "rows": a.shape[1], "cols": a.shape[2]}
                link, link_title = None, ""
                if record.kind == "conv":
                    weight, bias = record.params["weight"], record.params["bias"]
                    if key == "conv1":
                        link = _conv_link(record.input[0, 0], weight[c, 0], float(bias[c]))
                        link_title = gettext("Open this convolution on /2d: the digit ⋆ "
                                             "kernel %(kernel)s + its bias") % {"kernel": c + 1}
                    else:
                        link = _conv_link(record.input[0, 0], weight[c, 0], None)
                        link_title = gettext(
                            "Open on /2d the first of the %(count)s convolutions this map adds: "
                            "pool1's channel 1 ⋆ kernel %(kernel)s's channel 1 (the map adds "
                            "all %(count)s and its bias)") % {"count": weight.shape[1],
                                                              "kernel": c + 1}
                maps.append(Map(label, a[c], map_svg(a[c], scale, label), link, link_title))
            out.append(Column(key, title, module, record.output.shape, maps, scale))
        return out

    @cached_property
    def logits_svg(self) -> Markup:
        z = self.logits[None, :].T  # a column of ten
        label = gettext("Linear(32, 10): the ten logits, 0 at the top to 9 at the bottom")
        return map_svg(z, GreyScale.of(z), label, "logits")

    @property
    def shapes(self) -> dict[str, str]:
        """Each layer's output shape, PyTorch's notation (N, C, H, W)."""
        shown = {"input": shape_text(self.x.shape)}
        shown |= {key: shape_text(self.records[key].output.shape) for key, *_ in LAYERS}
        shown["flatten"] = shape_text(self.records["flatten"].output.shape)
        shown["fc"] = shape_text(self.records["fc"].output.shape)
        return shown

    def percent(self, p: float) -> str:
        """A probability as the page writes it, in per cent to one decimal."""
        return f"{100 * float(p):.1f} %"

    @cached_property
    def bars(self) -> list[tuple[int, float, float, str]]:
        """Per class: the digit, its probability, the bar's width (SVG units of 100), and
        its text."""
        return [(k, float(p), round(100 * float(p), 2), self.percent(p))
                for k, p in enumerate(self.probabilities)]

    # ---------------------------------------------------------------- curves

    @cached_property
    def curve_axes(self) -> tuple[Axis, Axis, Axis]:
        """Steps across (0 to the larger of the step reached and an epoch), loss up (0 to
        its largest window mean), accuracy up (0 to 1)."""
        losses = self.history.window_losses()
        top = max(losses, default=1.0) or 1.0
        right = max(self.step_count, self.steps_per_epoch)
        tx = Axis(0, right, CURVE_LEFT, CURVE_W - CURVE_RIGHT)
        return (tx, Axis(0, top, CURVE_H - CURVE_BOTTOM, CURVE_TOP),
                Axis(0, 100, CURVE_H - CURVE_BOTTOM, CURVE_TOP))

    @property
    def curve_frame(self) -> tuple[int, int]:
        return CURVE_W, CURVE_H

    @cached_property
    def loss_points(self) -> str:
        tx, ty, _ = self.curve_axes
        losses = self.history.window_losses()
        xs = [min((i + 1) * EVAL_EVERY, self.step_count) for i in range(len(losses))]
        return polyline_points(xs, losses, tx, ty) if losses else ""

    def accuracy_points(self, which: str) -> str:
        tx, _, ta = self.curve_axes
        values = getattr(self.history, f"{which}_accuracy")  # fractions, drawn in per cent
        return polyline_points(self.history.eval_steps, [100 * v for v in values], tx, ta)

    def _x_ticks(self, tx: Axis) -> list[float]:
        label = len(str(int(tx.hi))) * 18 + 16  # room for a projector's 29-unit labels
        return ticks(0, tx.hi, (tx.out_hi - tx.out_lo) / label, integer=True)

    @cached_property
    def loss_ticks(self) -> Markup:
        tx, ty, _ = self.curve_axes
        return tick_marks(tx, ty, x_values=self._x_ticks(tx), x_at=CURVE_H - 8,
                          y_values=ticks(0, ty.hi, 3), y_at=CURVE_LEFT)

    @cached_property
    def accuracy_ticks(self) -> Markup:
        tx, _, ta = self.curve_axes
        return tick_marks(tx, ta, x_values=self._x_ticks(tx), x_at=CURVE_H - 8,
                          y_values=[0.0, 50.0, 100.0], y_at=CURVE_LEFT)

    @property
    def last_loss(self) -> float | None:
        losses = self.history.window_losses()
        return losses[-1] if losses else None

    @property
    def train_accuracy(self) -> float:
        """The train accuracy at the last measurement (``TRAIN_PROBE`` training digits)."""
        return self.history.train_accuracy[-1]

    @property
    def measured_at(self) -> int:
        return self.history.eval_steps[-1]

    train_probe = TRAIN_PROBE
    eval_every = EVAL_EVERY

    # ---------------------------------------------------------------- after training

    @cached_property
    def confusion(self) -> np.ndarray:
        """The test digits counted by true class (rows) and predicted class (columns)."""
        return confusion_matrix(self.test.labels, self.test_predictions)

    @cached_property
    def kernels(self) -> list[Map]:
        """conv1's four learned kernels (3 x 3), on one symmetric scale (mid-grey 0)."""
        w = self.params["conv1.weight"][:, 0]
        return _maps(N_("conv1's kernel"), w)

    #: how many wrongly classified test digits the page draws
    MISTAKES_SHOWN = 12

    @cached_property
    def mistakes(self) -> list[tuple[int, int, int, Markup]]:
        """The test digits classified wrongly (the first :attr:`MISTAKES_SHOWN`): their
        number (1..300), true class, predicted class and picture."""
        wrong = np.flatnonzero(self.test_predictions != self.test.labels)
        scale = GreyScale(0.0, 16.0)
        out = []
        for i in wrong[:self.MISTAKES_SHOWN]:
            label, guess = int(self.test.labels[i]), int(self.test_predictions[i])
            text = gettext("Test digit %(digit)s: a %(label)s, predicted %(guess)s") % {
                "digit": i + 1, "label": label, "guess": guess}
            out.append((int(i) + 1, label, guess,
                        map_svg(self.test.images[i].astype(float), scale, text, "mistake")))
        return out

    @property
    def mistakes_total(self) -> int:
        return int(np.count_nonzero(self.test_predictions != self.test.labels))

    # ---------------------------------------------------------------- test digits

    def digit_query(self, digit: int) -> str:
        """The address of test digit ``digit`` (1..300, wrapping round) at this step."""
        return self.view.query(digit=(digit - 1) % len(self.test) + 1, steps=self.step_count,
                               train=0, step=0, draw=None)

    @property
    def pad_base(self) -> str:
        """The address a drawing is sent to (app.js adds ``draw=``): this state, drawn."""
        panel = self.view.panel if self.view.panel != "train" else "draw"
        return "/network?" + self.view.query(steps=self.step_count, train=0, step=0,
                                             draw=None, panel=panel)

    @property
    def pad(self) -> list[list[int]]:
        """The pad's pixels (0..16): the drawing, or the test digit shown, to draw over."""
        return self.pixels.tolist()

    @property
    def correct(self) -> bool:
        return self.predicted == self.label

    def fmt(self, value: float) -> str:
        return format_number(value)


