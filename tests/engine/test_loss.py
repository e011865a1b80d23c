"""Losses, δ, gradient descent and the finite-difference check (app.engine.loss), checked
against plain NumPy written from the definitions: ``np.correlate`` for the 1-D convolution
and the textbook update, loop by loop."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.loss import delta_loss, finite_difference_error, loss_and_delta, train

X = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])  # the lesson's x1..x5
W = np.array([[[0.5, -1.0, 0.25]]])
TARGET = np.array([[1.0, -2.0, 0.5]])


def plain_descent(eta: float, epochs: int) -> list[tuple[np.ndarray, float]]:
    """w <- w - eta dL/dw for L = mean((x * w - t)^2), one channel, written out: the
    kernel and the loss before each update."""
    w, out = W[0, 0].copy(), []
    for _ in range(epochs + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            y = np.correlate(X[0], w, mode="valid")
            diff = y - TARGET[0]
            loss = float(np.mean(diff ** 2))
            out.append((w.copy(), loss))
            grad = np.correlate(X[0], 2 * diff / diff.size, mode="valid")
            w = w - eta * grad
    return out


def test_sum_and_mse_give_the_loss_and_its_gradient():
    y = np.array([[3.0, -1.0, 2.0]])
    assert loss_and_delta(y, "sum") == (4.0, pytest.approx(np.ones((1, 3))))
    loss, delta = loss_and_delta(y, "mse", TARGET)
    assert loss == pytest.approx(np.mean((y - TARGET) ** 2))
    np.testing.assert_allclose(delta, 2 * (y - TARGET) / 3)
    with pytest.raises(ValueError, match="loss must be one of 'sum', 'mse', got 'l1'"):
        loss_and_delta(y, "l1")


def test_training_follows_the_textbook_update():
    run = train(X, W, loss="mse", eta=0.01, epochs=20, target=TARGET)
    reference = plain_descent(0.01, 20)
    assert run.updates == 20 and run.diverged_at is None
    np.testing.assert_allclose(run.weight[0, 0], reference[-1][0], rtol=1e-12)
    np.testing.assert_allclose(run.previous[0, 0], reference[-2][0], rtol=1e-12)
    np.testing.assert_allclose(run.losses, [loss for _, loss in reference], rtol=1e-12)


def test_a_learning_rate_too_large_diverges_and_says_at_which_update():
    """η = 10 multiplies the error by about 500 an update: float64 overflows after ~100.
    The first update whose kernel or loss is no longer finite is the one named."""
    run = train(X, W, loss="mse", eta=10.0, epochs=500, target=TARGET)
    reference = plain_descent(10.0, 500)
    first_bad = next(i for i, (w, loss) in enumerate(reference)
                     if not (np.isfinite(w).all() and np.isfinite(loss)))
    assert run.diverged_at == first_bad
    assert run.updates == first_bad - 1
    assert np.isfinite(run.weight).all() and np.isfinite(run.losses).all()
    np.testing.assert_allclose(run.weight[0, 0], reference[first_bad - 1][0], rtol=1e-9)
    assert len(run.losses) == first_bad


def test_finite_differences_find_a_wrong_gradient():
    def objective(w):
        return float(np.sum(np.correlate(X[0], w[0, 0], mode="valid")))
    right = np.correlate(X[0], np.ones(3), mode="valid")[None, None]  # sum of each window
    assert finite_difference_error(objective, W.copy(), right) < 1e-8
    assert finite_difference_error(objective, W.copy(), right * 1.01) > 1e-3


def test_a_delta_given_directly_is_the_gradient_of_its_loss():
    y, delta = np.array([[3.0, -1.0, 2.0]]), np.array([[0.5, 2.0, -1.0]])
    assert delta_loss(y, delta) == 1.5 - 2.0 - 2.0
    assert finite_difference_error(lambda a: delta_loss(a, delta), y.copy(), delta) < 1e-9
