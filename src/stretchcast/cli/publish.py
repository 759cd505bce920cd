"""``stretchcast publish``: the page, feed and tracks as a static site for any web host."""

from __future__ import annotations

import argparse
from pathlib import Path

from stretchcast.cli.serve import add_folder_argument


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``publish``."""
    p = sub.add_parser(
        "publish",
        help="write the phone page, podcast feed and tracks as a static site for any web host",
        description=(
            "Write a folder that any static host serves as the phone page and podcast feed: "
            "a web server folder, GitHub Pages, an object store. Podcast apps that fetch through "
            "their own servers (Pocket Casts, Overcast, Castro) can subscribe to it."
        ),
    )
    add_folder_argument(p, "folder of built routines (default: audio)")
    p.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="the address the site will be served from, e.g. https://example.org/stretches",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=Path("site"),
        metavar="SITE",
        help="folder to write the site into (default: site); a previous site there is replaced",
    )
    p.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    from stretchcast.serve.publish import publish

    site = publish(args.folder, args.base_url, args.output)
    print(
        f"Published {site.routines} routine{'s' * (site.routines != 1)} to {site.folder} "
        f"({site.files} files, {site.bytes / 1e6:.1f} MB)."
    )
    print(f"Copy the folder to the host so that it is served at {site.feed_url.rsplit('/', 1)[0]}/")
    print(f"Podcast feed: {site.feed_url}")
    if site.feed_url.startswith("http://"):
        print("Over plain http, phones will not offer Save for offline; https lets them.")
    return 0
