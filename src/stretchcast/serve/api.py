"""``/api/sessions``: the phone's check-ins written to the session log, and read back, with the log's key.

The only path ``serve`` writes through. Each request is checked in this order, and the first
failure answers (as JSON ``{"error": "..."}``, a plain sentence) without reading the body:

Headers are given by lower-case name (:func:`header_map`).

1. cross-origin (``Origin`` not this server's ``Host``, or ``Sec-Fetch-Site`` cross-site): 403;
2. no key, or a wrong one (``Authorization: Bearer KEY``, compared in constant time): 401;
3. (POST) not ``Content-Type: application/json``: 415;
4. (POST) no ``Content-Length``, or more than :data:`MAX_BODY` bytes: 411 or 413;
5. (POST) not JSON, or not the schema (:data:`SCHEMA`): 400 naming the field.

A check-in is recorded once, whatever the retries: 201 the first time, 200 ``"recorded": false``
after (the phone made its id). Pure functions of the request, so the tests call them directly too.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from stretchcast.errors import InputError, Where
from stretchcast.log.model import FIELDS, WARNINGS, session_from_fields
from stretchcast.log.store import Log

PATH = ("api", "sessions")
MAX_BODY = 16 * 1024
#: Each field's JSON types: text fields are strings, pain and week whole numbers, warnings a list.
SCHEMA: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "at": (str,),
    "routine": (str,),
    "routine_hash": (str, type(None)),
    "programme": (str, type(None)),
    "week": (int, type(None)),
    "done": (str,),
    "pain_before": (int,),
    "pain_after": (int,),
    "felt": (str,),
    "warnings": (list,),
    "note": (str, type(None)),
}
assert tuple(SCHEMA) == FIELDS
_BEARER = re.compile(r"Bearer ([0-9a-f]{32})")


@dataclass(frozen=True)
class Answer:
    """What to send: a status, a JSON body, and whether the connection must close (body left unread)."""

    status: HTTPStatus
    data: Any
    close: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def body(self) -> bytes:
        """The JSON body, UTF-8."""
        return (json.dumps(self.data, ensure_ascii=False) + "\n").encode("utf-8")


def header_map(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Request headers by lower-case name, the first of each (as ``http.server``'s ``get`` gives it)."""
    found: dict[str, str] = {}
    for name, value in items:
        found.setdefault(name.lower(), value)
    return found


def _error(status: HTTPStatus, message: str, **kw: Any) -> Answer:
    return Answer(status, {"error": message}, **kw)


def same_origin(headers: Mapping[str, str], host: str | None) -> bool:
    """True unless the browser says the request comes from another site than ``http://<Host>``."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True  # not sent by a browser's cross-origin fetch (curl, the command line, a same-origin GET)
    return host is not None and origin in {f"http://{host}", f"https://{host}"}


def authorised(headers: Mapping[str, str], key: str) -> bool:
    """True if the request carries ``Authorization: Bearer <key>`` (constant-time comparison)."""
    given = _BEARER.fullmatch((headers.get("authorization") or "").strip())
    return given is not None and hmac.compare_digest(given.group(1).encode(), key.encode())


def _gate(headers: Mapping[str, str], host: str | None, log: Log) -> Answer | None:
    if not same_origin(headers, host):
        return _error(HTTPStatus.FORBIDDEN, "Cross-origin requests are refused.", close=True)
    if not authorised(headers, log.key()):
        return _error(
            HTTPStatus.UNAUTHORIZED,
            "The log's key is missing or wrong: open the link stretchcast serve prints (it carries the key).",
            close=True,
            headers=(("WWW-Authenticate", 'Bearer realm="stretchcast"'),),
        )
    return None


def get_sessions(headers: Mapping[str, str], host: str | None, log: Log) -> Answer:
    """``GET /api/sessions``: every session, with the key only."""
    refused = _gate(headers, host, log)
    if refused is not None:
        return refused
    return Answer(HTTPStatus.OK, {"sessions": [s.as_json() for s in log.sessions()]})


def post_session(  # noqa: PLR0911 - one answer per refusal, in the documented order
    headers: Mapping[str, str], host: str | None, read: Callable[[int], bytes], log: Log
) -> Answer:
    """``POST /api/sessions``: record one check-in; ``read(n)`` is called only once every header is fine."""
    refused = _gate(headers, host, log)
    if refused is not None:
        return refused
    media = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "Send the check-in as application/json.", close=True)
    if headers.get("transfer-encoding"):
        return _error(HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length, not a chunked body.", close=True)
    length_text = headers.get("content-length")
    if length_text is None or not length_text.strip().isdigit():
        return _error(HTTPStatus.LENGTH_REQUIRED, "Send a Content-Length.", close=True)
    length = int(length_text)
    if length > MAX_BODY:
        return _error(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"A check-in is at most {MAX_BODY // 1024} KiB; this one is {length} bytes.",
            close=True,
        )
    raw = read(length)
    if len(raw) != length:
        return _error(HTTPStatus.BAD_REQUEST, "The body ended early.", close=True)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _error(HTTPStatus.BAD_REQUEST, "The body is not JSON.")
    try:
        session = session_from_fields(fields_from_json(data))
    except InputError as err:
        field = err.where.field if err.where else None
        where = f"field '{field}': " if field else ""
        return _error(HTTPStatus.BAD_REQUEST, f"{where}{err.problem}.")
    added = log.add(session)
    return Answer(HTTPStatus.CREATED if added else HTTPStatus.OK, {"id": session.id, "recorded": added})


def fields_from_json(data: object) -> dict[str, str | None]:
    """A check-in's JSON object as text fields, its types checked; InputError naming the field."""
    if not isinstance(data, dict):
        raise InputError("the body must be a JSON object")
    for name, value in data.items():
        if name not in SCHEMA:
            raise InputError(f"unknown field '{str(name)[:40]}'")
        kinds = SCHEMA[name]
        if isinstance(value, bool) or not isinstance(value, kinds):
            wanted = " or ".join(_KIND_NAMES[k] for k in kinds)
            raise InputError(f"'{name}' must be {wanted}", where=_where(name))
    warnings = data.get("warnings") or []
    for sign in warnings:
        if sign not in WARNINGS:
            raise InputError(
                f"'warnings' holds {str(sign)[:40]!r}, not one of {', '.join(WARNINGS)}",
                where=_where("warnings"),
            )
    fields: dict[str, str | None] = {}
    for name, value in data.items():
        if name == "warnings":
            fields[name] = " ".join(warnings)
        elif value is None:
            fields[name] = None
        else:
            fields[name] = str(value)
    return fields


_KIND_NAMES = {str: "a string", int: "a whole number", list: "a list", type(None): "null"}


def _where(name: str) -> Where:
    return Where(field=name)
