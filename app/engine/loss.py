"""Losses, the upstream gradient δ = ∂L/∂y they give, gradient descent on a kernel, and the
finite-difference check: the lesson's last part, for the backprop page and the API alike.

Overflow is not an exception here: a large learning rate makes the weights grow until they
overflow float64, and that is a result to show ("training diverged at update 7"), not a
crash. Every function computes with NumPy's overflow warnings silenced and says what went
non-finite in its return value.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .backward import backward
from .forward import forward

LOSSES = ("sum", "mse")


def loss_and_delta(y: np.ndarray, loss: str,
                   target: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The loss of output ``y`` and δ = ∂L/∂y, the output's shape.

    - ``"sum"``: L = Σ y, δ = 1 everywhere;
    - ``"mse"``: L = mean((y − target)²), δ = 2 (y − target) / y.size (``target`` zeros when
      None).

    The loss is ``inf`` or ``nan`` when ``y`` is too large for it (no warning is raised).
    """
    if loss == "sum":
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.sum(y)), np.ones_like(y)
    if loss == "mse":
        target = np.zeros_like(y) if target is None else target
        with np.errstate(over="ignore", invalid="ignore"):
            diff = y - target
            return float(np.mean(diff ** 2)), 2 * diff / diff.size
    raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}, got {loss!r}")


def delta_loss(y: np.ndarray, delta: np.ndarray) -> float:
    """The loss whose δ is ``delta`` itself, for a δ given directly rather than derived from
    a loss: L = Σ δ·y, so ∂L/∂y = δ (what the finite-difference check differentiates then).

    y, delta : ndarray, the output's shape
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(delta * y))


class Training(NamedTuple):
    """What :func:`train` did.

    weight : the kernel after the last update that kept every number finite
    previous : the kernel before that update (None when no update was made)
    losses : the loss before each update made, then after the last one (len updates + 1)
    updates : the updates made (the ``epochs`` asked for, unless training diverged)
    diverged_at : the update (counting from 1) whose weights or loss were no longer finite,
        or None
    """

    weight: np.ndarray
    previous: np.ndarray | None
    losses: np.ndarray
    updates: int
    diverged_at: int | None


def train(x: np.ndarray, weight: np.ndarray, *, loss: str, eta: float, epochs: int,
          target: np.ndarray | None = None, **params) -> Training:
    """``epochs`` steps of gradient descent on the kernel, ``w ← w − η ∂L/∂w``.

    x : ndarray, shape (C_in, *spatial) or (N, C_in, *spatial)
    weight : ndarray, shape (C_out, C_in / groups, *kernel), the starting kernel
    ``params`` are those of :func:`app.engine.forward`. Stops early at the first update that
    makes a weight or the loss overflow, and says which (:class:`Training`).
    """
    w, previous = weight, None
    y = forward(x, w, **params)
    value, delta = loss_and_delta(y, loss, target)
    losses = [value]
    for update in range(1, epochs + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            step = eta * backward(x, w, delta, **params).grad_weight
            candidate = w - step
        if not np.isfinite(candidate).all():
            return Training(w, previous, np.asarray(losses), update - 1, update)
        with np.errstate(over="ignore", invalid="ignore"):
            y = forward(x, candidate, **params)
        value, next_delta = loss_and_delta(y, loss, target)
        if not (np.isfinite(value) and np.isfinite(next_delta).all()):
            return Training(w, previous, np.asarray(losses), update - 1, update)
        w, previous, delta = candidate, w, next_delta
        losses.append(value)
    return Training(w, previous, np.asarray(losses), epochs, None)


def finite_difference_error(objective, array: np.ndarray, grad: np.ndarray,
                            h: float = 1e-6) -> float:
    """Relative error between central differences of ``objective(array)`` and ``grad``:
    max |numeric − grad| / max(|grad|, |numeric|), each element nudged by ±h in turn."""
    numeric = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        plus, minus = array.copy(), array.copy()
        plus[index] += h
        minus[index] -= h
        numeric[index] = (objective(plus) - objective(minus)) / (2 * h)
    scale = max(float(np.abs(grad).max()), float(np.abs(numeric).max()), 1e-12)
    return float(np.abs(numeric - grad).max()) / scale
