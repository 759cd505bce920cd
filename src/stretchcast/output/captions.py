"""WebVTT captions: every spoken cue, and every chime, at the time it is heard in the track.

The times are the timeline's, which are the decoded MP3's to the sample (the gapless header sees to
that), so a player showing these captions beside the audio stays in step.
"""

from __future__ import annotations

from stretchcast.timeline import Event, Timeline

CHIME_TEXT = {"start": "[chime]", "end": "[closing chime]"}


def timestamp(ms: int) -> str:
    """``ms`` as a WebVTT timestamp, hours always shown: ``00:01:02.345``."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    # WebVTT cue text is markup: these three must be escaped, and "-->" cannot appear at all
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def caption_text(event: Event) -> str | None:
    """What a caption shows for ``event``: the words said, a bracketed chime, or None for silence."""
    if event.kind == "speech" and event.text:
        return event.text
    if event.kind == "tone" and event.text:
        return CHIME_TEXT.get(event.text, "[chime]")
    return None


def webvtt(timeline: Timeline) -> str:
    """The captions file for ``timeline``: one cue per speech or chime event, in order."""
    blocks = ["WEBVTT"]
    chapters = list(timeline.chapters)
    n = 0
    for event in timeline.events:
        # the chapter a cue opens is named in a NOTE, for people reading the file
        while chapters and chapters[0].start_ms <= event.start_ms:
            blocks.append(f"NOTE {_escape(chapters.pop(0).title)}")
        text = caption_text(event)
        if text is None:
            continue
        n += 1
        blocks.append(f"{n}\n{timestamp(event.start_ms)} --> {timestamp(event.end_ms)}\n{_escape(text)}")
    return "\n\n".join(blocks) + "\n"
