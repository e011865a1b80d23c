"""Settings: every limit and switch lives here, overridable from the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from ``CONVSCOPE_*`` environment variables (e.g. ``CONVSCOPE_MAX_MACS=1e8``).

    The compute limits keep every accepted request well under a second on a 2-core machine
    (see ``make bench``); each is checked before anything is allocated.
    """

    model_config = SettingsConfigDict(env_prefix="CONVSCOPE_")

    host: str = "127.0.0.1"
    port: int = 8000

    max_body_bytes: int = Field(2_000_000, description="request body size (413 above)")
    max_array_elements: int = Field(250_000, description="elements in any one array")
    max_spatial_dims: int = Field(3, description="spatial dimensions of a convolution")
    max_output_elements: int = Field(1_000_000, description="elements of the output")
    max_padded_elements: int = Field(4_000_000, description="elements of the padded input")
    max_macs: int = Field(
        30_000_000,
        description="multiply-accumulates of one request (a backward pass counts three times "
        "its forward pass)",
    )
    max_trace_steps: int = Field(5_000, description="steps in one trace response")
    max_trace_terms: int = Field(200_000, description="terms in one trace response")
    cors_origins: list[str] = Field(["*"], description="origins allowed to call the API")
    frame_ancestors: list[str] = Field(
        [], description="origins allowed to embed the pages in a frame (slides, a course "
                        "site); none by default")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override with ``app.dependency_overrides``."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
