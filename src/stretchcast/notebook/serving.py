"""A running server shown in a notebook with its link and a Stop button (notebooks/03).

A link printed by a cell stays on the page after the server behind it has stopped, and a "Run
All" used to stop it in the next cell. The panel keeps serving until its Stop button is pressed
(or the kernel ends), and once stopped it says so in place of the link: a link is shown only
while it works.
"""

from __future__ import annotations

from html import escape
from typing import Any, Protocol

import ipywidgets as widgets


class Serving(Protocol):
    """What the panel needs of a server (``stretchcast.serve.server.BackgroundServer`` has it)."""

    url: str

    def stop(self) -> None:
        """Stop answering and free the port."""


class ServingPanel(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """The page's and the feed's links while ``server`` runs, and a button that stops it."""

    def __init__(self, server: Serving, *, folder: str = "", **kwargs: Any) -> None:
        self.server = server
        self.folder = folder
        self.running = True
        self.link = widgets.HTML(self._links())
        self.stop_button = widgets.Button(
            description="Stop serving", icon="stop", tooltip="Stop the server; the links stop working"
        )
        self.stop_button.on_click(lambda _button: self.stop())
        super().__init__(children=[self.link, self.stop_button], **kwargs)

    def _links(self) -> str:
        url = escape(self.server.url)
        where = f" <code>{escape(self.folder)}</code>" if self.folder else ""
        return (
            f"stretchcast is serving{where} until you press <b>Stop serving</b>: "
            f'<a href="{url}/" target="_blank" rel="noopener">{url}/</a> '
            f'(podcast feed: <a href="{url}/feed.xml" target="_blank" rel="noopener">{url}/feed.xml</a>)'
        )

    def stop(self) -> None:
        """Stop the server (once) and put a plain note where the link was."""
        if not self.running:
            return
        self.server.stop()
        self.running = False
        self.link.value = "Stopped: nothing is served any more. Run the cell again to serve again."
        self.stop_button.disabled = True


__all__ = ["Serving", "ServingPanel"]
