"""``python -m tests.emulator --port N``: serve the emulator until SIGTERM or SIGINT.

With ``--port 0`` a free port is chosen; either way one line ``emulator listening on http://HOST:PORT``
is printed (and flushed) once the socket accepts connections, which is what the fixture waits for.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from tests.emulator.app import EmulatorApp
from tests.emulator.model import DEFAULT_PAGE_SIZE
from tests.emulator.server import create_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--default-page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        help=f"page size of list calls made without MaxResults (default {DEFAULT_PAGE_SIZE})",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server, _ = create_server(
        args.host, args.port, app=EmulatorApp(default_page_size=args.default_page_size), verbose=args.verbose
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"emulator listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
