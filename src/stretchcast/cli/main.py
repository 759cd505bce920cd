"""The ``stretchcast`` command: the parser, error handling and exit codes; subcommands live beside it.

Exit codes: 0 done; 1 unexpected failure; 2 bad input (nothing written); 3 a voice cannot speak;
4 output cannot be written; 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

from stretchcast import __version__
from stretchcast.cli import figures, handout, programme, routines, serve, voices
from stretchcast.errors import StretchcastError, did_you_mean
from stretchcast.sound.cues import abandoned_engines

log = logging.getLogger("stretchcast")

#: Each module adds its subcommands (``register(sub)``), in the order ``--help`` lists them; every
#: subcommand sets ``handler``, the function that runs it and returns the exit code.
COMMAND_MODULES = (routines, serve, voices, programme, figures, handout)
INTERRUPTED = 130  # the shell's code for a process stopped by Ctrl-C (128 + SIGINT)


class _Parser(argparse.ArgumentParser):
    """argparse, with its mistakes reported like every other stretchcast message: two plain lines.

    Abbreviated options are off: "--no-chime" must not quietly mean "--no-chimes".
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Print what was wrong and how to find the right words; exit 2."""
        problem, fix = message, f"Run '{self.prog} --help' to see what it takes."
        choice = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        unknown = re.match(r"unrecognized arguments: (.*)", message)
        if choice and choice.group(1) == "COMMAND":
            commands = re.findall(r"'([^']*)'", choice.group(3))
            problem = f"there is no command '{choice.group(2)}'"
            fix = f"{did_you_mean(choice.group(2), commands)}Commands: {', '.join(commands)}."
        elif message.startswith("the following arguments are required: COMMAND"):
            problem = "say what to do: a command is needed"
            fix = "Start with 'stretchcast list', then 'stretchcast build standard' (--help lists all)."
        elif message.startswith("the following arguments are required: "):
            problem = f"'{self.prog}' needs {message.split(': ', 1)[1]}"
        elif unknown:
            words = unknown.group(1).split()
            options = [o for o in _all_options(self) if o.startswith("--")]
            hints = [did_you_mean(w, options) for w in words if w.startswith("-")]
            problem = f"unknown argument{'s' if len(words) > 1 else ''}: {unknown.group(1)}"
            fix = "".join(hints) + "Run 'stretchcast COMMAND --help' to see a command's options."
        sys.stderr.write(f"stretchcast: {problem}\n  {fix}\n")
        raise SystemExit(2)


def _all_options(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of ``parser`` and of its subcommands."""
    found: list[str] = []
    for action in parser._actions:
        found += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += _all_options(child)
    return sorted(set(found))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stretchcast",
        description="Guided audio routines for SI joint stretches: plan them, build them as MP3s.",
        epilog="Start with 'stretchcast list', then 'stretchcast build standard'.",
    )
    parser.add_argument("--version", action="version", version=f"stretchcast {__version__}")
    parser.add_argument(
        "--content", type=Path, metavar="DIR", help="content folder (default: content/si-joint)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND", required=True),
    )

    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (exceptions propagate)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(name)s: %(message)s" if args.debug else "stretchcast: %(message)s",
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _main(argv: Sequence[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        return run(argv)
    except StretchcastError as err:
        if debug:
            raise
        print(f"stretchcast: {err.message}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("stretchcast: interrupted; no partial files were left behind.", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # the reader went away (e.g. '| head'): not an error; keep Python from complaining at exit
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115, PTH123 - must stay open until exit
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, and turn errors into one or two plain lines and an exit code."""
    code = _main(argv)
    if argv is None and (code == INTERRUPTED or abandoned_engines()):
        # After Ctrl-C or a hung engine, a native engine (onnxruntime) may still be running in a
        # thread, and interpreter shutdown would abort inside it ("terminate called without an
        # active exception"). Every file was already cleaned up while the exception unwound and
        # the message is printed, so leave at once with the right exit code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
