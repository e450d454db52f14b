"""Serving the emulator over HTTP on 127.0.0.1 (werkzeug's threaded server, as moto's own server uses)."""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import BaseWSGIServer, make_server

from tests.emulator.app import EmulatorApp


class QuietRequestHandler(MotoRequestHandler):
    """moto's handler (keeps underscore headers for S3) without a log line per request.

    Benchmarks send thousands of requests; a line each would bury real errors in the test output.
    """

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def create_server(
    host: str = "127.0.0.1", port: int = 0, *, app: EmulatorApp | None = None, verbose: bool = False
) -> tuple[BaseWSGIServer, EmulatorApp]:
    """A bound, not yet serving, server (port 0 picks a free port: see ``server.server_port``)."""
    app = app or EmulatorApp()
    app.warm_up()
    handler: Any = MotoRequestHandler if verbose else QuietRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    return server, app
