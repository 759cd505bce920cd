"""``stretchcast serve``: the rendered routines, a phone page and a podcast feed over HTTP, read-only.

The server is the standard library's ``ThreadingHTTPServer``, which parses requests and headers;
what it lacks for media (Range, conditional requests, safe paths) is in ``_http``, what the folder
holds in ``library``, and the page and feed in ``pages``. Routes: ``/`` the page, ``/feed.xml`` the
feed, ``/sw.js`` and ``/static/*`` the page's own files, ``/art/<name>.png|jpg`` the cover inside
``<name>.mp3``; any other path names a file in the folder, or is 404. With a session log, and only
then, ``/api/sessions`` takes the phone's check-ins (POST) and lists them (GET), both with the log's
key (``api``); it is the one route that writes.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import html
import io
import logging
import os
import re
import socket
import sys
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import IO, Any, BinaryIO

from stretchcast import __version__
from stretchcast.errors import UsageError
from stretchcast.log.store import Log
from stretchcast.serve import DEFAULT_PORT, api
from stretchcast.serve.figures import figure_file
from stretchcast.serve.http import (
    MEDIA_TYPES,
    ByteRange,
    RangeNotSatisfiableError,
    Validators,
    if_range_allows,
    not_modified,
    resolve_file,
    select_range,
    url_segments,
)
from stretchcast.serve.library import cover_for, scan
from stretchcast.serve.pages import render_feed, render_page
from stretchcast.serve.podcast import CHAPTERS_TYPE, chapters_json

log = logging.getLogger(__name__)

# A connection that sends nothing for this long is closed, giving its thread back (a phone that
# went to sleep mid-request, or a client holding sockets open on purpose).
IDLE_TIMEOUT_S = 60.0
# The listen backlog. http.server's default of 5 drops connections when a page's requests and a
# household's devices arrive together; each dropped SYN costs the client a 1 s (then 3 s) retry,
# measured as a p99 of 4.4 s at 64 clients (benchmarks/load.py). The kernel caps it at somaxconn.
LISTEN_BACKLOG = 128
ALLOWED_METHODS = ("GET", "HEAD")
_CHUNK = 64 * 1024

# The page's own files, shipped in the package (src/stretchcast/web/).
_STATIC = {
    "app.css": ".css",
    "app.js": ".js",
    "icon.svg": ".svg",
    "checkin.css": ".css",  # the session check-in (serve/checkin.py)
    "checkin.js": ".js",
}

_CSP = (
    "default-src 'self'; img-src 'self'; media-src 'self'; style-src 'self'; script-src 'self'; "
    "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


# --- HTTP --------------------------------------------------------------------------------------------

_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")


@dataclass(frozen=True)
class _Entity:
    """A representation to send: bytes in memory or an open file, its type and validators."""

    body: IO[bytes]
    size: int
    content_type: str
    validators: Validators
    extra_headers: tuple[tuple[str, str], ...] = ()


class StretchcastServer(ThreadingHTTPServer):
    """A threading HTTP server over one folder of rendered routines."""

    daemon_threads = True  # a phone holding a connection open never keeps Python from exiting
    request_queue_size = LISTEN_BACKLOG
    folder: Path

    def __init__(
        self,
        address: tuple[str, int],
        folder: Path,
        log: Log | None = None,
        *,
        idle_timeout: float = IDLE_TIMEOUT_S,
    ) -> None:
        self.folder = folder.resolve()
        self.idle_timeout = idle_timeout
        self.log = log  # the session log the phone's check-ins go to; None: no /api/sessions
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        """The address to open, e.g. ``http://127.0.0.1:8000``."""
        host, port = self.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A phone that goes away mid-download is routine; anything else is logged with its traceback."""
        err = sys.exc_info()[1]
        if isinstance(err, (ConnectionError, TimeoutError)):
            log.debug("%s went away: %s", client_address, err)
        else:
            log.exception("error while answering %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    """GET and HEAD for the page, the feed, covers, static files and the folder's served files."""

    server: StretchcastServer
    protocol_version = "HTTP/1.1"  # keep-alive: a player makes many Range requests on one connection
    server_version = f"stretchcast/{__version__}"
    timeout = IDLE_TIMEOUT_S  # the server's idle_timeout, set per connection in setup()

    def setup(self) -> None:
        """Apply the server's idle timeout to this connection's socket: silence past it closes it."""
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)

    def do_GET(self) -> None:
        """Answer a GET."""
        self._answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a HEAD: the GET's headers without the body."""
        self._answer(head=True)

    def _refuse(self) -> None:
        # A refused request may carry a body we will not read: close rather than misread the next one.
        self.close_connection = True
        self._send_text(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "Only GET and HEAD: this server is read-only.\n",
            head=False,
            headers=(("Allow", ", ".join(ALLOWED_METHODS)), ("Connection", "close")),
        )

    # Every other method HTTP defines is refused with 405; an unknown one gets http.server's 501.
    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse  # noqa: N815 - http.server dispatches on these names

    def do_POST(self) -> None:
        """POST is for the session log's check-ins only (``/api/sessions``); everywhere else, 405."""
        if url_segments(self.path) == api.PATH:
            self._api(post=True)
        else:
            self._refuse()

    def _api(self, *, post: bool, head: bool = False) -> None:
        """``/api/sessions`` (serve/api.py decides; this only speaks HTTP)."""
        log = self.server.log
        if log is None:
            self.close_connection = True
            self._send_text(
                HTTPStatus.NOT_FOUND, "No session log here.\n", head=head, headers=(("Connection", "close"),)
            )
            return
        host = self.headers.get("Host")
        host = host if host and _HOST.fullmatch(host) else None
        if post:
            answer = api.post_session(api.header_map(self.headers.items()), host, self.rfile.read, log)
        else:
            answer = api.get_sessions(api.header_map(self.headers.items()), host, log)
        body = answer.body
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Cache-Control", "no-store"),
            *answer.headers,
        ]
        if answer.close:
            self.close_connection = True  # a body may be left unread: never misread it as the next request
            headers.append(("Connection", "close"))
        self._start(answer.status, headers)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def version_string(self) -> str:
        """The ``Server`` header: no need to tell the network which Python runs this."""
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        """Requests go to the module logger at debug level (``stretchcast --debug serve`` shows them)."""
        log.debug("%s %s", self.address_string(), format % args)

    # -- answering

    def _answer(self, *, head: bool) -> None:
        if url_segments(self.path) == api.PATH:
            self._api(post=False, head=head)
            return
        entity = self._entity()
        if entity is None:
            self._send_text(HTTPStatus.NOT_FOUND, "Not found.\n", head=head)
            return
        with contextlib.closing(entity.body):
            self._send_entity(entity, head=head)

    def _base_url(self) -> str:
        """``http://`` plus the Host the phone used, so the feed's links work from where it was read."""
        host = self.headers.get("Host", "")
        return f"http://{host}" if _HOST.fullmatch(host) else self.server.url

    def _entity(self) -> _Entity | None:  # noqa: PLR0911 - a routing table: one return per route
        segments = url_segments(self.path)
        if segments is None:
            return None
        folder = self.server.folder
        if segments in {(), ("index.html",)}:
            checkin = self.server.log is not None  # the check-in sheet only where it can be sent
            page = render_page(scan(folder), self._base_url(), checkin=checkin).encode("utf-8")
            return _generated(page, ".html", (("Content-Security-Policy", _CSP),))
        if segments == ("feed.xml",):
            return _generated(render_feed(scan(folder), self._base_url()), ".xml")
        if segments == ("sw.js",):
            return _generated(_static("sw.js"), ".js", (("Service-Worker-Allowed", "/"),))
        if len(segments) == 2 and segments[0] == "static" and segments[1] in _STATIC:
            return _generated(_static(segments[1]), _STATIC[segments[1]])
        if len(segments) == 2 and segments[0] == "figures":
            figure = figure_entity(segments[1])
            if figure is not None:
                return figure
        if len(segments) == 2 and segments[0] == "chapters":
            chapters = _chapters_entity(folder, segments[1])
            if chapters is not None:
                return chapters
        if len(segments) == 2 and segments[0] == "art":
            cover = _cover_entity(folder, segments[1])
            if cover is not None:
                return cover
        real = resolve_file(folder, segments)
        if real is None:
            return None
        return _file_entity(real, cors=real.suffix.lower() == ".vtt")

    def _send_entity(self, entity: _Entity, *, head: bool) -> None:
        validators = entity.validators
        validation: list[tuple[str, str]] = [("ETag", validators.etag)]
        if validators.last_modified_header:
            validation.append(("Last-Modified", validators.last_modified_header))
        validation.append(("Cache-Control", "no-cache"))  # always revalidate: a rebuild shows at once
        if not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), validators):
            self._start(HTTPStatus.NOT_MODIFIED, validation)
            self.end_headers()
            return
        common = [
            *validation,
            ("Accept-Ranges", "bytes"),
            ("Content-Type", entity.content_type),
            *entity.extra_headers,
        ]
        chosen: ByteRange | None = None
        range_header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        # RFC 9110: Range is defined for GET only, and If-Range turns a stale Range into a full GET.
        if (
            range_header is not None
            and not head
            and (if_range is None or if_range_allows(if_range, validators))
        ):
            try:
                chosen = select_range(range_header, entity.size)
            except RangeNotSatisfiableError:
                self._send_text(
                    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                    f"The file is {entity.size} bytes long.\n",
                    head=head,
                    headers=(("Content-Range", f"bytes */{entity.size}"), *validation),
                )
                return
        if chosen is None:
            self._start(HTTPStatus.OK, common)
            start, length = 0, entity.size
        else:
            self._start(HTTPStatus.PARTIAL_CONTENT, [*common, ("Content-Range", chosen.content_range)])
            start, length = chosen.start, chosen.length
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if not head:
            self._copy(entity.body, start, length)

    def _start(self, status: HTTPStatus, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        for name, value in headers:
            self.send_header(name, value)

    def _send_text(
        self, status: HTTPStatus, text: str, *, head: bool, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        body = text.encode("utf-8")
        self._start(status, [("Content-Type", "text/plain; charset=utf-8"), *headers])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _copy(self, body: IO[bytes], start: int, length: int) -> None:
        body.seek(start)
        remaining = length
        while remaining > 0:
            chunk = body.read(min(_CHUNK, remaining))
            if not chunk:
                # the file shrank under us (it should not: builds replace files whole); the length
                # promised cannot be kept, so end the connection rather than desynchronise it
                self.close_connection = True
                return
            self.wfile.write(chunk)
            remaining -= len(chunk)


def _generated(body: bytes, suffix: str, extra: tuple[tuple[str, str], ...] = ()) -> _Entity:
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    return _Entity(io.BytesIO(body), len(body), MEDIA_TYPES[suffix], Validators(etag), extra)


@functools.cache
def _static(name: str) -> bytes:
    return resources.files("stretchcast.serve").joinpath("web").joinpath(name).read_bytes()


def _file_entity(real: Path, *, cors: bool = False) -> _Entity | None:
    try:
        fp: BinaryIO = real.open("rb")
    except OSError as err:
        log.debug("cannot open %s: %s", real, err)
        return None
    # validators come from the open file, so they describe exactly the bytes that will be sent even
    # if a rebuild replaces the file meanwhile
    st = os.fstat(fp.fileno())
    validators = Validators(f'"{st.st_size:x}-{st.st_mtime_ns:x}"', int(st.st_mtime))
    # captions and chapters are read by web players on other sites too (the podcast namespace asks for CORS)
    extra = (("Access-Control-Allow-Origin", "*"),) if cors else ()
    return _Entity(fp, st.st_size, MEDIA_TYPES[real.suffix.lower()], validators, extra)


def _chapters_entity(folder: Path, name: str) -> _Entity | None:
    """``chapters/<stem>.json``: the JSON chapters of the routine with that stem, if it has chapters."""
    for routine in scan(folder):
        if routine.chapters and f"{routine.stem}.json" == name:
            body = chapters_json(routine)
            etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
            cors = (("Access-Control-Allow-Origin", "*"),)
            return _Entity(
                io.BytesIO(body), len(body), f"{CHAPTERS_TYPE}; charset=utf-8", Validators(etag), cors
            )
    return None


def figure_entity(name: str) -> _Entity | None:
    """``/figures/<exercise>.json`` (the frames the page moves) or ``.svg`` (the animated figure)."""
    body = figure_file(name)
    return None if body is None else _generated(body, Path(name).suffix)


def _cover_entity(folder: Path, name: str) -> _Entity | None:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        return None
    cover = cover_for(folder, f"{stem}.mp3")
    if cover is None or cover.suffix != f".{suffix.lower()}":
        return None
    return _generated(cover.data, cover.suffix)


# --- running it ----------------------------------------------------------------------------------------


def make_server(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    log: Log | None = None,
    idle_timeout: float = IDLE_TIMEOUT_S,
) -> StretchcastServer:
    """A server bound to ``host:port`` over ``folder``; UsageError if the folder or port will not do."""
    if not folder.is_dir():
        raise UsageError(
            f"'{folder}' is a file, not a folder" if folder.exists() else f"folder '{folder}' not found",
            fix="Build a routine first (stretchcast build standard), or name it: stretchcast serve DIR.",
        )
    if not 0 <= port <= 65535:
        raise UsageError(
            f"port {port} is not a port number",
            fix="Use 1024 to 65535 (lower ones need root), or 0 for any free port.",
        )
    try:
        return StretchcastServer((host, port), folder, log, idle_timeout=idle_timeout)
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} is already in use on {host}",
                fix=f"Stop the other server, or choose another port: --port {port + 1}.",
            ) from err
        if err.errno == errno.EACCES:
            raise UsageError(
                f"not allowed to listen on port {port}",
                fix=f"Ports below 1024 need administrator rights; use --port {DEFAULT_PORT}.",
            ) from err
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror or err})") from err


class BackgroundServer:
    """A server answering in a background thread; ``url`` to open it, ``stop()`` to end it.

    Made by :func:`start_background`, for the notebooks and the tests. In a notebook its
    representation is a link to the page.
    """

    def __init__(self, server: StretchcastServer) -> None:
        self.server = server
        self.url = server.url
        self._thread = threading.Thread(target=server.serve_forever, name="stretchcast-serve", daemon=True)
        self._thread.start()

    @property
    def feed_url(self) -> str:
        """The podcast feed's address."""
        return f"{self.url}/feed.xml"

    def stop(self) -> None:
        """Stop answering and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<stretchcast server at {self.url}/ for {self.server.folder}>"

    def _repr_html_(self) -> str:
        url = html.escape(self.url)
        return (
            f"stretchcast is serving <code>{html.escape(str(self.server.folder))}</code>: "
            f'<a href="{url}/" target="_blank" rel="noopener">{url}/</a> '
            f'(podcast feed: <a href="{url}/feed.xml" target="_blank" rel="noopener">{url}/feed.xml</a>)'
        )


def start_background(
    folder: Path | str = "audio",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log: Log | None = None,
    idle_timeout: float = IDLE_TIMEOUT_S,
) -> BackgroundServer:
    """Serve ``folder`` from a background thread (any free port by default) and return its handle.

    With ``log``, the page offers a check-in after each track and ``/api/sessions`` records it.
    """
    return BackgroundServer(
        make_server(Path(folder), host=host, port=port, log=log, idle_timeout=idle_timeout)
    )


def lan_address() -> str:
    """This machine's address on the local network: the one its default route leaves from."""
    address = route_source("198.51.100.1")  # a documentation-only address: any outside one will do
    if address is None or address.startswith(("127.", "0.")):
        raise UsageError(
            "no local network address found for --lan",
            fix="Connect this computer to the same Wi-Fi as the phone, then run the command again.",
        )
    return address


def route_source(destination: str) -> str | None:
    """The local address the kernel would send from to reach ``destination``, or None if none would.

    Connecting a UDP socket sends nothing: it only chooses a route and a source address.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((destination, 9))
        except OSError:
            return None
        return str(probe.getsockname()[0])


def qr_text(url: str, *, colour: bool) -> str:
    """``url`` as a QR code drawn with text, to scan from the terminal.

    With ``colour``, dark modules are drawn black on white explicitly, so the code scans on a
    terminal with a dark background too.
    """
    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    out = io.StringIO()
    code.print_ascii(out=out, invert=not colour)
    lines = out.getvalue().rstrip("\n").split("\n")
    if colour:
        lines = [f"\x1b[30;107m{line}\x1b[0m" for line in lines]
    return "\n".join(lines)


def listen(
    folder: Path, *, port: int = DEFAULT_PORT, lan: bool = False, log: Log | None = None
) -> StretchcastServer:
    """A server over ``folder``: on 127.0.0.1, or with ``lan`` on this machine's network address."""
    return make_server(folder, host=lan_address() if lan else "127.0.0.1", port=port, log=log)


def page_link(server: StretchcastServer) -> str:
    """The page's address, with the log's key in the fragment (never sent to a server, nor in a Referer)."""
    url = f"{server.url}/"
    return f"{url}#key={server.log.key()}" if server.log is not None else url


def banner(server: StretchcastServer, *, lan: bool, colour: bool = False) -> str:
    """What ``stretchcast serve`` prints: where to open the page and the feed (and a QR code with lan)."""
    url = server.url
    routines = scan(server.folder)
    count = f"{len(routines)} routine{'s' * (len(routines) != 1)}"
    lines = [f"Serving {count} from {server.folder} (read-only)."]
    link = page_link(server)
    if server.log is not None:
        lines[0] = f"Serving {count} from {server.folder} (read-only; check-ins go to {server.log.path})."
    if not routines:
        lines.append(
            "Nothing to play yet: build one (stretchcast build standard); the page shows it on reload."
        )
    if lan:
        lines += [
            "",
            qr_text(link, colour=colour),
            "",
            f"On your phone, on the same Wi-Fi: scan the code or open {link}",
            f"Podcast feed (add it by URL in a podcast app): {url}/feed.xml",
            "Anyone on this network can open these files while this runs.",
        ]
    else:
        lines += [
            f"  Page: {link}",
            f"  Podcast feed: {url}/feed.xml",
            "Only this computer can open it; add --lan to open it on a phone on the same Wi-Fi.",
        ]
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)
