"""The ``convscope`` command: ``convscope serve [--host] [--port] [--reload]``."""

from __future__ import annotations

import argparse
import sys

from .config import get_settings


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="convscope", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app and the API")
    serve.add_argument("--host", default=settings.host, help="default: %(default)s")
    serve.add_argument("--port", type=int, default=settings.port, help="default: %(default)s")
    serve.add_argument("--reload", action="store_true", help="restart when code changes")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    import uvicorn

    shown = f"[{args.host}]" if ":" in args.host else args.host
    sys.stdout.write(f"ConvScope: http://{shown}:{args.port}/\n")
    sys.stdout.flush()
    uvicorn.run("app.main:app", host=args.host, port=args.port, reload=args.reload,
                server_header=False)
