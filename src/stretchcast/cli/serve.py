"""``stretchcast serve``: the phone page and the podcast feed over a folder of tracks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_folder_argument(p: argparse.ArgumentParser, help_text: str) -> None:
    """The folder of built routines a command reads (``serve``, ``publish``): ``audio`` by default."""
    p.add_argument("folder", nargs="?", type=Path, default=Path("audio"), metavar="DIR", help=help_text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve``."""
    from stretchcast.serve import DEFAULT_PORT  # the constant alone: the server loads only to serve

    p = sub.add_parser("serve", help="play the built routines on a phone: a web page and a podcast feed")
    add_folder_argument(p, "folder to serve (default: audio)")
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)",
    )
    p.add_argument(
        "--lan",
        action="store_true",
        help="listen on this computer's Wi-Fi address and print a QR code to open it on a phone",
    )
    from stretchcast.cli.log import add_db_option

    add_db_option(p)
    p.add_argument("--no-log", action="store_true", help="no check-ins: serve read-only, without the log")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from stretchcast.serve import server as serve

    server = serve.listen(args.folder, port=args.port, lan=args.lan)
    with server:
        if not args.no_log:  # opened once the folder and port are known to be fine: a mistake makes no log
            from stretchcast.cli.log import open_log

            server.log = open_log(args)
        print(serve.banner(server, lan=args.lan, colour=sys.stdout.isatty()), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("Stopped.")
    return 0
