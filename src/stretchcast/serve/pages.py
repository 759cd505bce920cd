"""The phone page and the podcast feed, rendered from what the folder holds.

All text that comes from a manifest or a tag is user text: the page escapes it with ``html.escape``
and the feed is built with ElementTree, which escapes on output.
"""

from __future__ import annotations

import email.utils
import html
import xml.etree.ElementTree as ET
from urllib.parse import quote

from stretchcast import __version__
from stretchcast.content import words
from stretchcast.serve import podcast
from stretchcast.serve.checkin import card_attributes, checkin_html
from stretchcast.serve.library import ServedRoutine

_ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
_ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("itunes", _ITUNES)
ET.register_namespace("atom", _ATOM)
ET.register_namespace("podcast", podcast.NAMESPACE)


def _url(path: str) -> str:
    """A folder-relative "/" path as a relative URL, each segment percent-encoded.

    Relative, so the same page works at a server's root and in a published site under any prefix.
    """
    return "/".join(quote(segment) for segment in path.split("/"))


def _size(size: int) -> str:
    """A file size as people read it on a phone: "5.1 MB", "180 kB"."""
    return f"{size / 1e6:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} kB"


def _figure(r: ServedRoutine, n: int) -> str:
    """The place for the figure of the exercise playing; app.js fills it from the manifest's events."""
    if not r.manifest:
        return ""
    return (
        f'<figure class="figure" data-figure data-manifest="{html.escape(_url(r.manifest))}" '
        f'data-pose="none" hidden><div class="figure-art" aria-hidden="true"></div>'
        f'<figcaption id="fig-{n}"></figcaption></figure>'
    )


def render_page(
    routines: tuple[ServedRoutine, ...], base_url: str, *, published: bool = False, checkin: bool = False
) -> str:
    """The phone page: a card per routine. Every piece of manifest or tag text is escaped.

    Every link in it is relative; ``published`` says it is the static site ``stretchcast publish``
    writes rather than the page ``serve`` answers (it changes what the footer says). With
    ``checkin`` (the server has a session log), each card carries what a check-in records and
    the page has the check-in sheet (``serve/checkin.py``).
    """
    e = html.escape
    feed_url = f"{base_url}/feed.xml"
    cards = []
    shown_programme: tuple[int | None, str | None] = (None, None)
    for n, r in enumerate(routines):
        if r.season is not None and (r.season, r.programme) != shown_programme:
            # a programme's weeks come together, in order, under its title
            shown_programme = (r.season, r.programme)
            weeks = [w for w in routines if w.season == r.season]
            now = next((w.episode for w in weeks if w.current), None)
            note = f"{len(weeks)} weeks" + (f" · this is week {now}" if now else "")
            cards.append(
                f'<h2 class="programme" id="programme-{r.season}">{e(r.programme or "")}</h2>'
                f'<p class="programme-note">{e(note)}</p>'
            )
        cover = (
            f'<img class="cover" src="{e(r.cover_path)}" alt="" width="88" height="88" '
            f'data-type="{e(r.cover_mime or "")}">'
            if r.cover_path
            else '<div class="cover placeholder" aria-hidden="true"></div>'
        )
        count = len(r.chapters)
        meta = words.clock(r.duration_ms) + (f" · {count} chapter{'s' * (count != 1)}" if count else "")
        track = (
            f'<track kind="captions" src="{e(_url(r.captions))}" srclang="en" label="Captions" default>'
            if r.captions
            else ""
        )
        caption = '<p class="caption" aria-live="polite"></p>' if r.captions else ""
        chapters = ""
        if r.chapters:
            items = "".join(
                f'<li><button type="button" data-start="{c.start_ms / 1000:.3f}" aria-current="false">'
                f'<span class="at">{words.clock(c.start_ms)}</span><span>{e(c.title)}</span></button></li>'
                for c in r.chapters
            )
            chapters = (
                f'<h3 class="chapters-title" id="ch-{n}">Chapters (tap to jump)</h3>'
                f'<ol class="chapters" aria-labelledby="ch-{n}">{items}</ol>'
            )
        downloads = [
            f'<a class="button" href="{e(_url(r.audio))}" download>Download MP3 ({_size(r.audio_bytes)})</a>'
        ]
        if r.playlist:
            downloads.append(
                f'<a class="button secondary" href="{e(_url(r.playlist))}" download>Download playlist</a>'
            )
        if r.handout:  # the printed sheet, when `build --handout` or `handout` put one beside the track
            downloads.append(f'<a class="button secondary" href="{e(_url(r.handout))}">Handout (PDF)</a>')
        split = ""
        if r.split:
            items = "".join(
                f'<li><a href="{e(_url(t.file))}" download>{e(t.title)}</a></li>' for t in r.split
            )
            split = (
                f'<details class="tracks"><summary>One track per exercise ({len(r.split)})</summary>'
                f"<ol>{items}</ol></details>"
            )
        week_attrs = (
            f' data-season="{r.season}" data-episode="{r.episode}"' if r.season is not None else ""
        ) + (' aria-current="date"' if r.current else "")
        badge = '<p class="badge">This week</p>' if r.current else ""
        heading = f"Week {r.episode}" if r.episode is not None else r.title  # under the programme's title
        changes = f'<p class="meta changes">{e(r.changes.capitalize())}</p>' if r.changes else ""
        cards.append(
            f'<article class="routine{" current" * r.current}" id="routine-{n}" data-routine'
            f' data-title="{e(r.title)}"{week_attrs}{card_attributes(r) if checkin else ""}>'
            f'<div class="head">{cover}<div>{badge}<h2>{e(heading)}</h2>'
            f'<p class="meta">{e(meta)}</p>{changes}</div></div>'
            f'<audio controls preload="metadata" src="{e(_url(r.audio))}">{track}'
            f'<a href="{e(_url(r.audio))}">Play the MP3</a></audio>'
            f"{caption}{_figure(r, n)}{chapters}"
            f'<p class="downloads">{"".join(downloads)}</p>'
            f'<p class="offline" data-offline="{e(_url(r.audio))}" hidden></p>{split}</article>'
        )
    if not cards:
        cards.append(
            '<p class="empty">No routines here yet. On the computer, run '
            "<code>stretchcast build standard</code>, then reload this page.</p>"
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#1f6f5c">
<title>stretchcast</title>
<link rel="icon" href="static/icon.svg" type="image/svg+xml">
<link rel="alternate" type="application/rss+xml" title="stretchcast routines" href="feed.xml">
<link rel="stylesheet" href="static/app.css">
</head>
<body>
<header class="site">
<h1>stretchcast</h1>
<p>Guided stretches for the lower back. Press play, put the phone down, and follow the voice.</p>
</header>
<main>
{"".join(cards)}
</main>{checkin_html(routines) if checkin else ""}
<footer class="site">
{_footer(feed_url, published=published)}
</footer>
<script src="static/app.js" defer></script>
</body>
</html>
"""


def render_feed(routines: tuple[ServedRoutine, ...], base_url: str) -> bytes:
    """An RSS 2.0 podcast feed with the iTunes namespace: an episode per routine, absolute URLs."""
    albums = {r.album for r in routines if r.album}
    title = f"stretchcast: {albums.pop()}" if len(albums) == 1 else "stretchcast routines"
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")

    def sub(parent: ET.Element, tag: str, value: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, tag, attrs)
        if value is not None:
            element.text = value
        return element

    it = f"{{{_ITUNES}}}"
    sub(channel, "title", title)
    sub(channel, "link", f"{base_url}/")
    sub(channel, "description", "Guided audio routines for sacroiliac (SI) joint stretches.")
    sub(channel, "language", "en")
    sub(channel, "generator", f"stretchcast {__version__}")
    if routines:
        newest = max(r.modified for r in routines)
        sub(channel, "lastBuildDate", email.utils.formatdate(newest, usegmt=True))
    sub(channel, f"{{{_ATOM}}}link", href=f"{base_url}/feed.xml", rel="self", type="application/rss+xml")
    sub(channel, f"{it}author", "stretchcast")
    sub(channel, f"{it}summary", "Guided audio routines for sacroiliac (SI) joint stretches.")
    sub(channel, f"{it}type", "episodic")
    sub(channel, f"{it}explicit", "false")
    sub(channel, f"{{{podcast.NAMESPACE}}}guid", podcast.podcast_guid(f"{base_url}/feed.xml"))
    category = sub(channel, f"{it}category", text="Health & Fitness")
    sub(category, f"{it}category", text="Fitness")
    channel_cover = next((r.cover_path for r in routines if r.cover_path), None)
    if channel_cover:
        sub(channel, f"{it}image", href=f"{base_url}/{channel_cover}")
    for n, r in enumerate(routines):
        item = sub(channel, "item")
        sub(item, "title", r.title)
        sub(item, "description", r.summary)
        sub(item, f"{it}summary", r.summary)
        sub(item, "link", f"{base_url}/#routine-{n}")
        sub(item, "guid", r.guid, isPermaLink="false")
        published = r.modified
        if r.season is not None and r.episode is not None:
            # weeks dated in week order, a second apart, so apps that sort by date keep the order
            published = min(w.modified for w in routines if w.season == r.season) + r.episode
        sub(item, "pubDate", email.utils.formatdate(published, usegmt=True))
        sub(
            item, "enclosure", url=f"{base_url}/{_url(r.audio)}", length=str(r.audio_bytes), type="audio/mpeg"
        )
        sub(item, f"{it}duration", str(round(r.duration_ms / 1000)))
        sub(item, f"{it}episodeType", "full")
        if r.season is not None and r.episode is not None:
            sub(item, f"{it}title", f"Week {r.episode}")
            sub(item, f"{it}season", str(r.season))
            sub(item, f"{it}episode", str(r.episode))
        sub(item, f"{it}explicit", "false")
        if r.cover_path:
            sub(item, f"{it}image", href=f"{base_url}/{r.cover_path}")
        _podcasting_20(item, r, base_url)
    ET.indent(rss)
    body: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _podcasting_20(item: ET.Element, routine: ServedRoutine, base_url: str) -> None:
    """An episode's JSON chapters and its captions as a transcript (the podcast namespace)."""
    pc = f"{{{podcast.NAMESPACE}}}"
    chapters = podcast.chapters_path(routine)
    if chapters is not None:
        ET.SubElement(item, f"{pc}chapters", url=f"{base_url}/{chapters}", type=podcast.CHAPTERS_TYPE)
    if routine.captions:
        ET.SubElement(
            item,
            f"{pc}transcript",
            url=f"{base_url}/{_url(routine.captions)}",
            type="text/vtt",
            language="en",
            rel="captions",
        )


def _footer(feed_url: str, *, published: bool) -> str:
    """The page's footer: subscribe in a podcast app (one tap where the app allows), and without the computer.

    Apps that fetch feeds through their makers' servers (Pocket Casts, Overcast, Castro) can reach
    a published site, never a computer on a home network: the page says which is which.
    """
    e = html.escape
    links = "".join(
        f'<a class="button secondary subscribe" href="{e(link)}">{e(app)}</a>'
        for app, link in podcast.subscribe_links(feed_url)
    )
    if published:
        server_apps = (
            "Pocket Casts, Overcast, Castro and other apps: add the address above by URL "
            "(“Add by URL”, “Follow a show by URL”)."
        )
        away = (
            "<p>Tap <b>Save for offline</b> under a routine to keep it in this browser, or Download MP3, "
            "or subscribe: the podcast app keeps every routine for listening without a network.</p>"
        )
    else:
        server_apps = (
            "Pocket Casts, Overcast and Castro fetch feeds through their own servers, which cannot "
            "reach this computer: for them, publish the site (<code>stretchcast publish</code>)."
        )
        away = (
            "<p>This page plays from the computer that runs <code>stretchcast serve</code>. To listen "
            "anywhere, tap Download MP3 or use the podcast feed.</p>"
        )
    return f"""<h2>Listen in a podcast app</h2>
<p>The podcast feed; an app that subscribes downloads every routine and keeps it:</p>
<p><code class="feed-url">{e(feed_url)}</code></p>
<p class="subscribe-links">Subscribe in one tap: {links}</p>
<p class="subscribe-note">{server_apps}</p>
<h2>{"Listen offline" if published else "Without the computer"}</h2>
{away}
<p class="saved" data-saved hidden></p>"""
