"""The split tracks' playlist: extended M3U, UTF-8."""

from __future__ import annotations

from collections.abc import Sequence


def m3u8(title: str, entries: Sequence[tuple[str, str, float]]) -> str:
    """An extended M3U playlist: ``entries`` of (relative path, title, seconds), UTF-8, in order."""
    lines = ["#EXTM3U", f"#PLAYLIST:{title}"]
    for path, name, seconds in entries:
        lines.append(f"#EXTINF:{round(seconds)},{name}")
        lines.append(path)
    return "\n".join(lines) + "\n"
