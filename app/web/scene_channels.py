"""What the channels page draws, from the engine: input channels as a stack of grids, the
kernels (one colour each) with the slices of the channels they see, the output maps, and for
each step every channel's partial sum adding up to one output value."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..engine import forward, plan
from ..engine.cost import forward_cost
from ..engine.trace import ForwardTrace
from ..presets import CHANNELS
from .cells import Cell, badge, bucket, fit
from .formatting import format_factor, format_full
from .scenes import Budget, GridScene, padded_view
from .views import ViewChannels


@dataclass(frozen=True)
class Partial:
    """One input channel's share of a step: its terms and their sum."""

    channel: int
    name: str
    terms: list[str]
    total: float


class SceneChannels(GridScene):
    """One view of the channels page, for one sample of the batch."""

    def __init__(self, view: ViewChannels, budget: Budget) -> None:
        self.view = view
        preset = CHANNELS[view.preset]
        self.preset = preset
        self.x = np.asarray(preset.x, dtype=np.float64)            # (N, C_in, H, W)
        self.groups = view.groups or preset.groups
        self.bias = None if preset.bias is None else np.asarray(preset.bias, dtype=np.float64)
        c_out, c_in = np.shape(preset.w)[:2]
        fits = c_in % self.groups == 0 and c_out % self.groups == 0
        # a groups value that does not divide the channels is left for the engine to explain
        self.w = preset.weight(self.groups) if fits else np.asarray(preset.w, dtype=np.float64)
        params = view.engine_params()
        self.geom = plan(self.x.shape, self.w.shape, groups=self.groups, **params,
                         bias_shape=None if self.bias is None else self.bias.shape)
        g = self.geom
        budget.check(cells=g.c_in * math.prod(g.padded) + g.c_out * math.prod(g.out_spatial),
                     cost=forward_cost(g))
        self.output = forward(self.x, self.w, self.bias, groups=self.groups, **params)
        self.trace = ForwardTrace(self.x, self.w, self.bias, groups=self.groups, **params)
        self.sample = min(view.sample, self.geom.n - 1)
        self.steps = self.geom.c_out * int(np.prod(self.geom.out_spatial))
        self.trace_offset = self.sample * self.steps  # this sample's part of the trace
        self.step = min(view.step, self.steps)

    # --- names and shapes ---------------------------------------------------------------
    def channel_name(self, c: int) -> str:
        names = self.preset.channel_names
        return names[c] if c < len(names) else f"channel {c + 1}"

    def kernel_name(self, co: int) -> str:
        names = self.preset.kernel_names
        return f"kernel {co + 1}" + (f" ({names[co]})" if co < len(names) else "")

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

    @cached_property
    def tints(self) -> list[str]:
        names = [self.channel_name(c) for c in range(self.geom.c_in)]
        return [n.lower() if n in ("R", "G", "B") else "" for n in names]

    # --- the current step ---------------------------------------------------------------
    def current(self, step: int) -> tuple[int, int, int] | None:
        """(kernel, row, column) of the output made at ``step``."""
        if step == 0:
            return None
        _, co, r, c = (int(v) for v in self.record(step).index)
        return co, r, c

    def window(self, step: int) -> dict[tuple[int, int, int], tuple[int, str]]:
        """(channel, padded row, padded column) -> (tap, weight badge) at ``step``."""
        if step == 0:
            return {}
        rec = self.record(step)
        (pb_h, _), (pb_w, _) = self.geom.padding
        return {(int(c), int(r) + pb_h, int(col) + pb_w):
                (tap, badge(float(w)))
                for tap, (c, (r, col), w) in enumerate(zip(rec.channel, rec.position,
                                                           rec.weights, strict=True))}

    def partials(self, step: int) -> list[Partial]:
        """Each channel's terms and partial sum; with the bias they add up to the output."""
        rec = self.record(step)
        out = []
        for c in sorted(set(rec.channel.tolist())):
            mask = rec.channel == c
            terms = [f"{format_factor(w)}×{format_factor(x)}"
                     for w, x in zip(rec.weights[mask], rec.inputs[mask], strict=True)]
            out.append(Partial(int(c), self.channel_name(int(c)), terms,
                               float(rec.products[mask].sum())))
        return out

    # --- grids ----------------------------------------------------------------------------
    @cached_property
    def padded(self) -> np.ndarray:
        """The shown sample's channels as the kernels see them, padding included."""
        return padded_view(self.x[self.sample], self.geom)

    def input_cell(self, c: int, r: int, col: int, window: dict) -> Cell:
        (pb_h, _), (pb_w, _) = self.geom.padding
        value = float(self.padded[c, r, col])
        inside = 0 <= r - pb_h < self.x.shape[2] and 0 <= col - pb_w < self.x.shape[3]
        tap, weight = window.get((c, r, col), (None, None))
        return Cell(id=f"in-{c}-{r}-{col}", text=fit(value, max(self.padded.shape[1:])),
                    exact=format_full(value), row=r, col=col, ghost=not inside,
                    bucket=bucket(value, self.input_scale), tap=tap, badge=weight)

    @cached_property
    def input_scale(self) -> float:
        return float(np.abs(self.x).max())

    def input_grids(self) -> list[list[list[Cell]]]:
        window = self.window(self.step)
        _, rows, cols = self.padded.shape
        return [[[self.input_cell(c, r, col, window) for col in range(cols)]
                 for r in range(rows)] for c in range(self.geom.c_in)]

    def kernel_grids(self) -> list[list[list[list[Cell]]]]:
        """Per kernel, per slice (a channel it sees), the rows of cells."""
        scale = float(np.abs(self.w).max())
        side = max(self.w.shape[2:])
        return [[[[Cell(id=f"k-{co}-{s}-{r}-{c}", text=fit(v, side), exact=format_full(v),
                        row=r, col=c, bucket=bucket(float(v), scale))
                   for c, v in enumerate(row)]
                  for r, row in enumerate(plane)] for s, plane in enumerate(kernel)]
                for co, kernel in enumerate(self.w)]

    @cached_property
    def output_scale(self) -> float:
        return float(np.abs(self.output[self.sample]).max())

    def output_cell(self, co: int, r: int, c: int, step: int) -> Cell:
        _, oh, ow = self.output.shape[1:]
        index = co * oh * ow + r * ow + c
        value = float(self.output[self.sample, co, r, c])
        shown = index < step
        return Cell(id=f"out-{co}-{r}-{c}", text=fit(value, max(oh, ow)) if shown else "",
                    exact=format_full(value) if shown else None,
                    row=r, col=c, empty=not shown, current=index == step - 1,
                    bucket=bucket(value, self.output_scale) if shown else 0)

    @property
    def output_grid(self) -> np.ndarray:
        return self.output[self.sample]

    def output_grids(self) -> list[list[list[Cell]]]:
        _, c_out, oh, ow = self.output.shape
        return [[[self.output_cell(co, r, c, self.step) for c in range(ow)] for r in range(oh)]
                for co in range(c_out)]


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
