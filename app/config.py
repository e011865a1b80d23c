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
        description="multiply-accumulates of one request, as the engine's cost model counts "
        "them for the path it takes (app/engine/cost.py)",
    )
    max_work_bytes: int = Field(
        160 << 20, description="bytes one computation may allocate at once (its arrays, "
                               "padding and workspaces)")
    max_loops: int = Field(20_000, description="Python-level iterations of one computation "
                                               "(im2col blocks, col2im taps or windows)")
    compute_threads: int = Field(1, description="requests computing at once (API requests, "
                                                "page builds), in worker threads; the others "
                                                "wait their turn. More threads only contend "
                                                "for the GIL: with 2, /healthz p99 under 8 "
                                                "heavy API clients was 60 ms, with 1 28 ms "
                                                "(bench/costs.py). Scale with workers.")
    max_trace_steps: int = Field(5_000, description="steps in one trace response")
    max_trace_terms: int = Field(200_000, description="terms in one trace response")

    # The pages take their state from the query string and draw every value they compute,
    # so they have limits of their own, shown on the page when crossed (max_macs above
    # applies to them too).
    page_max_query_bytes: int = Field(16_384, description="query string of a page request "
                                                          "(414 above)")
    page_max_grid_side: int = Field(32, description="rows or columns of a 2D page's input")
    page_max_kernel_side: int = Field(9, description="rows or columns of a 2D page's kernel")
    page_max_signal: int = Field(400, description="values in a 1D signal, δ or target")
    page_max_kernel_1d: int = Field(100, description="values in a 1D page's kernel")
    page_max_cells: int = Field(6_000, description="values one page draws (a padded 28x28 "
                                                   "input and its output fit)")
    upload_max_bytes: int = Field(2_000_000, description="bytes of a picture uploaded to "
                                                         "/2d (413 above), refused before it "
                                                         "is read; nginx's body limit too")
    upload_max_pixels: int = Field(12_000_000, description="pixels of an uploaded picture, "
                                                           "read from its header and refused "
                                                           "above before it is decoded")
    page_max_matrix_side: int = Field(6, description="rows or columns of the matrix page's "
                                                     "input")
    page_max_matrix_kernel: int = Field(3, description="rows or columns of the matrix page's "
                                                       "kernel")
    page_max_matrix_entries: int = Field(
        1_296, description="entries of the matrix page's W (36 x 36: a 6x6 input, padded to "
                           "keep its size); a 16 x 36 W fits one screen at 1024x768")
    page_max_epochs: int = Field(500, description="gradient-descent updates the backprop "
                                                  "page replays")
    network_max_steps: int = Field(20_000, description="training steps a /network address "
                                                       "can ask for (steps, train)")
    network_max_batch: int = Field(256, description="digits in one /network training step")
    network_request_digits: int = Field(
        640, description="digits one /network request trains on (steps x batch, at least one "
                         "step): 20 steps of 32, about 35 ms, so live training never holds a "
                         "compute thread longer; the page asks again for the rest")
    network_runs: int = Field(4, description="training runs (seed, lr, batch) whose "
                                             "checkpoints are kept")
    network_checkpoints: int = Field(32, description="checkpoints kept per training run (each "
                                                     "~40 kB); a state between them is "
                                                     "replayed from the nearest before it")
    export_max_frames: int = Field(300, description="frames of one ?format=gif animation "
                                                    "(steps 0 to the last; 413 above)")
    export_max_pixels: int = Field(
        105_000_000, description="pixels of one ?format=gif animation's frames (frames x "
                                 "width x height at the most: 800x480 on /1d, 1024x768 "
                                 "elsewhere; checked before any step is looked at; 413 "
                                 "above): each frame repaints only its changes, so ~2 s "
                                 "at most here (bench/export.py)")
    export_gif_wait_seconds: float = Field(
        3.0, ge=0, description="how long a ?format=gif request waits for the one animation "
                                "being drawn (one at a time: the largest takes ~2 s and ~210 MB "
                                "while its frames are kept for the encoder); 503 after")
    cors_origins: list[str] = Field(["*"], description="origins allowed to call the API")
    frame_ancestors: list[str] = Field(
        [], description="origins allowed to embed the pages in a frame (slides, a course "
                        "site); none by default")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests override with ``app.dependency_overrides``."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
