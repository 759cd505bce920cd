"""The figures' colours, alone: ``stretchcast figures --theme`` offers them without loading the drawing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """The colours of one variant."""

    name: str
    background: str
    mat: str
    body: str
    far: str
    accent: str


LIGHT = Theme("light", "#fbfaf7", "#d5e6df", "#2e3a44", "#a3adb5", "#d9581f")
DARK = Theme("dark", "#14181b", "#23403a", "#e4e8eb", "#66727a", "#ff9459")
THEMES = {"light": LIGHT, "dark": DARK}
