"""The ``stretchcast`` command: the parser, error handling and exit codes; subcommands live beside it.

Exit codes: 0 done; 1 unexpected failure; 2 bad input (nothing written); 3 a voice cannot speak;
4 output cannot be written; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

from stretchcast import __version__
from stretchcast.cli import figures, handout, programme, publish, routines, say, serve, voices
from stretchcast.cli import log as session_log
from stretchcast.errors import OutputError, StretchcastError, did_you_mean, shown

log = logging.getLogger("stretchcast")

#: Each module adds its subcommands (``register(sub)``), in the order ``--help`` lists them; every
#: subcommand sets ``handler``, the function that runs it and returns the exit code.
COMMAND_MODULES = (routines, serve, voices, programme, figures, say, handout, publish, session_log)
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
        unknown = re.match(r"unrecognized arguments: (.*)", message, re.DOTALL)
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
        _say(problem, fix)
        raise SystemExit(2)


def _say(problem: str, fix: str | None = None) -> None:
    """Write an error to stderr as one or two lines, whatever they hold.

    This is the console writer every message passes through: what a person typed is echoed, and
    escaped here (``errors.shown``) a name holding terminal escape codes cannot clear the screen,
    nor a value holding a newline spread over several lines, even where its message forgot to.
    """
    sys.stderr.write(f"stretchcast: {shown(problem)}\n" + (f"  {shown(fix)}\n" if fix else ""))


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


class StdoutError(OutputError):
    """The standard output cannot be written (``> /dev/full``, a disk that filled up)."""


class _Stdout:
    """The standard output, with a failure to write it raised as :class:`StdoutError`.

    Only what is written to the standard output is turned into a plain error: any other OSError is
    still a bug, with its traceback under --debug. A reader that went away (BrokenPipeError) is
    left alone: it is not an error.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _failed(self, err: OSError) -> StdoutError:
        return StdoutError(
            f"cannot write to the standard output ({err.strerror or err})",
            fix="Send the output somewhere with room: another file, or the terminal.",
        )

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self._failed(err) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as err:
            raise self._failed(err) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _discard(stream: Any) -> None:
    """Point ``stream``'s file at /dev/null, so what it still holds is dropped quietly at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _main(argv: Sequence[str] | None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    real = sys.stdout
    sys.stdout = cast("Any", _Stdout(real))
    try:
        code = run(argv)
        sys.stdout.flush()
        return code
    except StdoutError as err:
        _discard(real)
        _say(err.head, err.fix)
        return err.exit_code
    except StretchcastError as err:
        if debug:
            raise
        _say(err.head, err.fix)
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
    finally:
        if isinstance(sys.stdout, _Stdout):
            sys.stdout = real


def _abandoned_engines() -> bool:
    """Whether a voice engine given up on still runs; a command that spoke nothing never loaded one."""
    cues = sys.modules.get("stretchcast.sound.cues")  # not imported for a command that makes no audio
    return cues is not None and bool(cues.abandoned_engines())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run, and turn errors into one or two plain lines and an exit code."""
    code = _main(argv)
    if argv is None and (code == INTERRUPTED or _abandoned_engines()):
        # After Ctrl-C or a hung engine, a native engine (onnxruntime) may still be running in a
        # thread, and interpreter shutdown would abort inside it ("terminate called without an
        # active exception"). Every file was already cleaned up while the exception unwound and
        # the message is printed, so leave at once with the right exit code.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if argv is None:
        # The command is done and every file it wrote is closed and synced: the interpreter's
        # last collection, which walks every object the run made (numpy's, the manifest's), only
        # frees memory the system takes back anyway. Frozen objects are skipped: 33 ms -> 11 ms
        # of exiting after a warm build, a tenth of it (flushing and atexit handlers still run).
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
