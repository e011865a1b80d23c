"""A small CNN trained by the engine, with the gradient flowing back through every layer.

``Network.digits()`` is the lesson's network for 8 x 8 digit images (N, 1, 8, 8):

    conv1 (1 -> 4, 3 x 3, padding 1) -> relu1 -> pool1 (max 2) ->
    conv2 (4 -> 8, 3 x 3, padding 1) -> relu2 -> pool2 (max 2) -> flatten -> fc (32 -> 10)

Each layer is computed by the engine's own functions (:func:`app.engine.forward` and
:func:`~app.engine.backward` for the convolutions, :func:`~app.engine.max_pool`,
:mod:`app.engine.layers` for the rest), and the loss is
:func:`~app.engine.layers.softmax_cross_entropy`. After :meth:`Network.forward` the network
keeps every layer's input and output (its activations), and after
:meth:`Network.gradients` every layer's upstream gradient δ = ∂L/∂(its output) and the δ it
passes back, so a page can show the gradient flowing back layer by layer
(:meth:`Network.records`), and step through any layer with the conv and pool traces
(:meth:`Network.forward_trace`, :meth:`Network.backward_trace`), with the parameters that
pass used (a later :meth:`Network.step` changes the network's, not the records').

Initialisation (deterministic for a seed): PyTorch's default for ``Conv2d`` and
``Linear`` — Kaiming-uniform with ``a = sqrt(5)`` for the weights, which is
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, and the same bound for the biases — with
``fan_in = C_in * prod(kernel)`` (or ``F_in``). The values are drawn from
``numpy.random.default_rng(seed).uniform(-bound, bound, shape)`` one parameter at a time,
in :meth:`Network.params` order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..i18n import gettext
from .arrays import as_real_array
from .backward import backward
from .errors import ParameterError, ShapeError, describe
from .forward import forward
from .layers import linear, linear_backward, relu, relu_backward, softmax_cross_entropy
from .pool import max_pool, max_pool_backward
from .pool_trace import PoolBackwardTrace, PoolTrace
from .trace import BackwardTrace, ForwardTrace

KINDS = ("conv", "relu", "max_pool", "flatten", "linear")


@dataclass
class Layer:
    """One layer: ``kind`` is one of :data:`KINDS`; ``params`` its arrays by short name
    (``"weight"``, ``"bias"``), ``options`` the keyword arguments of its engine function
    (``padding`` for a convolution, ``kernel_size`` for a pool)."""

    name: str
    kind: str
    params: dict[str, np.ndarray] = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "conv":
            return forward(x, self.params["weight"], self.params["bias"], **self.options)
        if self.kind == "relu":
            return relu(x)
        if self.kind == "max_pool":
            return max_pool(x, **self.options)
        if self.kind == "flatten":
            return x.reshape(len(x), -1)
        return linear(x, self.params["weight"], self.params["bias"])

    def backward(self, x: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, dict]:
        """``(δ for the input, {param name: gradient})`` given δ = ∂L/∂(output)."""
        if self.kind == "conv":
            g = backward(x, self.params["weight"], delta, **self.options)
            return g.grad_input, {"weight": g.grad_weight, "bias": g.grad_bias}
        if self.kind == "relu":
            return relu_backward(x, delta), {}
        if self.kind == "max_pool":
            return max_pool_backward(x, delta, **self.options), {}
        if self.kind == "flatten":
            return delta.reshape(x.shape), {}
        g = linear_backward(x, self.params["weight"], delta)
        return g.grad_input, {"weight": g.grad_weight, "bias": g.grad_bias}


@dataclass(frozen=True)
class LayerRecord:
    """What one layer did in the last forward and backward pass.

    input, output : the activations into and out of the layer
    params : the parameters the pass used, by short name (copies: a later step() leaves
        them as they were)
    delta_output : δ arriving from above, ∂L/∂output (None before a backward pass)
    delta_input : δ passed down, ∂L/∂input (None before a backward pass)
    grads : ∂L/∂ each of its parameters, by short name (empty for ReLU, pool, flatten)
    """

    name: str
    kind: str
    input: np.ndarray
    output: np.ndarray
    params: dict[str, np.ndarray]
    delta_output: np.ndarray | None
    delta_input: np.ndarray | None
    grads: dict[str, np.ndarray]


def _uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...],
             dtype: np.dtype) -> np.ndarray:
    bound = 1 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


class Network:
    """A sequence of layers (see the module docstring); build one with :meth:`digits`."""

    #: the input every forward pass takes, after the batch: (C, H, W)
    input_shape: tuple[int, ...]

    def __init__(self, layers: list[Layer], input_shape: tuple[int, ...]) -> None:
        self.layers = layers
        self.input_shape = input_shape
        self.activations: list[np.ndarray] = []  # the input, then every layer's output
        self.used: list[dict[str, np.ndarray]] = []  # each layer's parameters in that pass
        self.deltas: list[np.ndarray] = []  # ∂L/∂ each of those, after gradients()
        self.layer_grads: list[dict[str, np.ndarray]] = []
        self.loss: float | None = None

    @classmethod
    def digits(cls, seed: int = 0, dtype: object = np.float64) -> Network:
        """The lesson's CNN for (N, 1, 8, 8) digits, initialised as the module docstring
        says (``dtype`` float64, or float32 to compute in float32 throughout)."""
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ParameterError("seed", gettext("%(field)s must be a non-negative integer, "
                                                 "got %(value)s")
                                 % {"field": "seed", "value": describe(seed)})
        dt = np.dtype(dtype)
        if dt not in (np.float64, np.float32):
            raise ParameterError("dtype", gettext("dtype must be float64 or float32, got "
                                                  "%(dtype)s") % {"dtype": dt})
        rng = np.random.default_rng(seed)

        def conv(name: str, c_in: int, c_out: int) -> Layer:
            fan_in = c_in * 9
            weight = _uniform(rng, fan_in, (c_out, c_in, 3, 3), dt)
            bias = _uniform(rng, fan_in, (c_out,), dt)
            return Layer(name, "conv", {"weight": weight, "bias": bias}, {"padding": 1})

        conv1 = conv("conv1", 1, 4)
        conv2 = conv("conv2", 4, 8)
        fc = Layer("fc", "linear", {"weight": _uniform(rng, 32, (10, 32), dt),
                                    "bias": _uniform(rng, 32, (10,), dt)})
        pool = {"kernel_size": [2, 2]}
        return cls([conv1, Layer("relu1", "relu"), Layer("pool1", "max_pool", options=pool),
                    conv2, Layer("relu2", "relu"), Layer("pool2", "max_pool", options=pool),
                    Layer("flatten", "flatten"), fc], (1, 8, 8))

    # --------------------------------------------------------------------- parameters

    def params(self) -> list[tuple[str, np.ndarray]]:
        """Every parameter as ``(name, array)``, in layer order: ``"conv1.weight"``,
        ``"conv1.bias"``, ``"conv2.weight"``, ``"conv2.bias"``, ``"fc.weight"``,
        ``"fc.bias"``. The arrays are the network's own: changing one changes it."""
        return [(f"{layer.name}.{key}", value) for layer in self.layers
                for key, value in layer.params.items()]

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(repr(layer.name) for layer in self.layers)
        raise ParameterError("layer", gettext("layer must be one of %(choices)s, got "
                                              "%(value)s")
                             % {"choices": names, "value": describe(name)})

    # --------------------------------------------------------------------- passes

    def _input(self, x: object) -> np.ndarray:
        xa = as_real_array(x, "input")
        if xa.ndim != len(self.input_shape) + 1 or xa.shape[1:] != self.input_shape:
            wanted = ", ".join(map(str, self.input_shape))
            raise ShapeError("input", gettext("expected input of shape (N, %(wanted)s), got "
                                              "shape %(shape)s")
                             % {"wanted": wanted, "shape": list(xa.shape)})
        return xa

    def forward(self, x) -> np.ndarray:
        """The logits, shape (N, 10), for x (N, 1, 8, 8). Keeps every activation."""
        a = self._input(x)
        activations = [a]
        for layer in self.layers:
            a = layer.forward(a)
            activations.append(a)
        self.activations, self.deltas, self.layer_grads, self.loss = activations, [], [], None
        self.used = [{k: v.copy() for k, v in layer.params.items()} for layer in self.layers]
        return a

    def gradients(self, x, labels) -> tuple[float, dict[str, np.ndarray]]:
        """The mean softmax cross-entropy of the logits against ``labels`` (N,) and its
        gradient for every parameter (``{name: array}``, :meth:`params`' names and shapes).
        Keeps every activation, every layer's δ and its parameter gradients."""
        logits = self.forward(x)
        loss, delta = softmax_cross_entropy(logits, labels)
        deltas, layer_grads = [delta], []
        for layer, a in zip(reversed(self.layers), reversed(self.activations[:-1]),
                            strict=True):
            delta, grads = layer.backward(a, delta)
            deltas.append(delta)
            layer_grads.append(grads)
        self.deltas, self.layer_grads, self.loss = deltas[::-1], layer_grads[::-1], loss
        return loss, {f"{layer.name}.{key}": grad for layer, grads in
                      zip(self.layers, self.layer_grads, strict=True)
                      for key, grad in grads.items()}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """Plain SGD, in place: ``p ← p - lr * grads[name]`` for every parameter."""
        if isinstance(lr, bool) or not isinstance(lr, int | float | np.integer | np.floating) \
                or not math.isfinite(lr) or lr < 0:
            raise ParameterError("lr", gettext("lr must be a non-negative number, got "
                                               "%(value)s") % {"value": describe(lr)})
        params = dict(self.params())
        if not isinstance(grads, dict) or set(grads) != set(params):
            given = set(grads) if isinstance(grads, dict) else set()
            missing, extra = sorted(set(params) - given), sorted(given - set(params))
            raise ParameterError("grads", gettext("grads must have one array per parameter; "
                                                  "missing %(missing)s, unknown %(extra)s")
                                 % {"missing": missing, "extra": extra})
        checked = {}
        for name, value in params.items():
            grad = as_real_array(grads[name], "grads")
            if grad.shape != value.shape:
                raise ShapeError("grads", gettext("grads[%(name)s] must have the parameter's "
                                                  "shape %(shape)s, got %(got)s")
                                 % {"name": repr(name), "shape": list(value.shape),
                                    "got": list(grad.shape)})
            checked[name] = grad
        for name, value in params.items():  # only once every gradient is checked
            value -= (lr * checked[name]).astype(value.dtype, copy=False)

    # --------------------------------------------------------------------- what it did

    def records(self) -> list[LayerRecord]:
        """Per layer, in order, what the last forward (and backward) pass did."""
        if not self.activations:
            raise ParameterError("records", gettext(
                "no forward pass yet: call forward() or gradients() first"))
        backward_done = bool(self.deltas)
        return [
            LayerRecord(
                name=layer.name, kind=layer.kind, input=self.activations[i],
                output=self.activations[i + 1], params=self.used[i],
                delta_output=self.deltas[i + 1] if backward_done else None,
                delta_input=self.deltas[i] if backward_done else None,
                grads=self.layer_grads[i] if backward_done else {},
            )
            for i, layer in enumerate(self.layers)
        ]

    def forward_trace(self, name: str) -> ForwardTrace | PoolTrace | None:
        """The step trace of layer ``name``'s last forward pass: the conv trace for a
        convolution, the pool trace for a pool, and for the linear layer the conv trace of
        the same numbers as a 1 x 1 convolution over one position (input (N, F_in, 1),
        weight (F_out, F_in, 1)); None for ReLU and flatten, which have no windows."""
        i, layer = self._recorded(name)
        x, params = self.activations[i], self.used[i]
        if layer.kind == "conv":
            return ForwardTrace(x, params["weight"], params["bias"], **layer.options)
        if layer.kind == "max_pool":
            return PoolTrace(x, "max", **layer.options)
        if layer.kind == "linear":
            return ForwardTrace(x[..., None], params["weight"][..., None], params["bias"])
        return None

    def backward_trace(self, name: str, part: str = "input"
                       ) -> BackwardTrace | PoolBackwardTrace | None:
        """The step trace of layer ``name``'s last backward pass, from its δ: the conv
        trace's ``part`` (``"weight"``, ``"input"`` or ``"bias"``) for a convolution or the
        linear layer (as :meth:`forward_trace` views it), the pool's backward trace (where
        each δ goes) for a pool; None for ReLU and flatten."""
        i, layer = self._recorded(name)
        if not self.deltas:
            raise ParameterError("layer", gettext("no backward pass yet: call gradients() "
                                                  "first"))
        x, delta, params = self.activations[i], self.deltas[i + 1], self.used[i]
        if layer.kind == "conv":
            return BackwardTrace(x, params["weight"], delta, part, **layer.options)
        if layer.kind == "max_pool":
            return PoolBackwardTrace(x, delta, "max", **layer.options)
        if layer.kind == "linear":
            return BackwardTrace(x[..., None], params["weight"][..., None], delta[..., None],
                                 part)
        return None

    def _recorded(self, name: str) -> tuple[int, Layer]:
        layer = self.layer(name)
        if not self.activations:
            raise ParameterError("layer", gettext(
                "no forward pass yet: call forward() or gradients() first"))
        return self.layers.index(layer), layer
