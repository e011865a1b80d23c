"""``?format=numpy`` and ``?format=torch``: a page's scene as a self-contained Python script
that rebuilds its arrays, computes the same result with NumPy alone (the definition, as plain
loops over the output positions) or with PyTorch (``torch.nn.functional`` in float64, the
gradients by autograd), and prints it as JSON on its last line.

The script is for reading: a teacher shows it. Its arrays are literals, each value written
exactly (``repr`` of the float, which reads back to the same float; ``float("inf")`` and
``float("nan")`` for the values a page can overflow to). It never imports ConvScope. What it
computes is what the page shows: the input and kernel of the scene (a backprop page's kernel
after the URL's training updates, the network's weights after its training steps, both
written out as they are at that state), the page's own geometry (padding resolved to its
cells before and after), and the page's own δ or loss.

Cost: a script is the scene's own arrays written out, so its size follows the page limits
(``page_max_cells`` and the rest, already checked when the scene was built): about 25 bytes
a value; the largest a page takes was measured in ``bench/code_size.py`` (see the README).
"""

from __future__ import annotations

import json
import math

import numpy as np
from fastapi import Request
from fastapi.responses import Response

from .formats import register

#: np.pad's name for each padding mode (PyTorch's names on the pages)
NUMPY_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
             "circular": "wrap"}
#: F.pad's
TORCH_PAD = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
             "circular": "circular"}
#: the widest line a literal is wrapped to
WIDTH = 92

TITLES = {"1d": "1D convolution", "2d": "2D convolution", "3d": "3D convolution",
          "channels": "Convolution over channels", "backprop": "Backpropagation",
          "matrix": "Convolution as a matrix", "transposed": "Transposed convolution",
          "pool": "Pooling", "network": "The digits CNN"}


# ------------------------------------------------------------------------- literals


def number(value: float) -> str:
    """A float written so that Python reads back the same float."""
    if math.isnan(value):
        return 'float("nan")'
    if math.isinf(value):
        return 'float("inf")' if value > 0 else '-float("inf")'
    return repr(float(value))


def literal(values, column: int) -> str:
    """Nested lists of ``values`` (an array), starting at text column ``column``: each
    innermost row on its own lines, wrapped at :data:`WIDTH`, inner rows aligned."""
    a = np.asarray(values, dtype=np.float64)
    if a.ndim == 0:
        return number(float(a))
    if a.ndim == 1:
        lines, line = [], "["
        for i, v in enumerate(a.tolist()):
            item = number(v) + (", " if i < a.size - 1 else "")
            if len(line) + len(item) + column > WIDTH and line != "[":
                lines.append(line.rstrip())
                line = " "
            line += item
        return ("\n" + " " * column).join([*lines, line + "]"])
    rows = [literal(row, column + 1) for row in a]
    return "[" + (",\n" + " " * (column + 1)).join(rows) + "]"


def assign(name: str, values, wrap: str = "np.array({})") -> str:
    """``name = np.array([...])`` with the literal aligned under its first bracket."""
    head, tail = wrap.split("{}")
    start = f"{name} = {head}"
    return start + literal(values, len(start)) + tail


def shape_note(name: str, axes: str, shape: tuple[int, ...]) -> str:
    return f"# {name}: shape ({axes}) = {tuple(int(s) for s in shape)}"


def spatial_names(ndim: int) -> list[str]:
    return {1: ["L"], 2: ["H", "W"], 3: ["D", "H", "W"]}[ndim]


# ------------------------------------------------------------------------- NumPy helpers

WINDOW = '''
def window(o, kernel, stride, dilation):
    """The cells output position o sees on each spatial axis: o*s, o*s + d, ..., o*s + d*(k - 1)."""
    return tuple(slice(i * s, i * s + d * (k - 1) + 1, d)
                 for i, k, s, d in zip(o, kernel, stride, dilation))
'''

OUT_SIZE = '''
def out_size(padded, kernel, stride, dilation):
    """O = floor((padded size - dilation * (K - 1) - 1) / stride) + 1 on each axis."""
    return tuple((p - d * (k - 1) - 1) // s + 1
                 for p, k, s, d in zip(padded, kernel, stride, dilation))
'''

CORRELATE = '''
def correlate(xp, w, b, stride, dilation, groups):
    """y[n, co, o] = sum over c, k of xp[n, c, o*stride + k*dilation] * w[co, c, k] (+ b[co]),
    c running over the input channels of output channel co's group."""
    n, c_in, *padded = xp.shape
    c_out, c_in_group, *kernel = w.shape
    out = out_size(padded, kernel, stride, dilation)
    y = np.zeros((n, c_out, *out))
    for i in range(n):
        for co in range(c_out):
            g = co // (c_out // groups)  # the group of output channel co
            channels = slice(g * c_in_group, (g + 1) * c_in_group)
            for o in np.ndindex(*out):
                cells = xp[(i, channels, *window(o, kernel, stride, dilation))]
                y[(i, co, *o)] = np.sum(cells * w[co])
                if b is not None:
                    y[(i, co, *o)] += b[co]
    return y
'''

CORRELATE_BACKWARD = '''
def correlate_backward(xp, w, delta, stride, dilation, groups):
    """dL/dxp and dL/dw from delta = dL/dy: each output value's delta flows back to the
    window it was made from, times the kernel (into xp) and times the window (into w)."""
    n, c_in, *padded = xp.shape
    c_out, c_in_group, *kernel = w.shape
    grad_xp, grad_w = np.zeros_like(xp), np.zeros_like(w)
    for i in range(n):
        for co in range(c_out):
            g = co // (c_out // groups)
            channels = slice(g * c_in_group, (g + 1) * c_in_group)
            for o in np.ndindex(*delta.shape[2:]):
                cells = (i, channels, *window(o, kernel, stride, dilation))
                grad_w[co] += delta[(i, co, *o)] * xp[cells]
                grad_xp[cells] += delta[(i, co, *o)] * w[co]
    return grad_xp, grad_w
'''

POOL_OUT_SIZE = '''
def out_size(size, k, s, p, d):
    """PyTorch's rule: the windows that fit (one more with ceil_mode, if it starts inside the
    input or its left padding)."""
    span = size + 2 * p - d * (k - 1) - 1
    o = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    return o
'''

NETWORK_LAYERS = '''
def conv3x3(a, w, b):
    """Conv2d(kernel 3, padding 1): zero padding, then the sliding sum."""
    return correlate(np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1))), w, b, (1, 1), (1, 1), 1)


def max_pool2(a):
    """MaxPool2d(2): the largest of each 2 x 2 block."""
    n, c, h, w = a.shape
    return a[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
'''


def pad_lines(padding, padding_mode: str, array: str = "x", padded: str = "xp",
              batch: bool = True) -> list[str]:
    """NumPy: pad ``array``'s spatial axes (after N, C when ``batch``)."""
    pads = [*(((0, 0), (0, 0)) if batch else ()), *padding]
    mode = NUMPY_PAD[padding_mode]
    return [f"# padding {padding_mode!r}: np.pad's {mode!r}",
            f"{padded} = np.pad({array}, {tuple(pads)!r}, mode={mode!r})"]


def torch_pad(padding) -> tuple[int, ...]:
    """F.pad's order: the last axis first, (before, after) each."""
    return tuple(v for pair in reversed(padding) for v in pair)


# ------------------------------------------------------------------------- the scripts


class Script:
    """A script's text: header, lines, and ``print(json.dumps(result))`` last."""

    def __init__(self, request: Request, page: str, flavour: str) -> None:
        url = str(request.url.remove_query_params("format"))
        engine = "NumPy alone" if flavour == "numpy" else "PyTorch (torch.nn.functional)"
        run = f"python {filename(page, flavour)}"
        self.lines = [
            "#!/usr/bin/env python3",
            f'"""ConvScope: {TITLES[page]}, the numbers of this page computed with {engine}.',
            "",
            f"Page: {url}",
            f"Run:  {run}  (prints the result as JSON on its last line)",
            '"""',
            "import json",
            "",
            "import numpy as np" if flavour == "numpy" else
            "import torch\nimport torch.nn.functional as F",
        ]
        self.imports = len(self.lines)

        self.functions: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def define(self, *functions: str) -> None:
        """Functions the script defines, after its imports (each once)."""
        self.functions.extend(f.strip("\n") for f in functions if f.strip("\n")
                              not in self.functions)

    def text(self, result: dict[str, str]) -> str:
        items = ",\n    ".join(f"{json.dumps(k)}: {v}" for k, v in result.items())
        self.add("", "result = {\n    " + items + ",\n}", "print(json.dumps(result))")
        head, body = self.lines[:self.imports], self.lines[self.imports:]
        functions = "".join(f"\n{f}\n\n" for f in self.functions)
        return "\n".join(head) + "\n" + functions + "\n" + "\n".join(body) + "\n"


def filename(page: str, flavour: str) -> str:
    return f"convscope-{page}.py" if flavour == "numpy" else f"convscope-{page}-torch.py"


def tensor(name: str, values, grad: bool = False) -> str:
    extra = ", requires_grad=True" if grad else ""
    return assign(name, values, "torch.tensor({}, dtype=torch.float64" + extra + ")")


def _conv_arrays(scene) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The scene's input (N, C_in, *spatial), kernel (C_out, C_in / groups, *kernel), bias."""
    x, w = scene.engine_arrays()
    if not scene.geom.batched:
        x = x[None]
    return x, w, scene.bias


def _shown(scene) -> str:
    """The index that takes a batched (N, C, *spatial) result to the page's shape."""
    if getattr(scene, "single", False):
        return "[0, 0]"
    return "" if scene.geom.batched else "[0]"


def _geometry(script: Script, g, numpy: bool) -> None:
    script.add(f"stride = {g.stride!r}",
               f"dilation = {g.dilation!r}",
               f"groups = {g.groups!r}",
               f"padding = {g.padding!r}  # cells added (before, after) on each spatial axis")
    if g.mode == "convolution":
        script.add("# true convolution: the kernel is flipped along every spatial axis "
                   "(cross-correlation slides it as it is)")


def _conv_inputs(script: Script, scene, numpy: bool, grad: bool = False) -> None:
    x, w, b = _conv_arrays(scene)
    names = ", ".join(spatial_names(scene.geom.ndim))
    knames = ", ".join("K_" + n for n in spatial_names(scene.geom.ndim))
    script.add(shape_note("input x", f"N, C_in, {names}", x.shape))
    script.add(assign("x", x) if numpy else tensor("x", x, grad))
    script.add(shape_note("kernel w", f"C_out, C_in / groups, {knames}", w.shape))
    script.add(assign("w", w) if numpy else tensor("w", w, grad))
    if b is not None:
        script.add("# bias b: one value per output channel")
        script.add(assign("b", b) if numpy else tensor("b", b))
    else:
        script.add("b = None  # no bias")
    _geometry(script, scene.geom, numpy)


def _numpy_conv_forward(script: Script, g) -> None:
    script.define(WINDOW, OUT_SIZE, CORRELATE)
    script.add(*pad_lines(g.padding, g.padding_mode))
    if g.mode == "convolution":
        script.add(f"wk = np.flip(w, axis={tuple(range(2, 2 + g.ndim))!r})")
    else:
        script.add("wk = w")
    script.add("y = correlate(xp, wk, b, stride, dilation, groups)")


def _torch_conv_forward(script: Script, g) -> None:
    script.add(f"xp = F.pad(x, {torch_pad(g.padding)!r}, mode={TORCH_PAD[g.padding_mode]!r})"
               "  # F.pad: the last axis first")
    if g.mode == "convolution":
        script.add(f"wk = torch.flip(w, dims={tuple(range(2, 2 + g.ndim))!r})")
    else:
        script.add("wk = w")
    script.add(f"y = F.conv{g.ndim}d(xp, wk, b, stride=stride, dilation=dilation, "
               "groups=groups)")


def conv_script(request, page, view, scene, flavour: str) -> str:
    """1D, 2D, 3D and channels: the forward pass."""
    numpy = flavour == "numpy"
    script = Script(request, page, flavour)
    _conv_inputs(script, scene, numpy)
    script.add("")
    (_numpy_conv_forward if numpy else _torch_conv_forward)(script, scene.geom)
    return script.text({"output": f"y{_shown(scene)}.tolist()"})


def backprop_script(request, page, view, scene, flavour: str) -> str:
    """The forward pass, δ = ∂L/∂y as the page makes it, and the three gradients."""
    numpy = flavour == "numpy"
    g = scene.geom
    script = Script(request, page, flavour)
    if scene.updates:
        script.add(f"# the kernel after the URL's {scene.updates} gradient-descent updates "
                   f"(w <- w - {scene.eta!r} * dL/dw), as the page shows it")
    scene_b = scene.bias
    scene.bias = None  # the page's convolution has no bias; its gradient is still Σ δ
    try:
        _conv_inputs(script, scene, numpy, grad=True)
    finally:
        scene.bias = scene_b
    loss = scene.loss
    batch = "" if g.batched else "[None]"
    if loss == "mse" or loss == "custom":
        array = scene.target if loss == "mse" else scene.delta
        if loss == "mse" and array is None:
            array = np.zeros(g.output_shape)
        name = "target" if loss == "mse" else "delta_given"
        script.add(f"# {name}: the output's shape")
        script.add(assign(name, array) if numpy else tensor(name, array))
    script.add("")
    if numpy:
        script.define(WINDOW, CORRELATE_BACKWARD)
        _numpy_conv_forward(script, g)
        if not g.batched:
            script.add("y = y[0]  # one sample: the output as the page shows it")
        if loss == "sum":
            script.add("loss = float(np.sum(y))  # L = sum of the outputs",
                       "delta = np.ones_like(y)  # dL/dy")
        elif loss == "mse":
            script.add("loss = float(np.mean((y - target) ** 2))  # L = mean((y - target)^2)",
                       "delta = 2 * (y - target) / y.size  # dL/dy")
        else:
            script.add("loss = None  # delta is given: L = sum(delta * y)",
                       "delta = delta_given")
        script.add(f"grad_xp, grad_wk = correlate_backward(xp, wk, delta{batch}, stride, "
                   "dilation, groups)")
        if g.mode == "convolution":
            script.add("grad_w = np.flip(grad_wk, axis="
                       f"{tuple(range(2, 2 + g.ndim))!r})  # back to the unflipped kernel")
        else:
            script.add("grad_w = grad_wk")
        script.add("# the padded cells' gradients fold back onto the cells they copy: np.pad "
                   "of the cells' own",
                   "# indices says which (-1: a zero)")
        pads = ((0, 0), (0, 0), *g.padding)
        mode = NUMPY_PAD[g.padding_mode]
        constant = ", constant_values=-1" if mode == "constant" else ""
        script.add(f"source = np.pad(np.arange(x.size).reshape(x.shape), {pads!r}, "
                   f"mode={mode!r}{constant})",
                   "grad_x = np.zeros(x.size)",
                   "np.add.at(grad_x, source[source >= 0], grad_xp[source >= 0])",
                   "grad_x = grad_x.reshape(x.shape)",
                   f"grad_b = delta{batch}.sum(axis={(0, *range(2, 2 + g.ndim))!r})"
                   "  # dL/db: every output value adds its b")
        unbatch = "" if g.batched else "[0]"
        return script.text({"output": "y.tolist()", "loss": "loss",
                            "delta": "delta.tolist()",
                            "grad_input": f"grad_x{unbatch}.tolist()",
                            "grad_weight": "grad_w.tolist()", "grad_bias": "grad_b.tolist()"})
    script.add(f"b = torch.zeros({g.c_out}, dtype=torch.float64, requires_grad=True)"
               "  # no bias: a zero one, for dL/db")
    _torch_conv_forward(script, g)
    script.add(f"y = y{'[0]' if not g.batched else ''}  # the output as the page shows it")
    script.add("y.retain_grad()  # keep dL/dy, the delta")
    if loss == "sum":
        script.add("loss = y.sum()")
    elif loss == "mse":
        script.add("loss = ((y - target) ** 2).mean()")
    else:
        script.add("loss = (delta_given * y).sum()  # delta is given: L = sum(delta * y)")
    script.add("loss.backward()")
    unbatch = "" if g.batched else "[0]"
    return script.text({
        "output": "y.tolist()",
        "loss": "None" if loss == "custom" else "loss.item()",
        "delta": "y.grad.tolist()", "grad_input": f"x.grad{unbatch}.tolist()",
        "grad_weight": "w.grad.tolist()", "grad_bias": "b.grad.tolist()"})


def matrix_script(request, page, view, scene, flavour: str) -> str:
    """The convolution as a matrix: W, vec(y) = W·vec(x) (+ b), and Wᵀ·vec(δ)."""
    numpy = flavour == "numpy"
    g = scene.geom
    script = Script(request, page, flavour)
    x, w = scene.x, scene.w
    script.add(shape_note("input x", "H, W", x.shape),
               assign("x", x) if numpy else tensor("x", x, True),
               shape_note("kernel w", "K_H, K_W", w.shape),
               assign("w", w) if numpy else tensor("w", w),
               f"b = {number(float(scene.bias[0]))}  # bias" if scene.bias is not None
               else "b = 0.0  # no bias",
               shape_note("delta (dL/dy)", "O_H, O_W", scene.delta.shape),
               assign("delta", scene.delta) if numpy else tensor("delta", scene.delta),
               f"stride = {g.stride!r}", f"dilation = {g.dilation!r}",
               f"padding = {g.padding!r}  # cells added (before, after) on each axis", "")
    if numpy:
        if g.mode == "convolution":
            script.add("w = np.flip(w)  # true convolution: the kernel flipped")
        mode = NUMPY_PAD[g.padding_mode]
        constant = ", constant_values=-1" if mode == "constant" else ""
        script.add(
            f"# which input cell each padded cell holds ({g.padding_mode!r} padding; "
            "-1: a zero)",
            f"source = np.pad(np.arange(x.size).reshape(x.shape), {g.padding!r}, "
            f"mode={mode!r}{constant})",
            "out = tuple((p - d * (k - 1) - 1) // s + 1",
            "            for p, k, s, d in zip(source.shape, w.shape, stride, dilation))",
            "# row r of W is output value r: the kernel's taps, at the input cells its "
            "window reads",
            "W = np.zeros((out[0] * out[1], x.size))",
            "for r, o in enumerate(np.ndindex(*out)):",
            "    for t in np.ndindex(*w.shape):",
            "        j = source[tuple(i * s + k * d for i, k, s, d in zip(o, t, stride, "
            "dilation))]",
            "        if j >= 0:",
            "            W[r, j] += w[t]",
            "y = (W @ x.ravel() + b).reshape(out)  # vec(y) = W vec(x) + b",
            "grad_x = (W.T @ delta.ravel()).reshape(x.shape)  # dL/dx = W^T vec(delta)")
        return script.text({"W": "W.tolist()", "output": "y.tolist()",
                            "grad_input": "grad_x.tolist()"})
    flip = "torch.flip(w, dims=(0, 1))  # true convolution: the kernel flipped" \
        if g.mode == "convolution" else "w"
    script.add(f"wk = {flip}", "",
               "def conv(v):",
               '    """vec(x) -> vec(y), the page\'s convolution without its bias."""',
               f"    vp = F.pad(v.reshape(x.shape)[None, None], {torch_pad(g.padding)!r}, "
               f"mode={TORCH_PAD[g.padding_mode]!r})",
               "    return F.conv2d(vp, wk[None, None], stride=stride, dilation=dilation)"
               ".ravel()", "",
               "# W is the Jacobian of vec(y) in vec(x): autograd finds it",
               "W = torch.autograd.functional.jacobian(conv, x.detach().ravel())",
               "y = conv(x.ravel()).reshape(delta.shape) + b",
               "(y * delta).sum().backward()  # dL/dx = W^T vec(delta)")
    return script.text({"W": "W.tolist()", "output": "y.tolist()",
                        "grad_input": "x.grad.tolist()"})


def transposed_script(request, page, view, scene, flavour: str) -> str:
    """The transposed convolution: every input value stamps the kernel, times itself."""
    numpy = flavour == "numpy"
    g = scene.geom
    script = Script(request, page, flavour)
    names = ", ".join(spatial_names(scene.x.ndim))
    script.add(shape_note("input x", names, scene.x.shape),
               assign("x", scene.x) if numpy else tensor("x", scene.x),
               shape_note("kernel w", names, scene.w.shape),
               assign("w", scene.w) if numpy else tensor("w", scene.w),
               f"stride = {g.stride!r}", f"padding = {g.padding!r}  # cropped from each side",
               f"output_padding = {g.output_padding!r}  # added after, on each axis",
               f"dilation = {g.dilation!r}", "")
    if not numpy:
        script.add(f"y = F.conv_transpose{scene.x.ndim}d(x[None, None], w[None, None], "
                   "stride=stride, padding=padding,",
                   "                         output_padding=output_padding, "
                   "dilation=dilation)[0, 0]")
        return script.text({"output": "y.tolist()"})
    script.add(
        "out = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, k, s, p, op, d",
        "            in zip(x.shape, w.shape, stride, padding, output_padding, dilation))",
        "full = np.zeros([o + 2 * p for o, p in zip(out, padding)])",
        "for i in np.ndindex(*x.shape):",
        "    # input cell i stamps the kernel, times x[i], from i*stride, every dilation-th "
        "cell",
        "    full[tuple(slice(a * s, a * s + d * (k - 1) + 1, d)",
        "               for a, k, s, d in zip(i, w.shape, stride, dilation))] += x[i] * w",
        "y = full[tuple(slice(p, p + o) for p, o in zip(padding, out))]  # padding cropped")
    return script.text({"output": "y.tolist()"})


def pool_script(request, page, view, scene, flavour: str) -> str:
    """Max or average pooling (and its gradient for δ = 1, 2, 3, ...; the convolution beside
    it when the page compares them)."""
    numpy = flavour == "numpy"
    g = scene.geom
    script = Script(request, page, flavour)
    kind = view.kind
    script.add(shape_note("input x", "H, W", scene.x.shape),
               assign("x", scene.x) if numpy else tensor("x", scene.x, scene.backward),
               f"kernel = {g.kernel!r}", f"stride = {g.stride!r}",
               f"padding = {g.padding!r}  # on both sides of each axis",
               f"dilation = {g.dilation!r}", f"ceil_mode = {g.ceil_mode!r}")
    if kind == "avg":
        script.add(f"count_include_pad = {g.count_include_pad!r}")
    if scene.backward:
        script.add("# delta = dL/dy: 1, 2, 3, ... (L = sum(delta * y))",
                   assign("delta", scene.delta) if numpy else tensor("delta", scene.delta))
    if scene.w is not None:
        script.add("# the convolution compared: this kernel over the same windows "
                   "(zero padding)",
                   assign("w", scene.w) if numpy else tensor("w", scene.w))
    script.add("")
    result = {"output": "y.tolist()"}
    if scene.backward:
        result["grad_input"] = "grad_x.tolist()"
    if scene.w is not None:
        result["conv_output"] = "conv.tolist()"
    if not numpy:
        if kind == "max":
            script.add("y = F.max_pool2d(x[None, None], kernel, stride=stride, "
                       "padding=padding, dilation=dilation,",
                       "                 ceil_mode=ceil_mode)[0, 0]")
        else:
            script.add("y = F.avg_pool2d(x[None, None], kernel, stride=stride, "
                       "padding=padding, ceil_mode=ceil_mode,",
                       "                 count_include_pad=count_include_pad)[0, 0]")
        if scene.backward:
            script.add("(delta * y).sum().backward()", "grad_x = x.grad")
        if scene.w is not None:
            script.add("conv = F.conv2d(x.detach()[None, None], w[None, None], stride=stride, "
                       "padding=padding,", "                dilation=dilation)[0, 0]")
        return script.text(result)
    script.define(WINDOW, POOL_OUT_SIZE)
    script.add(
        "out = tuple(map(out_size, x.shape, kernel, stride, padding, dilation))",
        "pads = [(p, p) for p in padding]",
        "y = np.zeros(out)")
    if kind == "max":
        script.add("xp = np.pad(x, pads, constant_values=-np.inf)  # padding never wins a max",
                   "for o in np.ndindex(*out):",
                   "    # a window past the padding (ceil_mode) just has fewer cells",
                   "    y[o] = xp[window(o, kernel, stride, dilation)].max()")
        if scene.backward:
            script.add(
                "grad_xp = np.zeros_like(xp)",
                "for o in np.ndindex(*out):",
                "    cells = window(o, kernel, stride, dilation)",
                "    # the first maximum, in the window's order, gets the window's delta",
                "    first = np.unravel_index(np.argmax(xp[cells]), xp[cells].shape)",
                "    grad_xp[cells][first] += delta[o]")
    else:
        script.add("xp = np.pad(x, pads)  # zeros",
                   "real = np.pad(np.ones_like(x), pads)  # 1 on the input's cells",
                   "divisors = np.zeros(out)",
                   "for o in np.ndindex(*out):",
                   "    cells = window(o, kernel, stride, dilation)",
                   "    # count_include_pad: every cell inside the padded input; else the "
                   "input's cells",
                   "    divisors[o] = xp[cells].size if count_include_pad else "
                   "real[cells].sum()",
                   "    y[o] = xp[cells].sum() / divisors[o]")
        if scene.backward:
            script.add("grad_xp = np.zeros_like(xp)",
                       "for o in np.ndindex(*out):",
                       "    grad_xp[window(o, kernel, stride, dilation)] += delta[o] / "
                       "divisors[o]")
    if scene.backward:
        script.add("grad_x = grad_xp[tuple(slice(p, p + n) for p, n in zip(padding, "
                   "x.shape))]  # padding dropped")
    if scene.w is not None:
        script.add("xz = np.pad(x, pads)",
                   "conv_out = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1",
                   "                 for n, k, s, p, d in zip(x.shape, kernel, stride, "
                   "padding, dilation))",
                   "conv = np.zeros(conv_out)",
                   "for o in np.ndindex(*conv_out):",
                   "    conv[o] = np.sum(xz[window(o, kernel, stride, dilation)] * w)")
    return script.text(result)


def network_script(request, page, view, scene, flavour: str) -> str:
    """The digits CNN's forward pass of the digit shown, with the weights after the URL's
    training steps."""
    numpy = flavour == "numpy"
    script = Script(request, page, flavour)
    params = {r.name: r.params for r in scene.records.values() if r.params}
    script.add(f"# the weights after {scene.step_count} training steps (seed {view.seed}, "
               f"learning rate {view.lr!r}, batch {view.batch})",
               "# conv1: Conv2d(1, 4, 3, padding=1) -> ReLU -> MaxPool2d(2) ->",
               "# conv2: Conv2d(4, 8, 3, padding=1) -> ReLU -> MaxPool2d(2) -> "
               "flatten -> fc: Linear(32, 10)")
    for layer in ("conv1", "conv2", "fc"):
        for kind in ("weight", "bias"):
            values = params[layer][kind]
            script.add(shape_note(f"{layer} {kind}", "", values.shape).replace("shape () = ",
                                                                               "shape "),
                       assign(f"{layer}_{kind[0]}", values) if numpy else
                       tensor(f"{layer}_{kind[0]}", values))
    what = "the digit drawn" if scene.drawn else f"test digit {view.digit}"
    script.add(f"# the input: {what}, pixels / 16, shape (N, C, H, W) = (1, 1, 8, 8)",
               assign("x", scene.x) if numpy else tensor("x", scene.x), "")
    if numpy:
        script.define(WINDOW, OUT_SIZE, CORRELATE, NETWORK_LAYERS)
        script.add(
            "h = max_pool2(np.maximum(conv3x3(x, conv1_w, conv1_b), 0))",
            "h = max_pool2(np.maximum(conv3x3(h, conv2_w, conv2_b), 0))",
            "logits = h.reshape(1, -1) @ fc_w.T + fc_b",
            "e = np.exp(logits - logits.max())  # softmax, shifted by the largest logit",
            "probabilities = e / e.sum()")
    else:
        script.add(
            "h = F.max_pool2d(F.relu(F.conv2d(x, conv1_w, conv1_b, padding=1)), 2)",
            "h = F.max_pool2d(F.relu(F.conv2d(h, conv2_w, conv2_b, padding=1)), 2)",
            "logits = F.linear(h.flatten(1), fc_w, fc_b)",
            "probabilities = torch.softmax(logits, dim=1)")
    return script.text({"logits": "logits[0].tolist()",
                        "probabilities": "probabilities[0].tolist()",
                        "predicted": "int(probabilities[0].argmax())"})


SCRIPTS = {"1d": conv_script, "2d": conv_script, "3d": conv_script, "channels": conv_script,
           "backprop": backprop_script, "matrix": matrix_script,
           "transposed": transposed_script, "pool": pool_script, "network": network_script}


def script_response(request: Request, page: str, view, scene, flavour: str) -> Response:
    text = SCRIPTS[page](request, page, view, scene, flavour)
    return Response(text, media_type="text/x-python; charset=utf-8", headers={
        "Content-Disposition": f'inline; filename="{filename(page, flavour)}"'})


@register("numpy")
def numpy_script(request: Request, page: str, view, scene) -> Response:
    """The scene's numbers with NumPy alone."""
    return script_response(request, page, view, scene, "numpy")


@register("torch")
def torch_script(request: Request, page: str, view, scene) -> Response:
    """The scene's numbers with PyTorch."""
    return script_response(request, page, view, scene, "torch")
