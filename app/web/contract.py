"""What the templates (and the page handlers) read from a scene: the scene↔template contract,
one :class:`typing.Protocol` per page. A template may read what its page's protocol lists and
nothing else; a scene class must have all of it (``tests/web/test_contract.py`` checks both:
every ``scene.<name>`` in a page's templates is listed, and every listed name is there on
the scene of each preset).

Attributes are only read (a scene may make them properties). Step methods, those taking
``step``, show the scene at its own step (``scene.step``) when called without one; called with
one, as the templates do today (``scene.sentence(scene.step)``), they answer for
``scene.at(step)`` (:func:`~app.web.scenes.stepwise`). Shapes are written channels first, as
the engine's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from markupsafe import Markup

    from ..engine import Geometry
    from .axes import Axis
    from .cells import Cell
    from .scene1d import Stem
    from .scene2d import Scale, Term
    from .scene3d import IsoCell
    from .scene_backprop import Grid
    from .scene_channels import Partial


@runtime_checkable
class SceneContract(Protocol):
    """What every page reads from its scene."""

    #: The view the scene shows (:mod:`app.web.views`), as the URL says it.
    view: Any
    #: The step shown, 0 (nothing made yet) to :attr:`steps`.
    step: int
    #: How many steps the player has: one per value the playing trace makes.
    steps: int
    #: The engine's geometry: stride, dilation, padding per axis, shapes, ``flip``.
    geom: Geometry
    #: The input as the page draws it: (*spatial), or with channels (C_in, *spatial) (channels:
    #: the batch, (N, C_in, H, W)).
    x: np.ndarray
    #: The kernel as the page draws it: (*kernel), or (C_out, C_in / groups, *kernel) (backprop:
    #: after the replayed training).
    w: np.ndarray

    def at(self, step: int) -> SceneContract:
        """This scene at ``step`` (at most :attr:`steps`), sharing what is computed."""

    def record(self, step: int | None = None) -> Any:
        """The trace's record of the step (>= 1): the terms, their factors and the value."""


@runtime_checkable
class Scene1DContract(SceneContract, Protocol):
    """``page_1d.html`` and ``plots_1d.html``: three SVG plots on one shift axis."""

    #: The output-size formula, its numbers filled in (``O_L = ... = 9``).
    formulas: list[str]
    #: The operation not chosen (with ``compare``, its result is drawn too).
    other_mode: str
    #: Its name as the legend says it, in the request's language.
    other_mode_name: str
    #: That operation's output, (L_out,), when the view compares; else None.
    other_output: np.ndarray | None
    #: That output's SVG points (empty when the view does not compare).
    other_path: str
    #: The input's exact values, comma-separated (``data-values``).
    input_values: str
    #: The input signal's SVG points.
    signal_path: str
    #: The shift axis's ends, padding included.
    t_range: tuple[float, float]
    #: The shift axis's labels, as SVG.
    ticks: Markup
    #: Shift t to SVG x.
    tx: Axis
    #: Input plot values to SVG y (the products fit too).
    ty_input: Axis
    #: Output plot values to SVG y.
    ty_output: Axis
    #: The kernel plot's width and height, in SVG units.
    kernel_width: int
    kernel_height: int
    #: The kernel plot's own tap (x) and value (y) axes.
    kernel_axes: tuple[Axis, Axis]
    #: The kernel plot's tick labels (tap indices, values), as SVG.
    kernel_ticks: Markup
    #: The value axes' tick labels of the input and output plots, as SVG.
    input_y_ticks: Markup
    output_y_ticks: Markup
    #: Whether the result is drawn over the signals too (``overlay=1``), on its own axis at
    #: the right of the input plot, whose labels are these.
    overlay: bool
    overlay_y_ticks: Markup
    #: The plots' right margin, SVG units (wider when the result is overlaid).
    right: int

    def centre(self, index: int) -> float:
        """The shift at which output ``index`` is drawn: its window's centre."""

    def values(self, array: np.ndarray) -> str:
        """An array's exact values, comma-separated (``data-values``)."""

    def kernel_curve(self) -> str:
        """The kernel as written, its SVG points (the continuous view)."""

    def kernel_stems(self) -> list[Stem]:
        """The kernel as written, one stem per tap (the discrete view)."""

    def kernel_path(self, step: int | None = None) -> str:
        """The kernel where it sits at the step, as SVG points."""

    def overlap_path(self, step: int | None = None) -> str:
        """The product f·g at the step's shift, closed to zero: the shaded overlap."""

    def result_path(self, step: int | None = None) -> str:
        """The result traced so far, as SVG points."""

    def marker(self, step: int | None = None) -> tuple[float, float] | None:
        """Where the output just made is drawn; None at step 0."""

    def input_stems(self, step: int | None = None) -> list[Stem]:
        """The padded input's samples, those under the window with their tap."""

    def window_stems(self, step: int | None = None) -> list[Stem]:
        """The kernel's taps beside the samples they meet at the step."""

    def window_band(self, step: int | None = None) -> tuple[float, float] | None:
        """The band behind the window's samples (SVG x from, to); None at step 0."""

    def output_stems(self, step: int | None = None) -> list[Stem]:
        """The outputs made so far, one stem each."""

    def sentence(self, step: int | None = None) -> str:
        """The step's sum in words and numbers."""

    def values_so_far(self, step: int | None = None) -> str:
        """The outputs made so far, exact, comma-separated (``data-values``)."""


@runtime_checkable
class GridSceneContract(SceneContract, Protocol):
    """What a page of grids reads, its step updates included (:mod:`app.web.pages`)."""

    #: The output, (*out) or (N, C_out, *out).
    output: np.ndarray

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """The input and output cells that differ between step ``previous`` and this one:
        what a step update swaps."""


@runtime_checkable
class Scene2DContract(GridSceneContract, Protocol):
    """``page_2d.html`` and ``macros.html``'s ``arithmetic``."""

    #: The output-size formula of each axis, its numbers filled in.
    formulas: list[str]
    #: Stride, dilation, padding and shapes for the receptive-field highlight.
    geometry_data: dict[str, str]
    #: The input as the kernel sees it, padding included, (*padded).
    padded_values: np.ndarray
    #: Whether the input and output are drawn as grey-scale pictures (``show=picture``).
    picture: bool
    #: The pictures' grey scales in words, each with how many values it clips.
    scale_notes: list[Scale]

    def magnifier(self, step: int | None = None) -> tuple[list[list[Cell]], Cell]:
        """The values under the kernel at the step (kernel-shaped) and the output they make,
        from the trace's record; blank cells at step 0."""

    def input_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The padded input's cells at the step, the window's marked with tap and weight."""

    def kernel_rows(self, flipped: bool = False) -> list[list[Cell]]:
        """The kernel's cells, or ``flipped`` as it slides in convolution mode."""

    def output_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The output's cells, those made so far filled in."""

    def out_position(self, step: int | None = None) -> tuple[int, ...] | None:
        """Row and column of the output made at the step."""

    def terms(self, step: int | None = None) -> list[Term]:
        """The step's products, each with its tap."""


@runtime_checkable
class SceneMatrixContract(GridSceneContract, Protocol):
    """``page_matrix.html`` and ``matrix_parts.html``: the 2-D page's grids and the matrix."""

    #: Stride, dilation, padding and shapes (as the 2-D page's).
    geometry_data: dict[str, str]
    #: The input as the kernel sees it, padding included, (*padded).
    padded_values: np.ndarray

    def input_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The padded input's cells at the step, the window's marked with tap and weight."""

    def kernel_rows(self, flipped: bool = False) -> list[list[Cell]]:
        """The kernel's cells, or ``flipped`` as it slides in convolution mode."""

    def output_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The output's cells, those made so far filled in."""

    def out_position(self, step: int | None = None) -> tuple[int, ...] | None:
        """Row and column of the output made at the step."""

    def terms(self, step: int | None = None) -> list[Term]:
        """The step's products, each with its tap."""

    #: Which matrix is drawn: ``im2col`` (patches P), ``W`` or ``Wt`` (Wᵀ).
    kind: str
    #: The drawn matrix's rows and columns.
    shape: tuple[int, int]
    #: The row (im2col, W) or column (Wᵀ) of the output made at this step; None at step 0.
    highlighted: int | None
    #: The matrix's caption (its product and size) and its accessible name.
    matrix_caption: str
    matrix_label: str
    #: δ = ∂L/∂y, the output's shape (1 everywhere unless typed in).
    delta: np.ndarray
    #: The output, (*out).
    output: np.ndarray
    #: /backprop with this x, kernel and δ, playing ∂L/∂X.
    backprop_url: str

    def matrix_row(self, r: int) -> list[Cell]:
        """Row ``r`` of the drawn matrix, the engine's entries, structural zeros faint."""

    def changed_rows(self, previous: int) -> list[int]:
        """The rows a step from ``previous`` changes."""

    def vectors(self, step: int | None = None) -> dict[str, Any]:
        """The vectors around the matrix (``top``, ``side``; on im2col ``left``, ``bottom``)."""

    def matrix_sentence(self, step: int | None = None) -> str:
        """What the highlighted row (or column) is, in words."""


@runtime_checkable
class Scene3DContract(GridSceneContract, Protocol):
    """``page_3d.html`` and ``parts_3d.html``: depth slices, and the 3-D view above them."""

    #: The output-size formula of each axis, its numbers filled in.
    formulas: list[str]
    #: The volume as the kernel sees it, padding included, (D, H, W) padded.
    padded: np.ndarray
    #: Whether the 3-D view is drawn (small enough not to be a blur).
    iso_drawn: bool
    #: The 3-D view's input cells, deepest sheet first.
    iso_input: list[IsoCell]
    #: The 3-D view's output cells.
    iso_output: list[IsoCell]
    #: The 3-D view's width and height, in SVG units.
    iso_size: tuple[int, int]

    def input_slices(self, step: int | None = None) -> list[list[list[Cell]]]:
        """The padded volume's cells per depth slice, the kernel cube's marked."""

    def kernel_slices(self) -> list[list[list[Cell]]]:
        """The kernel cube's cells per depth slice."""

    def output_slices(self, step: int | None = None) -> list[list[list[Cell]]]:
        """The output volume's cells per depth slice, those made so far filled in."""

    def iso_window(self, step: int | None = None) -> tuple[list[str], str | None]:
        """The outlines of the kernel cube's cells and of the value they make."""

    def covered(self, step: int | None = None) -> list[int]:
        """The padded depth slices the kernel cube covers."""

    def current(self, step: int | None = None) -> tuple[int, ...] | None:
        """(depth, row, column) of the output made at the step; None at step 0."""

    def formula(self, step: int | None = None) -> str:
        """The lesson's 3-D formula, the step's indices filled in."""

    def terms(self, step: int | None = None) -> list[str]:
        """The step's products, ``w×x``."""


@runtime_checkable
class SceneChannelsContract(GridSceneContract, Protocol):
    """``page_channels.html`` and ``channels_parts.html``."""

    #: The preset's bias, (C_out,), or None.
    bias: np.ndarray | None
    #: The groups the kernels are split into.
    groups: int
    #: Every groups value that divides both channel counts.
    group_options: list[int]
    #: The sample of the batch shown.
    sample: int
    #: Each input channel's tint class (``r``, ``g``, ``b`` or none).
    tints: list[str]

    def channel_name(self, c: int) -> str:
        """Input channel ``c``'s name (``R``, or ``channel 2``)."""

    def kernel_name(self, co: int) -> str:
        """Kernel ``co``'s name (``kernel 1 (edges)``)."""

    def sees(self, co: int) -> list[int]:
        """The input channels kernel ``co`` is applied to."""

    def sees_names(self, co: int) -> str:
        """Their names, comma-separated."""

    def shapes(self) -> dict[str, str]:
        """The input, weight and output shapes, and the lesson's notation."""

    def input_grids(self, step: int | None = None) -> list[list[list[Cell]]]:
        """Each input channel's padded cells, the window's marked."""

    def kernel_grids(self) -> list[list[list[list[Cell]]]]:
        """Per kernel, per slice (a channel it sees), its cells."""

    def output_grids(self, step: int | None = None) -> list[list[list[Cell]]]:
        """Each output map's cells, those made so far filled in."""

    def current(self, step: int | None = None) -> tuple[int, ...] | None:
        """(kernel, row, column) of the output made at the step; None at step 0."""

    def partials(self, step: int | None = None) -> list[Partial]:
        """Each input channel's terms and partial sum at the step."""


@runtime_checkable
class SceneBackpropContract(SceneContract, Protocol):
    """``page_backprop.html``, ``backprop_parts.html`` and the finite-difference check."""

    #: The forward pass's output, (C_out, *out).
    output: np.ndarray
    #: Where δ comes from: ``custom`` (typed in), ``sum`` or ``mse``.
    loss: str
    #: The loss, None for a typed-in δ.
    loss_value: float | None
    #: δ = ∂L/∂o, the output's shape.
    delta: np.ndarray
    #: The mean squared error's target, the output's shape, or None.
    target: np.ndarray | None
    #: The learning rate.
    eta: float
    #: What the page says about the values (divergence, overflow, a preset's δ).
    notes: list[str]
    #: The loss before each replayed update, then after the last.
    history: np.ndarray
    #: The updates replayed.
    updates: int
    #: The update at which training diverged, or None.
    diverged_at: int | None
    #: Whether the loss has fallen to (practically) nothing.
    converged: bool
    #: The kernel before the last update, or None before any.
    w_before: np.ndarray | None
    #: The kernel's grids, one per (output, input) channel pair.
    weight_grids: list[Grid]
    #: Whether pass 2 is drawn as the full convolution with the flipped kernel.
    shows_full_convolution: bool
    #: The loss plot's axes (epoch across, loss up), its tick labels as SVG, and its frame's
    #: width and height in SVG units.
    loss_axes: tuple[Axis, Axis]
    loss_ticks: Markup
    loss_frame: tuple[int, int]

    def grids(self, label: str, name: str, array: np.ndarray, **marks: Any) -> list[Grid]:
        """One grid per channel of ``array``, named and labelled; ``symbol=`` names each cell
        as the arithmetic does (x₁, w₂, δ₃, o₁)."""

    def pass_grids(self, step: int | None = None) -> dict[str, list[Grid]]:
        """The playing pass's grids, marked for the step."""

    def full_grids(self, step: int | None = None) -> list[Grid]:
        """The bordered δ with the flipped kernel over the step's window."""

    def flipped_grids(self) -> list[Grid]:
        """The flipped kernel's grids."""

    def sentence(self, step: int | None = None) -> tuple[str, str, str]:
        """The step's gradient in symbols, in numbers, and its value."""

    def engine_agreement(self) -> float:
        """The largest difference between the replayed steps and the engine's backward."""

    def history_path(self) -> str:
        """The loss per update, as SVG points on :attr:`loss_axes`."""

    def finite_differences(self, h: float = 1e-6) -> dict[str, float]:
        """Relative errors of the gradients against central differences of L."""


@runtime_checkable
class SceneTransposedContract(GridSceneContract, Protocol):
    """``page_transposed.html`` and ``transposed_parts.html``: the input, the kernel, the
    output as the stamps build it (scatter) or cell by cell (gather), the overlap map."""

    #: The transposed output-size formula of each axis, its numbers filled in.
    formulas: list[str]
    #: Whether the page plays the scatter (each input cell stamps) rather than the gather.
    scatter: bool
    #: The kernel's cells, each tap in the colour of its stamp.
    kernel_rows: list[list[Cell]]
    #: How many stamps land on each output cell, as cells (the engine's overlap counts).
    overlap_rows: list[list[Cell]]
    #: Whether neighbouring output cells away from the edges get different counts.
    checkerboard: bool
    #: The padding cropped from each axis, as (before, after) pairs (for the player).
    padding_pairs: list[tuple[int, int]]

    def shape_text(self, array: np.ndarray) -> str:
        """An array's shape as the captions write it, ``4×4``."""

    def input_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The input's cells at the step: the stamping cell current (scatter), the cells
        reaching the cell made marked with tap and weight (gather)."""

    def output_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The output's cells at the step: running sums (scatter), the cells made (gather)."""

    def source(self, step: int | None = None) -> tuple[str, str] | None:
        """Scatter: the name and value of the input cell stamping at the step."""

    def stamps(self, step: int | None = None) -> list[Any]:
        """Scatter: the step's stamp, tap by tap: the product and the cell it lands on."""

    def stamp_span(self, step: int | None = None) -> tuple[str, str, int, int] | None:
        """Scatter: the stamp in short (first and last cell, taps landed and cropped)."""

    def completed(self, step: int | None = None) -> list[Any]:
        """The output cells complete at the step, each with its terms and value."""

    def backprop(self, limits: Any) -> tuple[str | None, str]:
        """The /backprop address whose ∂L/∂X is this output (or None), and why."""


@runtime_checkable
class SceneNetworkContract(Protocol):
    """``page_network.html`` and ``network_parts.html``: the digits CNN for one test digit at
    a training run's step (:mod:`app.web.scene_network`). Not a :class:`SceneContract`: it
    has no one geometry, input and kernel; its player steps through the backward pass."""

    #: The view the scene shows, as the URL says it.
    view: Any
    #: The training step the weights are at (maybe short of :attr:`target`).
    step_count: int
    #: The step the URL asks for (``train`` while training live, else ``steps``).
    target: int
    #: Whether the page asks again (the target is not reached yet), and whether that is live
    #: training (else a replay catching up with ``steps``).
    busy: bool
    live: bool
    #: The training steps a run's epoch has, and the epochs done.
    steps_per_epoch: int
    epoch: float
    #: The player's step through the backward pass (0 to :attr:`steps`), its speeds and its
    #: address without the step.
    step: int
    steps: int
    speeds: tuple[float, ...]
    base: str
    #: The digit's true class, the predicted class, the class probabilities (10,) and the
    #: loss −log p(label); whether the prediction is right.
    label: int
    predicted: int
    probabilities: np.ndarray
    loss: float
    correct: bool
    #: The test set's accuracy with these weights (0..1); the last measured train accuracy.
    test_accuracy: float
    train_accuracy: float
    #: Training digits the train accuracy is measured on, steps between measurements.
    train_probe: int
    eval_every: int
    #: The run's history up to :attr:`step_count` (:class:`~app.engine.training.History`).
    history: Any
    #: The last window's mean loss (None before a step).
    last_loss: float | None
    #: The network drawn: the input's column, each layer's column (conv1 to pool2), the
    #: logits' picture, each output's shape in PyTorch's notation, the probability bars
    #: (class, p, width, text).
    input_column: Any
    columns: list
    logits_svg: Markup
    shapes: dict[str, str]
    bars: list
    #: The curves: axes (step, loss, accuracy in %), frame, points and tick labels.
    curve_axes: tuple[Axis, Axis, Axis]
    curve_frame: tuple[int, int]
    loss_points: str
    loss_ticks: Markup
    accuracy_ticks: Markup
    #: The backward row: δ and parameter gradients, each with the step it is filled in.
    back_items: list
    #: After training: the test digits' confusion matrix (10, 10), true class by row;
    #: conv1's learned kernels as maps; the first wrongly classified test digits (number,
    #: true class, predicted class, picture) and how many there are.
    confusion: np.ndarray
    kernels: list
    #: Whether the input is a drawing (``draw=``; its "label" is then the predicted class),
    #: the pad's pixels 0..16 (8 rows of 8) and the address a drawing is sent to.
    drawn: bool
    pad: list[list[int]]
    pad_base: str
    mistakes: list
    mistakes_total: int

    def accuracy_points(self, which: str) -> str:
        """The ``train`` or ``test`` accuracy curve's SVG points."""

    def percent(self, p: float) -> str:
        """A probability in per cent, as the page writes it."""

    def digit_query(self, digit: int) -> str:
        """The address of test digit ``digit`` (1..300, wrapping) at this step."""

    def next_query(self) -> str:
        """Where the page asks next while :attr:`busy`."""

    def sentence(self, step: int | None = None) -> str:
        """The backward step in words and the engine's numbers."""

    def shown(self, item: Any, step: int | None = None) -> bool:
        """Whether the backward row's ``item`` is filled in at the step."""


@runtime_checkable
class ScenePoolContract(SceneContract, Protocol):
    """``page_pool.html`` and ``pool_parts.html``: max or average pooling of one 2-D channel,
    forward or backward, and a strided convolution of the same windows beside it."""

    #: The pool's output, (O_H, O_W); the convolution's, or None without ``compare``.
    output: np.ndarray
    conv_output: np.ndarray | None
    #: The output-size formula of each axis, its numbers filled in (floor or ceil).
    formulas: list[str]
    #: The input's caption: its size, and the padding or overhang drawn around it.
    input_note: str
    #: What a padding cell holds: −∞ (max) or 0 (average).
    pad_text: str
    #: The window's taps numbered in window order (the order a tie is settled in).
    window_rows: list[list[Cell]]
    #: The convolution's kernel cells (empty without ``compare``), and its name in words.
    conv_kernel_rows: list[list[Cell]]
    conv_title: str
    #: Average pooling against the mean convolution: their largest difference, or None.
    agreement: float | None

    def input_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The input with padding and overhang, the window's cells marked (winner, ties)."""

    def output_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The pool's output: forward, the values made so far; backward, all of it."""

    def conv_rows(self, step: int | None = None) -> list[list[Cell]]:
        """The convolution's output, made in step with the pool's where the shapes agree."""

    def delta_rows(self, step: int | None = None) -> list[list[Cell]]:
        """δ = ∂L/∂y (1, 2, 3, ...), the step's marked."""

    def gradient_rows(self, step: int | None = None) -> list[list[Cell]]:
        """∂L/∂x so far, the cells the step's δ reaches badged with their share."""

    def current(self, step: int | None = None) -> tuple[int, int] | None:
        """(row, column) of the output or δ of the step; None at step 0."""

    def terms(self, step: int | None = None) -> list[Any]:
        """The window's values in window order, each with its tap and mark."""

    def ties(self, step: int | None = None) -> int:
        """How many cells tie with the step's winner (max)."""

    def sentence(self, step: int | None = None) -> str:
        """Backward: where the step's δ goes, and the gradient it makes there."""

    def changed_cells(self, previous: int) -> tuple[list[Cell], list[Cell]]:
        """The cells that differ between step ``previous`` and this one: what a step update
        swaps (:mod:`app.web.pages` reads it)."""
