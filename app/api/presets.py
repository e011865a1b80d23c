"""``/api/v1/presets``: the lesson's examples and the pages' kernels, images and signals."""

from __future__ import annotations

from fastapi import APIRouter

from ..engine.errors import describe
from ..i18n import gettext
from ..presets import PRESETS
from .errors import ApiError, ErrorBody
from .schemas import Preset, PresetSummary

router = APIRouter(prefix="/api/v1/presets", tags=["presets"])


@router.get("", operation_id="list_presets", response_model=list[PresetSummary])
def list_presets() -> list[dict[str, str]]:
    """Every preset: name, title, kind and a one-line description."""
    return [preset.summary() for preset in PRESETS.values()]


@router.get("/{name}", operation_id="get_preset", response_model=Preset,
            responses={404: {"model": ErrorBody, "description": "No preset has that name."}})
def get_preset(name: str) -> Preset:
    """One preset; examples carry a request ``body`` ready to POST to their ``endpoint``."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ApiError(404, gettext("no preset is named %(name)s; GET /api/v1/presets lists "
                                    "them") % {"name": describe(name)}, field="name",
                       code="not_found")
    return Preset(**{k: v for k, v in preset.__dict__.items() if k != "tags"})
