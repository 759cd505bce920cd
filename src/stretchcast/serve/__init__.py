"""``stretchcast serve``: the phone page and podcast feed over a folder of built tracks (read-only).

Nothing is imported here: the command line reads :data:`DEFAULT_PORT` for its help without loading
the server (``server``, ``http``, ``library``: docs/ARCHITECTURE.md, "What a warm build imports").
"""

DEFAULT_PORT = 8000
