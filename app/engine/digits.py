"""The handwritten digits the network learns: scikit-learn's 8 x 8 digits, shipped with the
package as scikit-learn's own file (``data/digits.csv.gz``, 57,523 bytes, unchanged), read with
NumPy alone (no scikit-learn at run time).

The data: 1,797 images of 8 x 8 pixels, each an integer 0..16 (the number of "on" pixels of
a 4 x 4 block of a 32 x 32 bitmap), and its digit 0..9; the test set of UCI's "Optical
Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), as
scikit-learn ships it (``sklearn.datasets.load_digits``, BSD-3-Clause). One line a digit:
64 pixels row by row, then the label.

The split, fixed and documented: a permutation of the 1,797 indices drawn by
``numpy.random.default_rng(SPLIT_SEED).permutation(1797)``; its first 1,497 are the
training set and its last 300 the test set (in that order).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

#: the seed of the permutation that splits the digits (see the module docstring)
SPLIT_SEED = 0
#: how many digits the test set holds; the rest train
TEST_SIZE = 300
#: the largest pixel value (the images are 0..16)
MAX_PIXEL = 16


@dataclass(frozen=True)
class Digits:
    """Images and their labels.

    images : ndarray, shape (N, 8, 8), int64 values 0..16
    labels : ndarray, shape (N,), int64 digits 0..9
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def inputs(self, dtype: object = np.float64) -> np.ndarray:
        """The images as the network's input: (N, 1, 8, 8), scaled to 0..1 (divided by 16)."""
        return (self.images[:, None] / MAX_PIXEL).astype(dtype)


@dataclass(frozen=True)
class Split:
    """The fixed split: ``train`` (1,497 digits) and ``test`` (300), with the indices into
    the whole set that each took (``train_index``, ``test_index``)."""

    train: Digits
    test: Digits
    train_index: np.ndarray
    test_index: np.ndarray


@cache
def _table() -> np.ndarray:
    data = resources.files(__package__).joinpath("data", "digits.csv.gz").read_bytes()
    table = np.loadtxt(gzip.decompress(data).decode("ascii").splitlines(), delimiter=",",
                       dtype=np.int64)
    table.setflags(write=False)
    return table


def load() -> Digits:
    """All 1,797 digits, in the file's order."""
    table = _table()
    images = table[:, :64].reshape(-1, 8, 8)
    labels = table[:, 64]
    return Digits(images, labels)


@cache
def split() -> Split:
    """The fixed train/test split (the module docstring says how it is drawn)."""
    digits = load()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(digits))
    train_index, test_index = order[:-TEST_SIZE], order[-TEST_SIZE:]
    for a in (train_index, test_index):
        a.setflags(write=False)
    return Split(Digits(digits.images[train_index], digits.labels[train_index]),
                 Digits(digits.images[test_index], digits.labels[test_index]),
                 train_index, test_index)
