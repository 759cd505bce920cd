"""The session log: what was practised, when, and how it went; kept on this computer only.

``model`` (a session and its checks), ``store`` (SQLite, the key), ``csvio`` (export and import),
``progress`` (sessions per week, pain over time, and the suggestion). No face imports are made
here: the command line, the server and the notebooks all use these.
"""

from stretchcast.log.model import Session, routine_hash, session_from_fields
from stretchcast.log.store import Log, default_path

__all__ = ["Log", "Session", "default_path", "routine_hash", "session_from_fields"]
