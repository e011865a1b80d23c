"""The shipped digits: scikit-learn's file as UCI documents it, and the fixed split."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

import numpy as np

from app.engine import digits

# UCI optdigits.names, "Class distribution", testing set (optdigits.tes: sklearn's 1,797)
UCI_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_the_file_is_scikit_learns_own_unchanged() -> None:
    data = resources.files("app.engine").joinpath("data", "digits.csv.gz").read_bytes()
    assert len(data) == 57_523
    assert hashlib.sha256(data).hexdigest() == \
        "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    assert gzip.decompress(data).count(b"\n") == 1797


def test_shape_values_and_the_documented_class_counts() -> None:
    d = digits.load()
    assert d.images.shape == (1797, 8, 8) and d.labels.shape == (1797,)
    assert d.images.min() == 0 and d.images.max() == 16
    assert np.bincount(d.labels).tolist() == UCI_COUNTS
    # the first digit, as sklearn's documentation prints digits.images[0]: a zero
    assert d.labels[0] == 0
    assert d.images[0].tolist() == [
        [0, 0, 5, 13, 9, 1, 0, 0], [0, 0, 13, 15, 10, 15, 5, 0],
        [0, 3, 15, 2, 0, 11, 8, 0], [0, 4, 12, 0, 0, 8, 8, 0],
        [0, 5, 8, 0, 0, 9, 8, 0], [0, 4, 11, 0, 1, 12, 7, 0],
        [0, 2, 14, 5, 10, 12, 0, 0], [0, 0, 6, 13, 10, 0, 0, 0]]


def test_the_inputs_are_the_pixels_over_16_with_a_channel() -> None:
    d = digits.load()
    x = d.inputs()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float64
    assert x[0, 0, 0, 3] == 13 / 16 and x.max() == 1.0


def test_the_split_is_fixed_disjoint_and_whole() -> None:
    s = digits.split()
    assert len(s.train) == 1497 and len(s.test) == 300
    assert sorted([*s.train_index, *s.test_index]) == list(range(1797))
    # the documented draw, written out again
    order = np.random.default_rng(0).permutation(1797)
    assert s.test_index.tolist() == order[1497:].tolist()
    assert s.train_index[:5].tolist() == order[:5].tolist()
    # and as first drawn (NumPy's PCG64 stream is stable across versions)
    assert s.test_index[:4].tolist() == [680, 1420, 1396, 1555]
    assert s.train_index[:4].tolist() == [360, 1773, 1482, 600]
    d = digits.load()
    assert (s.test.images == d.images[order[1497:]]).all()
    assert (s.test.labels == d.labels[order[1497:]]).all()
    # every class is in the test set
    assert set(s.test.labels.tolist()) == set(range(10))
