"""Result types shared by the fast and the naive engine."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Gradients(NamedTuple):
    """Gradients of a loss with respect to each argument of the forward pass.

    grad_input : ndarray, shape of the input, (N, C_in, *spatial) or (C_in, *spatial)
    grad_weight : ndarray, shape (C_out, C_in / groups, *kernel)
    grad_bias : ndarray, shape (C_out,)
    """

    grad_input: np.ndarray
    grad_weight: np.ndarray
    grad_bias: np.ndarray
