"""The scene↔template contract (app.web.contract): a page's templates read from its scene only
what its page's Protocol lists, and the scene of every preset of that page has all of it.
Then the step rule the contract states: a step method given a step answers for the scene at
that step, and stepping a built scene computes again nothing that does not depend on it."""

from __future__ import annotations

import re
from typing import Generic, Protocol

import pytest

from app import presets
from app.config import Settings
from app.paths import TEMPLATES
from app.web import contract
from app.web.parsing import (
    parse_view_1d,
    parse_view_2d,
    parse_view_3d,
    parse_view_backprop,
    parse_view_channels,
)
from app.web.scene1d import Scene1D
from app.web.scene2d import Scene2D
from app.web.scene3d import Scene3D
from app.web.scene_backprop import SceneBackprop
from app.web.scene_channels import SceneChannels
from app.web.scene_matrix import SceneMatrix, parse_view_matrix
from app.web.scene_pool import ScenePool
from app.web.scene_transposed import SceneTransposed
from app.web.scenes import Budget, explain
from app.web.view_pool import INPUTS, parse_view_pool
from app.web.view_transposed import INPUTS_T, KERNELS_T, parse_view_transposed

PAGES = {  # page: its protocol, how its view is read, its scene, the templates that read it
    "1d": (contract.Scene1DContract, parse_view_1d, Scene1D, ("page_1d.html", "plots_1d.html")),
    "2d": (contract.Scene2DContract, parse_view_2d, Scene2D, ("page_2d.html", "macros.html")),
    "3d": (contract.Scene3DContract, parse_view_3d, Scene3D, ("page_3d.html", "parts_3d.html")),
    "channels": (contract.SceneChannelsContract, parse_view_channels, SceneChannels,
                 ("page_channels.html", "channels_parts.html")),
    "matrix": (contract.SceneMatrixContract, parse_view_matrix, SceneMatrix,
               ("page_matrix.html", "matrix_parts.html")),
    "backprop": (contract.SceneBackpropContract, parse_view_backprop, SceneBackprop,
                 ("page_backprop.html", "backprop_parts.html")),
    "transposed": (contract.SceneTransposedContract, parse_view_transposed, SceneTransposed,
                   ("page_transposed.html", "transposed_parts.html")),
    "pool": (contract.ScenePoolContract, parse_view_pool, ScenePool,
             ("page_pool.html", "pool_parts.html")),
}

#: each page's default view and every preset it has
VIEWS = [("1d", {})]
VIEWS += [("1d", {"signal": name}) for name in presets.SIGNALS_1D]
VIEWS += [("1d", {"kernel": name, "compare": "1"}) for name in presets.KERNELS_1D_DENSE]
VIEWS += [("1d", {"view": "discrete", "kernel": name}) for name in presets.KERNELS_1D]
VIEWS += [("2d", {})] + [("2d", {"input": name}) for name in presets.IMAGES_2D]
VIEWS += [("2d", {"kernel": name, "mode": "convolution"}) for name in presets.KERNELS_2D]
VIEWS += [("3d", {})] + [("3d", {"volume": name}) for name in presets.VOLUMES]
VIEWS += [("channels", {})] + [("channels", {"preset": name}) for name in presets.CHANNELS]
VIEWS += [("matrix", {"matrix": kind}) for kind in ("im2col", "W", "Wt")]
VIEWS += [("matrix", {"input": "random", "kernel": "sobel-x", "padding": "1",
                      "padding_mode": "circular"})]
VIEWS += [("backprop", {})] + [("backprop", {"preset": name, "part": part})
                                for name in presets.BACKPROP
                                for part in ("weight", "input", "bias")]
VIEWS += [("transposed", {"input": name, "show": show}) for name in INPUTS_T
          for show in ("scatter", "gather")]
VIEWS += [("transposed", {"kernel": name}) for name in KERNELS_T]
VIEWS += [("pool", {"input": name, "kind": kind, "part": part, "compare": "1"})
          for name in INPUTS for kind in ("max", "avg") for part in ("forward", "backward")]

SETTINGS = Settings()


def members(protocol: type) -> dict[str, bool]:
    """Every name a protocol lists (its bases' too) -> whether it is a method."""
    names: dict[str, bool] = {}
    for cls in reversed(protocol.__mro__):
        if cls in (object, Protocol, Generic) or not getattr(cls, "_is_protocol", False):
            continue
        names |= dict.fromkeys(vars(cls).get("__annotations__", {}), False)
        for name, value in vars(cls).items():
            if not name.startswith("_"):
                names[name] = callable(value) and not isinstance(value, property)
    return names


def read_by_templates(names: tuple[str, ...]) -> set[str]:
    """Every ``scene.<name>`` these templates read."""
    found: set[str] = set()
    for name in names:
        found |= set(re.findall(r"\bscene\.([A-Za-z_]\w*)", (TEMPLATES / name).read_text()))
    return found


def scene_of(page: str, query: dict, step: int = 1):
    _, parse, build, _ = PAGES[page]
    view = parse({**query, "step": str(step)}, SETTINGS)
    explained = explain(build, view, Budget.of(SETTINGS))
    assert explained.scene is not None, explained.error
    return explained.scene


@pytest.mark.parametrize("page", list(PAGES))
def test_templates_read_only_what_their_pages_contract_lists(page: str) -> None:
    protocol, _, _, names = PAGES[page]
    read = read_by_templates(names)
    assert "step" in read  # the scan finds what a template reads
    assert read - set(members(protocol)) == set()


@pytest.mark.parametrize(("page", "query"), VIEWS, ids=[f"{p}-{q}" for p, q in VIEWS])
def test_the_scene_of_every_preset_has_all_its_contract_lists(page: str, query: dict) -> None:
    protocol = PAGES[page][0]
    scene = scene_of(page, query)
    missing = [name for name in members(protocol) if not hasattr(scene, name)]
    assert missing == []
    assert isinstance(scene, protocol)
    not_callable = [name for name, method in members(protocol).items()
                    if method and not callable(getattr(scene, name))]
    assert not_callable == []


def test_a_step_method_given_a_step_answers_for_the_scene_at_that_step() -> None:
    """The lesson's 2D example: kernel [[0, 1], [2, 3]] over [[0, 1, 2], ...]; its second
    step makes output (1, 2) = 0×1 + 1×2 + 2×4 + 3×5 = 25."""
    scene = scene_of("2d", {}, step=0)
    terms = [f"{t.weight}×{t.value}" for t in scene.terms(2)]
    assert terms == ["0×1", "1×2", "2×4", "3×5"]
    assert [f"{t.weight}×{t.value}" for t in scene.at(2).terms()] == terms
    assert scene.at(2).out_position() == scene.out_position(2) == (0, 1)
    assert float(scene.record(2).value) == 25
    assert scene.step == 0 and scene.out_position() is None  # the scene itself stays put
    made = [[cell.text for cell in row] for row in scene.at(2).output_rows()]
    assert made == [["19", "25"], ["", ""]]
    assert [[cell.text for cell in row] for row in scene.output_rows()] == [["", ""], ["", ""]]


@pytest.mark.parametrize(("page", "values"), [("2d", ("padded", "input_scale")),
                                              ("1d", ("signal_path", "ticks", "ty_input")),
                                              ("3d", ("iso_input", "padded"))])
def test_stepping_a_built_scene_shares_what_does_not_depend_on_the_step(page, values) -> None:
    """A player's step update is answered on the event loop: it computes its own step, not
    again the grids and plots the scene already made."""
    first, later = scene_of(page, {}, step=1), scene_of(page, {}, step=2)
    assert (first.step, later.step) == (1, 2)
    for name in values:
        assert getattr(first, name) is getattr(later, name)
