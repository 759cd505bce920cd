"""Podcasting 2.0 for the feed: JSON chapters, the channel's ``podcast:guid`` and the subscribe links.

Sources (Podcastindex-org/podcast-namespace): ``docs/examples/chapters/jsonChapters.md`` (JSON
chapters 1.2: ``version`` and ``chapters`` required, ``startTime`` in seconds, served as
``application/json+chapters``), ``docs/tags/guid.md`` (a UUIDv5 of the feed URL without its scheme
and trailing slashes, in the namespace ``ead4c236-...``), ``docs/tags/transcript.md``.

The chapters file is made from the same chapters as the MP3's ID3 CHAP frames (the manifest's,
which the build wrote into the tag), so an app that reads either finds the same times.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote, urlsplit

from stretchcast.serve.library import ServedRoutine

NAMESPACE = "https://podcastindex.org/namespace/1.0"
CHAPTERS_VERSION = "1.2.0"
CHAPTERS_TYPE = "application/json+chapters"
# The "podcast" namespace UUID the guid spec fixes, for every feed.
_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


def podcast_guid(feed_url: str) -> str:
    """The channel's ``podcast:guid``: UUIDv5 of the feed URL with its scheme and trailing slashes off."""
    parts = urlsplit(feed_url)
    seed = parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return str(uuid.uuid5(_GUID_NAMESPACE, seed.rstrip("/")))


def chapters_path(routine: ServedRoutine) -> str | None:
    """Where the routine's JSON chapters are, relative to the site's root; None if it has no chapters."""
    if not routine.chapters:
        return None
    return f"chapters/{quote(routine.stem)}.json"


def chapters_document(routine: ServedRoutine) -> dict[str, object]:
    """The routine's chapters as a JSON chapters 1.2 document: seconds, in order, with end times."""
    return {
        "version": CHAPTERS_VERSION,
        "author": "stretchcast",
        "title": routine.title,
        **({"podcastName": routine.album} if routine.album else {}),
        "fileName": routine.audio.rsplit("/", 1)[-1],
        "chapters": [
            {"startTime": c.start_ms / 1000, "endTime": c.end_ms / 1000, "title": c.title}
            for c in sorted(routine.chapters, key=lambda c: c.start_ms)
        ],
    }


def chapters_json(routine: ServedRoutine) -> bytes:
    """:func:`chapters_document` as UTF-8 JSON bytes."""
    return (json.dumps(chapters_document(routine), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def subscribe_links(feed_url: str) -> tuple[tuple[str, str], ...]:
    """One-tap subscribe links for apps that fetch the feed on the phone: (app, link).

    AntennaPod's deep link takes the whole feed URL as a parameter; Apple Podcasts opens
    ``podcast://`` followed by the feed's host and path (its scheme replaced).
    """
    parts = urlsplit(feed_url)
    apple = "podcast://" + parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")
    return (
        ("AntennaPod", "https://antennapod.org/deeplink/subscribe?url=" + quote(feed_url, safe="")),
        ("Apple Podcasts", apple),
    )
