"""Settings: every limit and switch lives here, overridable from the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from ``CONVSCOPE_*`` environment variables (e.g. ``CONVSCOPE_MAX_MACS``)."""

    model_config = SettingsConfigDict(env_prefix="CONVSCOPE_")

    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override with ``app.dependency_overrides``."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
