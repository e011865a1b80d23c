"""What the channels page draws, from the engine: input channels as a stack of grids, the
kernels (one colour each) with the slices of the channels they see, the output maps, and for
each step every channel's partial sum adding up to one output value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import gettext
from .cells import Cell
from .formatting import format_product
from .scenes import GridScene, padded_view, shared, stepwise


@dataclass(frozen=True)
class Partial:
    """One input channel's share of a step: its terms and their sum."""

    channel: int
    name: str
    terms: list[str]
    total: float


class SceneChannels(GridScene):
    """One view of the channels page, for one sample of the batch."""

    groups = property(lambda self: self.view.chosen("groups"))  # the view's, or its preset's

    @property
    def sample(self) -> int:
        """The sample of the batch shown."""
        return min(self.view.sample, self.geom.n - 1)

    @property
    def trace_offset(self) -> int:
        """This sample's part of the trace starts here."""
        return self.sample * self.steps

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The preset's batch (N, C_in, H, W), its kernels as PyTorch's weight for the
        groups (C_out, C_in / groups, K_H, K_W), and its bias."""
        x, bank, _ = super().arrays()
        c_out, c_in = bank.shape[:2]
        fits = c_in % self.groups == 0 and c_out % self.groups == 0
        # a groups value that does not divide the channels is left for the engine to explain
        w = self.view.example.weight(self.groups) if fits else bank
        bias = self.view.example.bias
        return x, w, None if bias is None else np.asarray(bias, dtype=np.float64)

    def engine_params(self) -> dict:
        return {**super().engine_params(), "groups": self.groups}

    def count_steps(self) -> int:
        return self.output_grid.size  # the shown sample's outputs

    @property
    def output_grid(self) -> np.ndarray:
        return self.output[self.sample]

    # --- names and shapes ---------------------------------------------------------------
    def channel_name(self, c: int) -> str:
        names = self.view.example.channel_names
        if c < len(names):
            return gettext(names[c])
        return gettext("channel %(channel)s") % {"channel": c + 1}

    def kernel_name(self, co: int) -> str:
        names = self.view.example.kernel_names
        if co < len(names):
            return gettext("kernel %(kernel)s (%(name)s)") % {"kernel": co + 1,
                                                               "name": gettext(names[co])}
        return gettext("kernel %(kernel)s") % {"kernel": co + 1}

    def sees(self, co: int) -> list[int]:
        """The input channels kernel ``co`` is applied to (its group's)."""
        g = self.geom
        group = co // g.c_out_group
        return list(range(group * g.c_in_group, (group + 1) * g.c_in_group))

    def sees_names(self, co: int) -> str:
        return ", ".join(self.channel_name(c) for c in self.sees(co))

    @property
    def group_options(self) -> list[int]:
        c_in, c_out = self.x.shape[1], self.w.shape[0]
        return [g for g in range(1, c_in + 1) if c_in % g == 0 and c_out % g == 0]

    @shared
    def tints(self) -> list[str]:
        names = [self.channel_name(c) for c in range(self.geom.c_in)]
        return [n.lower() if n in ("R", "G", "B") else "" for n in names]

    # --- the current step ---------------------------------------------------------------
    @stepwise
    def partials(self) -> list[Partial]:
        """Each channel's terms and partial sum at this step; with the bias they add up to
        the output."""
        rec = self.record()
        out = []
        for c in sorted(set(rec.channel.tolist())):
            mask = rec.channel == c
            terms = [format_product(w, x)
                     for w, x in zip(rec.weights[mask], rec.inputs[mask], strict=True)]
            out.append(Partial(int(c), self.channel_name(int(c)), terms,
                               float(rec.products[mask].sum())))
        return out

    # --- grids ----------------------------------------------------------------------------
    @shared
    def padded(self) -> np.ndarray:
        """The shown sample's channels as the kernels see them, padding included."""
        return padded_view(self.x[self.sample], self.geom)

    input_grids = GridScene.input_cells
    output_grids = GridScene.output_cells

    def kernel_grids(self) -> list[list[list[list[Cell]]]]:
        """Per kernel, per slice (a channel it sees), the rows of cells."""
        return self.kernel_cells(self.w)

    def shapes(self) -> dict[str, str]:
        g = self.geom
        return {
            "input": f"({g.n}, {g.c_in}, {', '.join(map(str, g.in_spatial))})",
            "weight": f"({g.c_out}, {g.c_in_group}, {', '.join(map(str, g.kernel))})",
            "output": f"({g.n}, {g.c_out}, {', '.join(map(str, g.out_spatial))})",
            "lesson": f"({', '.join(map(str, g.kernel))}, {g.c_in_group}) ⋆ "
                      f"({', '.join(map(str, g.in_spatial))}, {g.c_in}) → "
                      f"({', '.join(map(str, g.out_spatial))}, {g.c_out})",
        }
