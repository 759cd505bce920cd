"""The release, in one place: the package metadata (pyproject) and every file a build writes read it here."""

__version__ = "0.1.0"
