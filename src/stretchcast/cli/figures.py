"""``stretchcast figures``: each exercise's figure as an animated SVG and a PNG of its key pose."""

from __future__ import annotations

import argparse
from pathlib import Path

from stretchcast.errors import UsageError
from stretchcast.figures.themes import THEMES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``figures``."""
    p = sub.add_parser("figures", help="draw each exercise: an animated SVG and a PNG of its key pose")
    p.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercise ids (default: all)")
    p.add_argument("-o", "--out", type=Path, default=Path("figures"), help="folder (default: figures/)")
    p.add_argument("--theme", choices=sorted(THEMES), default="light", help="colours (default: light)")
    p.add_argument("--size", type=int, default=480, help="PNG width in pixels, 64 to 2048 (default: 480)")
    p.set_defaults(handler=_figures)


def _figures(args: argparse.Namespace) -> int:
    from stretchcast.content import load_collection
    from stretchcast.figures.draw import png, scene, svg
    from stretchcast.output.files import OutputSet, check_writable

    if not 64 <= args.size <= 2048:
        raise UsageError(f"--size {args.size} is out of range", fix="Use a width from 64 to 2048 pixels.")
    collection = load_collection(args.content)
    chosen = [collection.exercise(e) for e in args.exercises] or list(collection.exercises)
    missing = [e.id for e in chosen if e.figure is None]
    if missing:
        raise UsageError(
            f"{missing[0]} has no figure", fix="Add a 'figure:' section to its file (see content/poses.py)."
        )
    check_writable(args.out)
    theme = THEMES[args.theme]
    with OutputSet() as out:  # all the files, or none: a mistake half-way leaves the folder as it was
        for ex in chosen:
            sc = scene(ex)
            out.add_text(args.out / f"{ex.id}.svg", svg(sc, theme))
            out.add(args.out / f"{ex.id}.png", png(sc, theme, size=args.size))
        out.commit()
    for ex in chosen:
        print(f"{args.out / ex.id}.svg  {args.out / ex.id}.png")
    return 0
