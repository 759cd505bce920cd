"""``stretchcast serve``: the phone page and podcast feed over a folder of built tracks (read-only)."""
