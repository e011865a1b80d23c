"""Training the digits network: its loss and gradients on real digits against central
finite differences and against the engine's per-layer functions composed by hand; Adam as
its definition; a run that is the same numbers twice; the checkpoint cache that replays from
the nearest checkpoint, within its bounds; the run that learns the digits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.engine import ParameterError, backward, digits, forward, max_pool, max_pool_backward
from app.engine.layers import linear, linear_backward, relu, relu_backward
from app.engine.network import Network
from app.engine.training import (
    EVAL_EVERY,
    CheckpointCache,
    TrainConfig,
    Trainer,
)


def real_digits(n: int = 4) -> tuple[np.ndarray, np.ndarray]:
    test = digits.split().test
    return test.inputs()[:n], test.labels[:n]


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """The mean −log softmax of the label, written with logsumexp out in full."""
    top = logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return float(np.mean(log_z - logits[np.arange(len(labels)), labels]))


def loss_of(net: Network, x: np.ndarray, labels: np.ndarray) -> float:
    return cross_entropy(net.forward(x), labels)


@pytest.mark.parametrize("seed", [0, 5])
def test_loss_and_every_gradient_on_real_digits_are_central_differences(seed):
    net, (x, labels) = Network.digits(seed), real_digits(4)
    # a few Adam steps first, so no gradient is the initial one's accident
    trainer = Trainer(TrainConfig(seed))
    trainer.run(5)
    for (_, p), (_, q) in zip(net.params(), trainer.net.params(), strict=True):
        p[...] = q
    loss, grads = net.gradients(x, labels)
    assert loss == pytest.approx(loss_of(net, x, labels), rel=1e-12)
    h = 1e-6
    for name, value in net.params():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            keep = value[index]
            value[index] = keep + h
            up = loss_of(net, x, labels)
            value[index] = keep - h
            down = loss_of(net, x, labels)
            value[index] = keep
            numeric[index] = (up - down) / (2 * h)
        scale = max(np.abs(numeric).max(), 1e-8)
        assert np.abs(numeric - grads[name]).max() / scale < 1e-6, name
        assert np.abs(grads[name]).max() > 0, name  # every parameter takes part


def test_the_gradients_are_the_per_layer_functions_composed_by_hand():
    net, (x, labels) = Network.digits(2), real_digits(6)
    p = dict(net.params())
    loss, grads = net.gradients(x, labels)
    # forward, layer by layer, with the engine's own functions
    c1 = forward(x, p["conv1.weight"], p["conv1.bias"], padding=1)
    r1 = relu(c1)
    m1 = max_pool(r1, [2, 2])
    c2 = forward(m1, p["conv2.weight"], p["conv2.bias"], padding=1)
    r2 = relu(c2)
    m2 = max_pool(r2, [2, 2])
    flat = m2.reshape(len(m2), -1)
    logits = linear(flat, p["fc.weight"], p["fc.bias"])
    # δ at the logits: (softmax − one-hot) / N, from the definition
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    delta = e / e.sum(axis=1, keepdims=True)
    delta[np.arange(len(labels)), labels] -= 1
    delta /= len(labels)
    assert loss == pytest.approx(cross_entropy(logits, labels), rel=1e-12)
    fc = linear_backward(flat, p["fc.weight"], delta)
    d = relu_backward(c2, max_pool_backward(r2, fc.grad_input.reshape(m2.shape), [2, 2]))
    g2 = backward(m1, p["conv2.weight"], d, padding=1)
    d = relu_backward(c1, max_pool_backward(r1, g2.grad_input, [2, 2]))
    g1 = backward(x, p["conv1.weight"], d, padding=1)
    want = {"conv1.weight": g1.grad_weight, "conv1.bias": g1.grad_bias,
            "conv2.weight": g2.grad_weight, "conv2.bias": g2.grad_bias,
            "fc.weight": fc.grad_weight, "fc.bias": fc.grad_bias}
    for name, value in want.items():
        np.testing.assert_allclose(grads[name], value, rtol=1e-12, atol=1e-15, err_msg=name)
    records = net.records()
    np.testing.assert_allclose(records[0].delta_input, g1.grad_input, rtol=1e-12, atol=1e-15)


def test_the_first_adam_step_moves_each_parameter_by_lr_times_the_sign_of_its_gradient():
    """After one step m̂ = g and v̂ = g², so the update is lr · g / (|g| + eps)."""
    config = TrainConfig(seed=3, lr=0.01, batch_size=16)
    trainer = Trainer(config)
    index = trainer.batch(0)
    net = Network.digits(3)
    before = {k: v.copy() for k, v in net.params()}
    _, grads = net.gradients(trainer.x[index], trainer.labels[index])
    trainer.step()
    for name, value in trainer.net.params():
        g = grads[name]
        np.testing.assert_allclose(value, before[name] - 0.01 * g / (np.abs(g) + 1e-8),
                                   rtol=1e-12, atol=1e-15, err_msg=name)


def test_the_second_adam_step_follows_the_bias_corrected_moments():
    config = TrainConfig(seed=1, lr=0.05, batch_size=8)
    trainer, net = Trainer(config), Network.digits(1)
    gs = []
    for step in range(2):
        index = trainer.batch(step)
        _, g = net.gradients(trainer.x[index], trainer.labels[index])
        gs.append(g)
        if step == 0:  # the first update, as the test above worked it out
            for name, value in net.params():
                value -= 0.05 * g[name] / (np.abs(g[name]) + 1e-8)
    before = {k: v.copy() for k, v in net.params()}
    trainer.run(2)
    for name, value in trainer.net.params():
        g1, g2 = gs[0][name], gs[1][name]
        m = (0.9 * 0.1 * g1 + 0.1 * g2) / (1 - 0.9 ** 2)
        v = (0.999 * 0.001 * g1 ** 2 + 0.001 * g2 ** 2) / (1 - 0.999 ** 2)
        np.testing.assert_allclose(value, before[name] - 0.05 * m / (np.sqrt(v) + 1e-8),
                                   rtol=1e-10, atol=1e-14, err_msg=name)


def test_an_epoch_visits_every_training_digit_once_in_the_seeds_order():
    config = TrainConfig(seed=4, batch_size=100)
    trainer = Trainer(config)
    assert config.steps_per_epoch == 15  # ceil(1497 / 100)
    epoch = np.concatenate([trainer.batch(s) for s in range(15)])
    assert sorted(epoch.tolist()) == list(range(1497))
    assert len(trainer.batch(14)) == 97
    np.testing.assert_array_equal(epoch, np.random.default_rng([4, 0]).permutation(1497))
    assert not np.array_equal(trainer.batch(15), trainer.batch(0))  # epoch 1: a new order


def test_a_run_of_three_hundred_steps_is_the_same_numbers_twice():
    runs = []
    for _ in range(2):
        trainer = Trainer(TrainConfig(seed=7))
        trainer.run(300)
        runs.append(trainer)
    a, b = runs
    assert a.history.losses == b.history.losses and len(a.history.losses) == 300
    assert a.history.test_accuracy == b.history.test_accuracy
    for (name, p), (_, q) in zip(a.net.params(), b.net.params(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
    other = Trainer(TrainConfig(seed=8))
    other.run(3)
    assert other.history.losses != a.history.losses[:3]


def test_the_history_records_accuracies_every_few_steps_from_step_0():
    trainer = Trainer(TrainConfig(seed=0))
    trainer.run(2 * EVAL_EVERY + 3)
    h = trainer.history
    assert h.eval_steps == [0, EVAL_EVERY, 2 * EVAL_EVERY]
    assert len(h.losses) == 2 * EVAL_EVERY + 3
    # the test accuracy at its step: the test digits classified by the weights of that step
    test = digits.split().test
    net = Network.digits(0)
    got = np.mean(net.forward(test.inputs()).argmax(axis=1) == test.labels)
    assert h.test_accuracy[0] == got
    assert h.losses[0] == pytest.approx(math.log(10), abs=0.3)


def test_the_cache_replays_from_the_nearest_checkpoint_and_gives_a_straight_runs_numbers():
    config = TrainConfig(seed=2)
    cache = CheckpointCache(runs=2, checkpoints=3)
    straight = Trainer(config)
    straight.run(70)
    first = cache.advance(config, 70, budget=30)  # the budget: 30 steps a call
    assert (first.step, first.target) == (30, 70)
    second = cache.advance(config, 70, budget=30)
    third = cache.advance(config, 70, budget=30)
    assert (second.step, third.step) == (60, 70)
    assert third.history.losses == straight.history.losses
    for name, value in straight.net.params():
        np.testing.assert_array_equal(third.params[name], value, err_msg=name)
    # back to a step before the last checkpoint: from the one before it (30), 15 steps
    back = cache.advance(config, 45, budget=15)
    assert back.step == 45 and back.history.losses == straight.history.losses[:45]
    assert back.history.eval_steps == [0, 20, 40]
    check = Trainer(config)
    check.run(45)
    for name, value in check.net.params():
        np.testing.assert_array_equal(back.params[name], value, err_msg=name)


def test_the_cache_keeps_no_more_than_its_bounds():
    cache = CheckpointCache(runs=2, checkpoints=3)
    for target in range(1, 8):
        cache.advance(TrainConfig(seed=0), target, budget=1)
    assert len(cache) == 3  # the last three: steps 5, 6, 7
    for seed in (1, 2, 3):
        cache.advance(TrainConfig(seed=seed), 2, budget=2)
    assert len(cache._runs) == 2 and len(cache) == 2
    # seed 0's checkpoints went with it: step 7 is a replay from 0, 7 steps
    assert cache.advance(TrainConfig(seed=0), 7, budget=3).step == 3


def test_the_default_run_learns_the_digits():
    """The issue's target, in steps: 95 % test accuracy within 20 epochs (940 steps)."""
    trainer = Trainer(TrainConfig())
    trainer.run(940)
    assert max(trainer.history.test_accuracy) >= 0.95
    assert trainer.history.train_accuracy[-1] >= 0.95


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"seed": -1}, "seed", "seed must be a non-negative integer, got -1"),
    ({"seed": 1.5}, "seed", "got 1.5"),
    ({"lr": 0}, "lr", "lr must be a number in (0, 1], got 0"),
    ({"lr": float("nan")}, "lr", "got nan"),
    ({"lr": 2}, "lr", "got 2"),
    ({"batch_size": 0}, "batch_size", "from 1 to 1497, got 0"),
    ({"batch_size": 1498}, "batch_size", "got 1498"),
    ({"batch_size": True}, "batch_size", "got True"),
])
def test_bad_training_settings_are_refused_by_name(kwargs, field, message):
    with pytest.raises(ParameterError) as info:
        TrainConfig(**kwargs)
    assert info.value.field == field and message in str(info.value)


def test_a_negative_target_is_refused():
    with pytest.raises(ParameterError, match="steps must be a non-negative integer"):
        CheckpointCache(1, 1).advance(TrainConfig(), -1, 5)


def test_the_confusion_matrix_counts_each_true_and_predicted_pair():
    from app.engine.training import confusion_matrix
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    m = confusion_matrix(labels, predicted, classes=3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]  # by hand: row = true class
    assert m.sum() == 6 and np.trace(m) == 4
