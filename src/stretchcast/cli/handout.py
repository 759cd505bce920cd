"""``stretchcast handout``: the printed sheet of a routine or a programme, as PDF and HTML."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from stretchcast.cli.routines import minutes_arg, routine_from_args
from stretchcast.errors import UsageError
from stretchcast.handout.papers import PAPERS

if TYPE_CHECKING:
    from stretchcast.content import Collection
    from stretchcast.handout import Sheet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``handout``."""
    p = sub.add_parser(
        "handout", help="a printed sheet of a routine or programme: PDF and HTML, with pictures and cautions"
    )
    p.add_argument(
        "routine",
        nargs="?",
        default="standard",
        metavar="ROUTINE|PROGRAMME",
        help="preset, programme, or routine or programme file (default: standard)",
    )
    p.add_argument(
        "-o", "--out", type=Path, default=Path("audio"), metavar="DIR", help="folder (default: audio)"
    )
    add_handout_args(p)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="EXERCISE.FIELD=VALUE",
        help="change a dose, as for build, e.g. --set knee-sways.reps=6",
    )
    minutes_arg(p)
    # the guidance changes only the track's timing, not what is printed: as in the routine
    p.set_defaults(handler=_handout, pace=None, chimes=None, countdown=None)


def add_handout_args(p: argparse.ArgumentParser) -> None:
    """``--paper`` and ``--url``: shared with ``build --handout``."""
    p.add_argument(
        "--paper", default="a4", type=str.lower, choices=sorted(PAPERS), help="paper size (default: a4)"
    )
    p.add_argument(
        "--url", metavar="URL", help="the phone page's address (stretchcast serve): printed as a QR code"
    )


def _is_programme(collection: Collection, ref: str) -> bool:
    import yaml

    from stretchcast.content import strict_yaml as _yaml
    from stretchcast.content.programme import programme_names

    if ref in programme_names(collection):
        return True
    path = Path(ref)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        node = _yaml.read_document(path)  # a YAML mistake is reported here, with its line
        return isinstance(node, yaml.MappingNode) and any(
            getattr(key, "value", None) == "weeks" for key, _value in node.value
        )
    return False


def check_url(url: str | None) -> str | None:
    """``url`` if it is a web address, else a mistake (exit 2)."""
    if url is not None and not url.startswith(("http://", "https://")):
        raise UsageError(
            f"--url {url} is not a web address",
            fix="Give the address serve prints, like http://192.168.1.20:8000/",
        )
    return url


def _handout(args: argparse.Namespace) -> int:
    # the handout's modules load fpdf and fontTools (~0.3 s): only for this command, not its --help
    from stretchcast.content import load_collection
    from stretchcast.content.programme import load_programme
    from stretchcast.handout import programme_sheet, routine_sheet, write_handout

    collection = load_collection(args.content)
    url = check_url(args.url)
    sheet: Sheet
    if _is_programme(collection, args.routine):
        if args.overrides or args.minutes is not None:
            raise UsageError(
                "a programme's weeks are set in its file",
                fix="Drop --set and --minutes, or make a handout of one routine.",
            )
        sheet = programme_sheet(load_programme(collection, args.routine), url=url)
    else:
        sheet = routine_sheet(routine_from_args(args, collection), url=url)
    files = write_handout(sheet, args.out, paper=args.paper)
    print(f"Handout: {files.pdf}  {files.html}")
    return 0
