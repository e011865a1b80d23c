"""The ``convscope`` command: ``convscope serve [--host] [--port] [--reload]``."""

from __future__ import annotations

import argparse
import errno
import socket
import sys

from .config import get_settings

EXIT_CANNOT_LISTEN = 2


def build_parser() -> argparse.ArgumentParser:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="convscope", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the web app and the API")
    serve.add_argument("--host", default=settings.host, help="default: %(default)s")
    serve.add_argument("--port", type=int, default=settings.port,
                       help="default: %(default)s (or CONVSCOPE_PORT)")
    serve.add_argument("--reload", action="store_true", help="restart when code changes")
    return parser


def cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port``, in words, or ``None`` if it can:
    binds a socket there the way uvicorn will (``SO_REUSEADDR``) and lets it go."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot listen on {host}: no such address ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use (another ConvScope, or " \
                       "another program, is listening there)"
            if exc.errno == errno.EACCES:
                return f"port {port} on {host} needs more privileges than this user has"
            return f"cannot listen on {host} port {port}: {exc.strerror}"
    return None


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    import uvicorn

    reason = cannot_listen(args.host, args.port)
    if reason is not None:
        sys.stderr.write(
            f"ConvScope cannot start: {reason}.\n"
            "Choose another port: make run PORT=8011, convscope serve --port 8011, or set "
            "CONVSCOPE_PORT=8011.\n")
        raise SystemExit(EXIT_CANNOT_LISTEN)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    sys.stdout.write(f"ConvScope: http://{shown}:{args.port}/\n")
    sys.stdout.flush()
    uvicorn.run("app.main:app", host=args.host, port=args.port, reload=args.reload,
                server_header=False)
