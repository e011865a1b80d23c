"""Training :meth:`Network.digits <app.engine.network.Network.digits>` on the digits, by
mini-batch Adam, deterministically, and the bounded checkpoint cache that lets a page show
the state after any number of steps without replaying from zero.

A run is fixed by its :class:`TrainConfig` (seed, learning rate, batch size): the seed draws
the initial weights (:meth:`Network.digits`) and the order of every epoch, so step ``n`` of
a run is the same numbers every time, whatever was computed before. An epoch is
``ceil(1497 / batch_size)`` steps over the training digits in the order
``numpy.random.default_rng([seed, epoch]).permutation(1497)``, the last batch the rest.

The optimiser is Adam as ``torch.optim.Adam`` computes it (betas 0.9 and 0.999, eps 1e-8,
no weight decay): for each parameter, ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``,
``p ← p − lr · m̂ / (√v̂ + eps)`` with ``m̂ = m / (1−β₁ᵗ)``, ``v̂ = v / (1−β₂ᵗ)``. With the
default lr 0.01 it passes 95 % test accuracy at step 420 (``bench/network.py``), and any lr
from 0.003 to 0.02 within 20 epochs; plain SGD (the network's ``step``) matches that only
near its best lr (0.3), so Adam forgives a classroom's choice of lr better.

Every ``EVAL_EVERY`` steps (and at step 0) a run records its test accuracy (the 300 test
digits) and its train accuracy (on ``TRAIN_PROBE`` fixed training digits, the first of the
split, with the weights of that moment); every step records its mini-batch's mean loss.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..i18n import gettext
from . import digits as digits_data
from .errors import ParameterError, describe
from .network import Network

#: steps between two accuracy measurements in a run's history
EVAL_EVERY = 20
#: the training digits the train accuracy is measured on (the first of the split)
TRAIN_PROBE = 300
BETAS = (0.9, 0.999)
EPS = 1e-8


@dataclass(frozen=True)
class TrainConfig:
    """What fixes a run: ``seed`` (weights and batch order), ``lr`` (Adam's learning rate)
    and ``batch_size`` (digits in a step)."""

    seed: int = 0
    lr: float = 0.01
    batch_size: int = 32

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError("seed", gettext("%(field)s must be a non-negative integer, "
                                                 "got %(value)s")
                                 % {"field": "seed", "value": describe(self.seed)})
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float) or \
                not math.isfinite(self.lr) or not 0 < self.lr <= 1:
            raise ParameterError("lr", gettext("lr must be a number in (0, 1], got %(value)s")
                                 % {"value": describe(self.lr)})
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or \
                not 1 <= self.batch_size <= len(digits_data.split().train):
            raise ParameterError("batch_size", gettext("batch_size must be a whole number from "
                                                       "1 to %(most)s, got %(value)s")
                                 % {"most": len(digits_data.split().train),
                                    "value": describe(self.batch_size)})

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(digits_data.split().train) // self.batch_size)


@dataclass
class History:
    """What a run recorded: ``losses[i]`` the mean loss of step i+1's batch; at steps
    ``eval_steps`` (0, EVAL_EVERY, ...), ``train_accuracy`` and ``test_accuracy`` (0..1)."""

    losses: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)

    def window_losses(self) -> list[float]:
        """The mean loss of each ``EVAL_EVERY`` steps' batches (the last window may be
        shorter): what the loss curve draws, at steps EVAL_EVERY, 2·EVAL_EVERY, ..."""
        return [float(np.mean(self.losses[i:i + EVAL_EVERY]))
                for i in range(0, len(self.losses), EVAL_EVERY)]

    def upto(self, step: int) -> History:
        """The history of the first ``step`` steps."""
        k = sum(1 for s in self.eval_steps if s <= step)
        return History(self.losses[:step], self.eval_steps[:k], self.train_accuracy[:k],
                       self.test_accuracy[:k])


@dataclass(frozen=True)
class Snapshot:
    """A run after ``step`` steps: every parameter and Adam's moments, by parameter name."""

    step: int
    params: dict[str, np.ndarray]
    m: dict[str, np.ndarray]
    v: dict[str, np.ndarray]


def accuracy(net: Network, x: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``x`` (N, 1, 8, 8) whose largest logit is its label."""
    return float(np.mean(np.argmax(net.forward(x), axis=1) == labels))


class Trainer:
    """One run, stepped forward: ``trainer.step()``, ``trainer.run(n)``; ``trainer.net`` is
    the network now, ``trainer.steps`` how many steps it has taken."""

    def __init__(self, config: TrainConfig, snapshot: Snapshot | None = None,
                 history: History | None = None) -> None:
        self.config = config
        data = digits_data.split()
        self.x, self.labels = data.train.inputs(), data.train.labels
        self.x_test, self.labels_test = data.test.inputs(), data.test.labels
        self.net = Network.digits(config.seed)
        params = dict(self.net.params())
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.steps = 0
        self.history = history if history is not None else History()
        self._order: tuple[int, np.ndarray] | None = None
        if snapshot is not None:
            for name, value in params.items():
                value[...] = snapshot.params[name]
                self.m[name][...] = snapshot.m[name]
                self.v[name][...] = snapshot.v[name]
            self.steps = snapshot.step
        if not self.history.eval_steps:
            self._evaluate()

    def batch(self, step: int) -> np.ndarray:
        """The indices into the training digits of step ``step`` (from 0)'s batch."""
        spe, b = self.config.steps_per_epoch, self.config.batch_size
        epoch, i = divmod(step, spe)
        if self._order is None or self._order[0] != epoch:
            order = np.random.default_rng([self.config.seed, epoch]).permutation(len(self.x))
            self._order = (epoch, order)
        return self._order[1][i * b:(i + 1) * b]

    def step(self) -> float:
        """One Adam step on the next batch; its loss (before the step)."""
        index = self.batch(self.steps)
        loss, grads = self.net.gradients(self.x[index], self.labels[index])
        self.steps += 1
        t, (b1, b2), lr = self.steps, BETAS, self.config.lr
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        for name, p in self.net.params():
            g, m, v = grads[name], self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= lr * (m / c1) / (np.sqrt(v / c2) + EPS)
        h = self.history
        if len(h.losses) < self.steps:  # a replay finds its history already written
            h.losses.append(float(loss))
        if self.steps % EVAL_EVERY == 0 and (not h.eval_steps or h.eval_steps[-1] < self.steps):
            self._evaluate()
        return float(loss)

    def run(self, n: int) -> None:
        for _ in range(n):
            self.step()

    def _evaluate(self) -> None:
        h = self.history
        h.eval_steps.append(self.steps)
        h.train_accuracy.append(accuracy(self.net, self.x[:TRAIN_PROBE],
                                         self.labels[:TRAIN_PROBE]))
        h.test_accuracy.append(accuracy(self.net, self.x_test, self.labels_test))

    def snapshot(self) -> Snapshot:
        copy = lambda d: {k: a.copy() for k, a in d.items()}  # noqa: E731
        return Snapshot(self.steps, copy(dict(self.net.params())), copy(self.m), copy(self.v))


@dataclass(frozen=True)
class Trained:
    """A run's state after ``step`` steps, as a page needs it: the parameters, the history up
    to that step, and the ``target`` it was asked for (``step < target`` when the request's
    step budget ran out first: ask again to go on)."""

    config: TrainConfig
    step: int
    target: int
    params: dict[str, np.ndarray]
    history: History

    def network(self) -> Network:
        """A network holding these parameters."""
        net = Network.digits(self.config.seed)
        for name, value in net.params():
            value[...] = self.params[name]
        return net


class CheckpointCache:
    """Runs and their checkpoints, bounded: at most ``runs`` runs (the least recently used
    goes, its history with it) and ``checkpoints`` snapshots per run (likewise). Step 0 needs
    none: it is the seed's initial weights."""

    def __init__(self, runs: int, checkpoints: int) -> None:
        self.runs, self.checkpoints = runs, checkpoints
        self._runs: OrderedDict[TrainConfig, tuple[History, OrderedDict[int, Snapshot]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(s) for _, s in self._runs.values())

    def advance(self, config: TrainConfig, target: int, budget: int) -> Trained:
        """The run ``config`` at step ``target``, or as far towards it as ``budget`` steps from
        the nearest checkpoint at or before it reach; the state reached is kept as a
        checkpoint."""
        if isinstance(target, bool) or not isinstance(target, int) or target < 0:
            raise ParameterError("steps", gettext("%(field)s must be a non-negative integer, "
                                                  "got %(value)s")
                                 % {"field": "steps", "value": describe(target)})
        with self._lock:
            history, snaps = self._runs.pop(config, None) or (History(), OrderedDict())
            self._runs[config] = (history, snaps)
            while len(self._runs) > self.runs:
                self._runs.popitem(last=False)
            start = max((s for s in snaps if s <= target), default=0)
            if start:
                snaps.move_to_end(start)
            trainer = Trainer(config, snaps.get(start), history)
            trainer.run(min(target - start, budget))
            if trainer.steps > start and self.checkpoints:
                snaps[trainer.steps] = trainer.snapshot()
                while len(snaps) > self.checkpoints:
                    snaps.popitem(last=False)
            return Trained(config, trainer.steps, target,
                           {k: v.copy() for k, v in trainer.net.params()},
                           history.upto(trainer.steps))


_cache: CheckpointCache | None = None
_cache_lock = threading.Lock()


def advance(config: TrainConfig, target: int, budget: int, runs: int,
            checkpoints: int) -> Trained:
    """:meth:`CheckpointCache.advance` on this process's cache of ``runs`` runs and
    ``checkpoints`` checkpoints a run (made on first use, again if the sizes change): what the
    pages call, in the compute process (:func:`app.workers.in_process`)."""
    global _cache
    with _cache_lock:
        if _cache is None or (_cache.runs, _cache.checkpoints) != (runs, checkpoints):
            _cache = CheckpointCache(runs, checkpoints)
        cache = _cache
    return cache.advance(config, target, budget)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """Counts (classes, classes): row the true class, column the predicted one.

    labels, predicted : ndarray, shape (N,), ints 0..classes-1
    """
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predicted)), 1)
    return counts
