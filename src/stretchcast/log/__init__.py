"""The session log: what was practised, when, and how it went; kept on this computer only.

``model`` (a session and its checks), ``store`` (SQLite, the key), ``csvio`` (export and import),
``progress`` (sessions per week, pain over time, and the suggestion). No face imports are made
here: the command line, the server and the notebooks all use these.

The names below are loaded when first used (PEP 562): registering the ``log`` commands reads
``model`` alone, and a build opens no log (docs/ARCHITECTURE.md, "What a warm build imports").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stretchcast.log.model import Session, routine_hash, session_from_fields
    from stretchcast.log.store import Log, default_path

_SOURCES = {
    "Log": "stretchcast.log.store",
    "Session": "stretchcast.log.model",
    "default_path": "stretchcast.log.store",
    "routine_hash": "stretchcast.log.model",
    "session_from_fields": "stretchcast.log.model",
}

__all__ = ["Log", "Session", "default_path", "routine_hash", "session_from_fields"]


def __getattr__(name: str) -> Any:
    """Import the module a public name lives in, the first time the name is asked for."""
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module 'stretchcast.log' has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
