"""The ASGI application: ``app.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import __version__

ROOT = Path(__file__).resolve().parent.parent


def create_app() -> FastAPI:
    """Build the app: static files, routers, error handlers."""
    application = FastAPI(
        title="ConvScope",
        version=__version__,
        summary="See how the convolution in a CNN works, forward and backward.",
    )
    application.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    @application.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: answers without computing anything."""
        return {"status": "ok"}

    return application


app = create_app()
