"""The lesson's CNN: its layers and parameters, the forward pass against the definitions
composed by hand, every parameter's gradient against central finite differences, plain SGD,
what it keeps for the pages (activations, δ per layer) and the layer traces replayed."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from app.engine import ConvolutionError, ParameterError, ShapeError, ValueRangeError
from app.engine.loss import finite_difference_error
from app.engine.naive import (
    forward_naive,
    linear_naive,
    max_pool_naive,
    relu_naive,
    softmax_cross_entropy_naive,
)
from app.engine.network import Network
from app.engine.pool_trace import replay as replay_pool
from app.engine.trace import replay

NAMES = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
SHAPES = [(4, 1, 3, 3), (4,), (8, 4, 3, 3), (8,), (10, 32), (10,)]
FAN_IN = [9, 9, 36, 36, 32, 32]


def batch(n: int = 3, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 8, 8)), rng.integers(0, 10, n)


def test_the_digits_network_has_the_lessons_parameters_in_layer_order():
    params = Network.digits().params()
    assert [name for name, _ in params] == NAMES
    assert [value.shape for _, value in params] == SHAPES
    assert all(value.dtype == np.float64 for _, value in params)


def test_initialisation_is_kaiming_uniform_drawn_in_order_from_the_seed():
    """The documented scheme, redone here: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) per
    parameter, drawn one after another from default_rng(seed)."""
    rng = np.random.default_rng(7)
    for (name, value), shape, fan_in in zip(Network.digits(seed=7).params(), SHAPES, FAN_IN,
                                            strict=True):
        bound = 1 / math.sqrt(fan_in)
        np.testing.assert_array_equal(value, rng.uniform(-bound, bound, shape), err_msg=name)
        assert np.abs(value).max() <= bound
    again, other = Network.digits(seed=7).params(), Network.digits(seed=8).params()
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(
        Network.digits(seed=7).params(), again, strict=True))
    assert not np.array_equal(again[0][1], other[0][1])


def by_the_definition(net: Network, x: np.ndarray) -> np.ndarray:
    """The same layers composed from the naive loops."""
    p = dict(net.params())
    a = forward_naive(x, p["conv1.weight"], p["conv1.bias"], padding=1)
    a = max_pool_naive(relu_naive(a), [2, 2])
    a = forward_naive(a, p["conv2.weight"], p["conv2.bias"], padding=1)
    a = max_pool_naive(relu_naive(a), [2, 2])
    return linear_naive(a.reshape(len(a), -1), p["fc.weight"], p["fc.bias"])


def test_forward_is_the_layers_composed():
    net, (x, _) = Network.digits(), batch()
    logits = net.forward(x)
    assert logits.shape == (3, 10)
    np.testing.assert_allclose(logits, by_the_definition(net, x), rtol=1e-12, atol=1e-14)


def test_every_parameter_gradient_is_its_central_finite_difference():
    net, (x, labels) = Network.digits(seed=3), batch(4, seed=2)
    loss, grads = net.gradients(x, labels)
    want, _ = softmax_cross_entropy_naive(by_the_definition(net, x), labels)
    assert loss == pytest.approx(want, rel=1e-12)
    assert list(grads) == NAMES
    for name, value in net.params():
        original = value.copy()

        def objective(candidate, value=value):
            value[...] = candidate
            return net.gradients(x, labels)[0]

        error = finite_difference_error(objective, original.copy(), grads[name])
        value[...] = original
        assert error < 1e-6, name


def test_the_input_gradient_is_its_finite_difference_too():
    net, (x, labels) = Network.digits(seed=4), batch(2)
    net.gradients(x, labels)
    delta_x = net.records()[0].delta_input
    assert finite_difference_error(lambda a: Network.gradients(net, a, labels)[0], x.copy(),
                                   delta_x) < 1e-6


def test_a_step_is_plain_sgd_in_place():
    net, (x, labels) = Network.digits(), batch()
    before = [value.copy() for _, value in net.params()]
    arrays = [value for _, value in net.params()]
    _, grads = net.gradients(x, labels)
    net.step(grads, 0.1)
    for array, old, name in zip(arrays, before, NAMES, strict=True):
        assert array is dict(net.params())[name]  # the same arrays, changed in place
        np.testing.assert_array_equal(array, old - 0.1 * grads[name])


def test_training_learns_ten_patterns():
    """Ten distinct 8 x 8 patterns, one per class: a hundred steps of SGD classify them
    all, and the loss falls from about log 10."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 1, 8, 8))
    labels = np.arange(10)
    net = Network.digits(seed=0)
    first, _ = net.gradients(x, labels)
    assert first == pytest.approx(math.log(10), abs=0.3)
    for _ in range(100):
        loss, grads = net.gradients(x, labels)
        net.step(grads, 0.5)
    assert loss < first / 10
    assert (net.forward(x).argmax(axis=1) == labels).all()


def test_the_network_keeps_every_activation_and_every_delta():
    net, (x, labels) = Network.digits(), batch()
    net.forward(x)
    records = net.records()
    assert [r.name for r in records] == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2",
                                         "flatten", "fc"]
    assert [r.output.shape for r in records] == [(3, 4, 8, 8), (3, 4, 8, 8), (3, 4, 4, 4),
                                                 (3, 8, 4, 4), (3, 8, 4, 4), (3, 8, 2, 2),
                                                 (3, 32), (3, 10)]
    assert records[0].delta_output is None  # no backward pass yet
    net.gradients(x, labels)
    records = net.records()
    for below, above in itertools.pairwise(records):
        assert below.output is above.input
        assert below.delta_output is above.delta_input  # δ flows down unchanged between
    relu1 = records[1]
    np.testing.assert_array_equal(relu1.delta_input, relu1.delta_output * (relu1.input > 0))
    _, grad_logits = softmax_cross_entropy_naive(records[-1].output, labels)
    np.testing.assert_allclose(records[-1].delta_output, grad_logits, rtol=1e-10)
    assert set(records[0].grads) == {"weight", "bias"} and records[1].grads == {}


def test_each_layers_trace_replays_what_the_layer_did():
    net, (x, labels) = Network.digits(), batch(2)
    _, grads = net.gradients(x, labels)
    net.step(grads, 1.0)  # the records keep the parameters their pass used
    records = {r.name: r for r in net.records()}
    for name in ("conv1", "conv2"):
        r = records[name]
        np.testing.assert_allclose(replay(net.forward_trace(name)), r.output, atol=1e-13)
        np.testing.assert_allclose(replay(net.backward_trace(name, "input")), r.delta_input,
                                   atol=1e-13)
        np.testing.assert_allclose(replay(net.backward_trace(name, "weight")),
                                   r.grads["weight"], atol=1e-13)
        np.testing.assert_allclose(replay(net.backward_trace(name, "bias")), r.grads["bias"],
                                   atol=1e-13)
    for name in ("pool1", "pool2"):
        r = records[name]
        np.testing.assert_array_equal(replay_pool(net.forward_trace(name)), r.output)
        np.testing.assert_array_equal(replay_pool(net.backward_trace(name)), r.delta_input)
    fc = records["fc"]  # the linear layer as a 1 x 1 convolution over one position
    np.testing.assert_allclose(replay(net.forward_trace("fc"))[..., 0], fc.output, atol=1e-13)
    np.testing.assert_allclose(replay(net.backward_trace("fc", "weight"))[..., 0],
                               fc.grads["weight"], atol=1e-13)
    np.testing.assert_allclose(replay(net.backward_trace("fc", "input"))[..., 0],
                               fc.delta_input, atol=1e-13)
    assert net.forward_trace("relu1") is None and net.backward_trace("flatten") is None


def test_a_float32_network_computes_in_float32():
    net = Network.digits(dtype=np.float32)
    x, labels = batch()
    logits = net.forward(x.astype(np.float32))
    assert logits.dtype == np.float32
    _, grads = net.gradients(x.astype(np.float32), labels)
    assert all(g.dtype == np.float32 for g in grads.values())
    np.testing.assert_allclose(logits, Network.digits().forward(x), rtol=1e-4, atol=1e-5)


CASES = [
    pytest.param(lambda net: net.forward(np.ones((3, 8, 8))), ShapeError, "input",
                 r"expected input of shape \(N, 1, 8, 8\), got shape \[3, 8, 8\]",
                 id="input-unbatched"),
    pytest.param(lambda net: net.forward(np.ones((2, 1, 7, 8))), ShapeError, "input",
                 r"expected input of shape \(N, 1, 8, 8\), got shape \[2, 1, 7, 8\]",
                 id="input-size"),
    pytest.param(lambda net: net.forward(np.full((1, 1, 8, 8), np.nan)), ValueRangeError,
                 "input", r"input must hold finite numbers", id="input-nan"),
    pytest.param(lambda net: net.gradients(np.ones((2, 1, 8, 8)), [1]), ShapeError, "labels",
                 r"labels must have shape \[2\] \(one class per sample\), got shape \[1\]",
                 id="labels-count"),
    pytest.param(lambda net: net.gradients(np.ones((1, 1, 8, 8)), [10]), ValueRangeError,
                 "labels", r"labels must be classes from 0 to 9, got 10", id="labels-range"),
    pytest.param(lambda net: net.step({}, 0.1), ParameterError, "grads",
                 r"grads must have one array per parameter; missing \['conv1.bias', ",
                 id="grads-missing"),
    pytest.param(lambda net: net.step({**dict(net.params()), "fc.bias": np.ones(3)}, 0.1),
                 ShapeError, "grads", r"grads\['fc.bias'\] must have the parameter's shape "
                 r"\[10\], got \[3\]", id="grads-shape"),
    pytest.param(lambda net: net.step(dict(net.params()), -0.1), ParameterError, "lr",
                 r"lr must be a non-negative number, got -0.1", id="lr-negative"),
    pytest.param(lambda net: net.step(dict(net.params()), float("nan")), ParameterError, "lr",
                 r"lr must be a non-negative number, got nan", id="lr-nan"),
    pytest.param(lambda net: net.records(), ParameterError, "records",
                 r"no forward pass yet: call forward\(\) or gradients\(\) first",
                 id="records-before-forward"),
    pytest.param(lambda net: net.forward_trace("conv3"), ParameterError, "layer",
                 r"layer must be one of 'conv1', 'relu1', .* got 'conv3'", id="layer-unknown"),
    pytest.param(lambda net: (net.forward(np.ones((1, 1, 8, 8))), net.backward_trace("fc")),
                 ParameterError, "layer", r"no backward pass yet: call gradients\(\) first",
                 id="backward-trace-before-backward"),
    pytest.param(lambda net: Network.digits(seed=-1), ParameterError, "seed",
                 r"seed must be a non-negative integer, got -1", id="seed-negative"),
    pytest.param(lambda net: Network.digits(dtype=np.int32), ParameterError, "dtype",
                 r"dtype must be float64 or float32, got int32", id="dtype"),
]


@pytest.mark.parametrize(("call", "error", "field", "message"), CASES)
def test_invalid_network_arguments_are_refused(call, error, field, message):
    net = Network.digits()
    before = [value.copy() for _, value in net.params()]
    with pytest.raises(error, match=message) as info:
        call(net)
    assert info.value.field == field
    assert isinstance(info.value, ConvolutionError)
    # a refused step leaves every parameter as it was
    assert all(np.array_equal(a, b) for (_, a), b in zip(net.params(), before, strict=True))
