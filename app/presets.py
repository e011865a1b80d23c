"""The lesson's examples and the kernels, images and signals the pages and the API offer.

Everything here is plain data (lists of numbers); every example is a request body ready to
POST to the API endpoint it names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .engine import forward
from .i18n import N_, pgettext


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    kind: str  # example | kernel-2d | image-2d | kernel-1d | signal-1d
    description: str
    endpoint: str | None = None
    body: dict[str, Any] | None = None
    values: list | None = None
    tags: tuple[str, ...] = field(default=())

    def summary(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "kind": self.kind,
                "description": self.description}


def _round(values: np.ndarray, digits: int = 4) -> list:
    return np.round(values, digits).tolist()


def _signal(name: str, n: int) -> list[float]:
    t = np.arange(n)
    centre = (n - 1) / 2
    if name == "box":
        return ((np.abs(t - centre) <= n / 6).astype(float)).tolist()
    if name == "spiky":  # decaying spikes, as in the lesson's first animation
        out = np.zeros(n)
        start = n // 3
        width = max(n // 4, 1)
        ramp = np.arange(width)
        out[start:start + width] = np.exp(-ramp / (width / 3))
        return _round(out)
    if name == "triangle":
        return _round(np.clip(1 - np.abs(t - centre) / (n / 4), 0, None))
    if name == "gaussian":
        return _round(np.exp(-0.5 * ((t - centre) / (n / 10)) ** 2))
    if name == "sine":
        return _round(np.sin(2 * math.pi * t / (n / 3)))
    if name == "step":
        return (t >= n // 2).astype(float).tolist()
    if name == "noise":
        return _round(np.random.default_rng(7).normal(0, 1, n))
    raise KeyError(name)


_SIGNAL_WORDS = {
    "box": "a rectangular pulse: 1 in the middle third, 0 elsewhere",
    "spiky": "a spike that decays exponentially, as in the lesson's first animation",
    "triangle": "a triangular bump",
    "gaussian": "a Gaussian bump",
    "sine": "three periods of a sine",
    "step": "0, then 1 from the middle on",
    "noise": "Gaussian noise (fixed seed)",
}

KERNELS_2D: dict[str, tuple[str, list]] = {
    "lesson": (N_("The lesson's kernel"), [[0, 1], [2, 3]]),
    "identity": (N_("Identity"), [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "box-blur": (N_("Box blur"), (np.ones((3, 3)) / 9).round(4).tolist()),
    "gaussian": (N_("Gaussian blur"), (np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16).tolist()),
    "sharpen": (N_("Sharpen"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "sobel-x": (N_("Sobel x (vertical edges)"), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel-y": (N_("Sobel y (horizontal edges)"), [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": (N_("Laplacian"), [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "emboss": (N_("Emboss"), [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
}

_DIGIT = [  # a handwritten 7, 8x8
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 6, 9, 9, 9, 9, 8, 0],
    [0, 0, 0, 0, 0, 7, 6, 0],
    [0, 0, 0, 0, 3, 9, 1, 0],
    [0, 0, 0, 1, 9, 4, 0, 0],
    [0, 0, 0, 6, 8, 0, 0, 0],
    [0, 0, 2, 9, 3, 0, 0, 0],
    [0, 0, 5, 7, 0, 0, 0, 0],
]
_SMILEY = [
    [0, 0, 1, 1, 1, 1, 0, 0],
    [0, 1, 0, 0, 0, 0, 1, 0],
    [1, 0, 1, 0, 0, 1, 0, 1],
    [1, 0, 0, 0, 0, 0, 0, 1],
    [1, 0, 1, 0, 0, 1, 0, 1],
    [1, 0, 0, 1, 1, 0, 0, 1],
    [0, 1, 0, 0, 0, 0, 1, 0],
    [0, 0, 1, 1, 1, 1, 0, 0],
]
def _digit28() -> list[list[int]]:
    """A 28x28 handwritten-looking 7, MNIST's size, as integers 0-9 (drawn, then blurred)."""
    canvas = np.zeros((28, 28))
    strokes = [((6, 6), (6, 21)), ((6, 21), (23, 11))]  # top bar, then the slanted stem
    for (r0, c0), (r1, c1) in strokes:
        for t in np.linspace(0, 1, 80):
            r, c = round(r0 + t * (r1 - r0)), round(c0 + t * (c1 - c0))
            canvas[r - 1:r + 1, c - 1:c + 1] = 1
    kernel = np.array([1, 4, 6, 4, 1]) / 16  # binomial blur, separable
    for axis in (0, 1):
        canvas = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), axis, canvas)
    return np.round(canvas / canvas.max() * 9).astype(int).tolist()


IMAGES_2D: dict[str, tuple[str, list]] = {
    "lesson": (N_("The lesson's input"), [[0, 1, 2], [3, 4, 5], [6, 7, 8]]),
    "digit": (N_("A handwritten 7"), _DIGIT),
    "digit28": (N_("A 28x28 digit, MNIST's size"), _digit28()),
    "smiley": (N_("A smiley"), _SMILEY),
    "edge": (N_("A vertical edge"), [[0] * 4 + [9] * 4 for _ in range(8)]),
    "checkerboard": (N_("A checkerboard"), [[(r + c) % 2 for c in range(8)] for r in range(8)]),
    "random": (N_("Random integers"), np.random.default_rng(3).integers(-4, 5, (6, 6)).tolist()),
}

KERNELS_1D: dict[str, tuple[str, list]] = {
    "box": (N_("Box"), [1, 1, 1]),
    "lesson": (N_("The lesson's w1, w2, w3"), [2, -1, 1]),
    "edge": (N_("Edge [-1, 0, 1]"), [-1, 0, 1]),
    "moving-average": (N_("Moving average of 5"), [0.2] * 5),
    "gaussian": (N_("Gaussian"), _round(np.exp(-0.5 * (np.arange(-3, 4) / 1.2) ** 2) /
                                    np.exp(-0.5 * (np.arange(-3, 4) / 1.2) ** 2).sum())),
    "ramp": (N_("Asymmetric ramp"), [1, 2, 3, 4]),
}

# Densely sampled versions for the continuous view: 200-sample signals and 66-sample kernels
# (66 is the box signal's own width, so box * box is the lesson's triangle).
DENSE_SAMPLES, DENSE_KERNEL = 200, 66


def _dense_kernel(name: str) -> list[float]:
    t = np.linspace(0, 1, DENSE_KERNEL)
    shapes = {
        "box": np.ones_like(t),
        "triangle": 1 - np.abs(2 * t - 1),
        "gaussian": np.exp(-0.5 * ((t - 0.5) / 0.15) ** 2),
        "ramp": t,  # asymmetric: flipping it changes the result
        "spiky": np.exp(-t / 0.25),
    }
    return _round(shapes[name])


KERNELS_1D_DENSE: dict[str, tuple[str, list]] = {
    name: (title, _dense_kernel(name)) for name, title in (
        ("box", N_("Box")), ("triangle", N_("Triangle")), ("gaussian", N_("Gaussian")),
        ("ramp", N_("Asymmetric ramp")), ("spiky", N_("Decaying spike")))
}
SIGNALS_1D: dict[str, str] = {name: name.capitalize() for name in _SIGNAL_WORDS}


def signal_titles() -> dict[str, str]:
    """:data:`SIGNALS_1D`'s titles in the request's language, as the 1-D page's chooser says
    them (in the context "signal": the signal "Step" is not the player's "Step")."""
    return {"box": pgettext("signal", "Box"), "spiky": pgettext("signal", "Spiky"),
            "triangle": pgettext("signal", "Triangle"),
            "gaussian": pgettext("signal", "Gaussian"), "sine": pgettext("signal", "Sine"),
            "step": pgettext("signal", "Step"), "noise": pgettext("signal", "Noise")}


def signal_values(name: str, dense: bool) -> list[float]:
    """A signal preset: 200 samples for the continuous view; 16, to one decimal, for the
    discrete one, so every value can be written on the plot and summed by hand."""
    if dense:
        return _signal(name, DENSE_SAMPLES)
    return _round(np.array(_signal(name, 16)), 1)


LESSON_1D = {"x": [1, 2, 3, 4, 5], "w": [2, -1, 1], "delta": [1, -1, 2]}

EXAMPLES: list[Preset] = [
    Preset(
        "lesson-2d", "The worked example", "example",
        "The lesson's 3x3 input and 2x2 kernel; the output is [[19, 25], [37, 43]].",
        "/api/v1/forward",
        {"input": [[IMAGES_2D["lesson"][1]]], "weight": [[KERNELS_2D["lesson"][1]]]},
    ),
    Preset(
        "lesson-1d-backprop", "Backpropagation in 1-D", "example",
        "Inputs x1..x5, kernel w1..w3, upstream deltas d1..d3: "
        "dL/dw1 = d1*x1 + d2*x2 + d3*x3.",
        "/api/v1/backward",
        {"input": [LESSON_1D["x"]], "weight": [[LESSON_1D["w"]]],
         "grad_output": [LESSON_1D["delta"]]},
    ),
    Preset(
        "multi-channel", "Many channels, one kernel", "example",
        "Two 3x3 input channels and one 2x2x2 kernel: each channel's sum is added into the "
        "single output map.",
        "/api/v1/forward",
        {"input": [[[[1, 0, 2], [0, 1, 0], [2, 0, 1]], [[0, 1, 0], [1, 2, 1], [0, 1, 0]]]],
         "weight": [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]]], "bias": [1]},
    ),
    Preset(
        "many-kernels", "Many channels, many kernels", "example",
        "Three kernels over a 4x4 RGB image: one output map per kernel.",
        "/api/v1/forward",
        {"input": [np.random.default_rng(5).integers(0, 4, (3, 4, 4)).tolist()],
         "weight": np.random.default_rng(6).integers(-1, 2, (3, 3, 2, 2)).tolist(),
         "bias": [0, 1, -1]},
    ),
]


def _catalogue() -> dict[str, Preset]:
    presets = {p.name: p for p in EXAMPLES}
    for name, (title, values) in KERNELS_2D.items():
        presets[f"kernel-2d-{name}"] = Preset(f"kernel-2d-{name}", title, "kernel-2d",
                                              f"{title}: a {len(values)}x{len(values[0])} kernel",
                                              values=values)
    for name, (title, values) in IMAGES_2D.items():
        presets[f"image-2d-{name}"] = Preset(f"image-2d-{name}", title, "image-2d",
                                             f"{title}: a {len(values)}x{len(values[0])} image",
                                             values=values)
    for name, (title, values) in KERNELS_1D.items():
        presets[f"kernel-1d-{name}"] = Preset(f"kernel-1d-{name}", title, "kernel-1d",
                                              f"{title}: {len(values)} taps", values=values)
    for name, (title, values) in KERNELS_1D_DENSE.items():
        key = f"kernel-1d-dense-{name}"
        presets[key] = Preset(key, title, "kernel-1d",
                              f"{title}, densely sampled: {len(values)} samples", values=values)
    for name, words in _SIGNAL_WORDS.items():
        for dense in (False, True):
            values = signal_values(name, dense)
            key = f"signal-1d-{'dense-' if dense else ''}{name}"
            presets[key] = Preset(key, name.capitalize(), "signal-1d",
                                  f"{words}; {len(values)} samples", values=values)
    return presets




@dataclass(frozen=True)
class BackpropPreset:
    """A backprop scene: input (C_in, *spatial), kernel (C_out, C_in, *k), how δ is made."""

    title: str
    x: list
    w: list
    loss: str  # "custom" (δ given), "sum" or "mse"
    delta: list | None = None
    target: list | None = None
    eta: float = 0.05


def _edge_target() -> list:
    """The edge map a Sobel x kernel makes of the smiley: what training should rediscover."""
    image = np.array(_SMILEY, dtype=float) * 4
    return forward(image[None], np.array(KERNELS_2D["sobel-x"][1], float)[None, None])[0].tolist()


BACKPROP: dict[str, BackpropPreset] = {
    "lesson-1d": BackpropPreset(
        N_("The lesson's 1-D example: x1..x5, w1..w3, δ1..δ3"),
        [LESSON_1D["x"]], [[LESSON_1D["w"]]], "custom", delta=[LESSON_1D["delta"]]),
    "lesson-2d": BackpropPreset(
        N_("The worked 2-D example, L = sum of the outputs"),
        [IMAGES_2D["lesson"][1]], [[KERNELS_2D["lesson"][1]]], "sum"),
    "channels": BackpropPreset(
        N_("Two input channels, two kernels, mean squared error"),
        [[[1, 0, 2], [0, 1, 0], [2, 0, 1]], [[0, 1, 0], [1, 2, 1], [0, 1, 0]]],
        [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], [[0, 0], [1, -1]]]],
        "mse", target=[[[2, 1], [1, 2]], [[1, 0], [0, 1]]], eta=0.05),
    "learn-sobel": BackpropPreset(
        N_("Learn a Sobel edge detector from the smiley and its edge map, starting from zeros"),
        [(np.array(_SMILEY) * 4).tolist()], np.zeros((1, 1, 3, 3)).tolist(), "mse",
        target=[_edge_target()], eta=0.02),
}


@dataclass(frozen=True)
class ChannelsPreset:
    """A multi-channel scene: input (N, C_in, H, W) and a bank of kernels (C_out, C_in, KH, KW).

    With ``groups`` g, kernel co keeps only the slices of its own group's channels, so the
    same bank serves every groups setting (PyTorch's weight is then (C_out, C_in / g, ...)).
    """

    title: str
    x: list
    w: list
    bias: list | None = None
    groups: int = 1
    channel_names: tuple[str, ...] = ()
    kernel_names: tuple[str, ...] = ()

    def weight(self, groups: int) -> np.ndarray:
        """The bank as PyTorch's weight for ``groups``: (C_out, C_in / groups, KH, KW), each
        kernel keeping the slices of its own group's channels. ``groups`` must divide both
        channel counts."""
        bank = np.asarray(self.w, dtype=np.float64)
        c_out, c_in = bank.shape[:2]
        per, group_of = c_in // groups, np.arange(c_out) // (c_out // groups)
        return np.stack([bank[co, g * per:(g + 1) * per] for co, g in enumerate(group_of)])


def _rgb_image() -> list:
    """An 8x8 RGB picture: a red square, a green bar and a blue corner on black, 0-9."""
    image = np.zeros((3, 8, 8), dtype=int)
    image[0, 1:5, 1:5] = 9          # red square
    image[1, 5:7, :] = 7            # green bar
    image[2, :3, 5:] = 8            # blue corner
    image[:, 6:, 6:] += 2           # a grey patch in every channel
    return image.tolist()


_SOBEL_X = KERNELS_2D["sobel-x"][1]
_ZERO3 = [[0, 0, 0]] * 3

CHANNELS: dict[str, ChannelsPreset] = {
    "lesson": ChannelsPreset(
        N_("Two channels, one 2x2 kernel: sums you can do by hand"),
        [[[[1, 0, 2], [0, 1, 0], [2, 0, 1]], [[0, 1, 0], [1, 2, 1], [0, 1, 0]]]],
        [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]]], bias=[1],
        channel_names=(N_("channel 1"), N_("channel 2"))),
    "rgb-edge": ChannelsPreset(
        N_("An 8x8 RGB image and one RGB edge kernel (Sobel x on every channel)"),
        [_rgb_image()], [[_SOBEL_X, _SOBEL_X, _SOBEL_X]],
        channel_names=("R", "G", "B")),
    "three-kernels": ChannelsPreset(
        N_("Three kernels over RGB: one output map per kernel"),
        [_rgb_image()],
        [[_SOBEL_X, _SOBEL_X, _SOBEL_X],                       # edges in all channels
         [KERNELS_2D["sobel-y"][1], _ZERO3, _ZERO3],            # horizontal edges in red
         [_ZERO3, _ZERO3, (np.ones((3, 3)) / 9).round(3).tolist()]],  # blurred blue
        bias=[0, 0, 0], channel_names=("R", "G", "B"),
        kernel_names=(N_("RGB edge"), N_("red, horizontal"), N_("blue blur"))),
    "depthwise": ChannelsPreset(
        N_("Depthwise (groups = 3): each kernel sees only its own channel"),
        [_rgb_image()],
        [[KERNELS_2D["sobel-x"][1], _ZERO3, _ZERO3], [_ZERO3, KERNELS_2D["sobel-y"][1], _ZERO3],
         [_ZERO3, _ZERO3, KERNELS_2D["laplacian"][1]]],
        groups=3, channel_names=("R", "G", "B"),
        kernel_names=(N_("Sobel x on R"), N_("Sobel y on G"),
                      N_("Laplacian on B"))),
    "batch": ChannelsPreset(
        N_("A batch of two inputs: the same kernels on each"),
        [[[[1, 0, 2], [0, 1, 0], [2, 0, 1]], [[0, 1, 0], [1, 2, 1], [0, 1, 0]]],
         [[[3, 1, 0], [1, 0, 1], [0, 1, 3]], [[1, 1, 1], [0, 0, 0], [1, 1, 1]]]],
        [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], [[0, 0], [1, 1]]]],
        channel_names=(N_("channel 1"), N_("channel 2"))),
}

VOLUMES: dict[str, tuple[str, list, list]] = {
    # name: (title, volume (D, H, W), kernel (KD, KH, KW))
    "box": (N_("A 4x5x5 volume with a 3x3x3 box kernel"),
            np.random.default_rng(11).integers(0, 5, (4, 5, 5)).tolist(),
            np.ones((3, 3, 3), dtype=int).tolist()),
    "edge": (N_("A bright block in a dark volume with a 3-D edge kernel (depth difference)"),
             np.pad(np.full((2, 3, 3), 6), ((1, 2), (1, 1), (1, 1))).tolist(),
             np.stack([-np.ones((3, 3)), np.zeros((3, 3)), np.ones((3, 3))]).astype(int)
             .tolist()),
}


def _page_examples() -> list[Preset]:
    """The channels, 3-D and backprop pages' presets, as API request bodies."""
    examples = []
    for name, p in CHANNELS.items():
        body = {"input": p.x, "weight": p.weight(p.groups).tolist(), "groups": p.groups}
        if p.bias is not None:
            body["bias"] = p.bias
        examples.append(Preset(f"channels-{name}", p.title, "example",
                               f"The channels page's preset: {p.title}.", "/api/v1/forward",
                               body))
    for name, (title, volume, kernel) in VOLUMES.items():
        examples.append(Preset(f"volume-{name}", title, "example",
                               f"The 3-D page's preset: {title}.", "/api/v1/forward",
                               {"input": [volume], "weight": [[kernel]]}))
    for name, p in BACKPROP.items():
        body = {"input": p.x, "weight": p.w}
        if p.loss == "custom":
            body["grad_output"] = p.delta
        else:
            body["loss"] = p.loss
            if p.target is not None:
                body["target"] = p.target
        examples.append(Preset(f"backprop-{name}", p.title, "example",
                               f"The backprop page's preset: {p.title}.", "/api/v1/backward",
                               body))
    return examples


PRESETS: dict[str, Preset] = _catalogue() | {p.name: p for p in _page_examples()}
