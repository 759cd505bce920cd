"""How a build tells its caller how far it has got: one small callback, ``on_progress(stage, done, total)``.

The pipeline reports; the faces show it (a tqdm bar in the command line, a progress bar widget in
the notebooks). Like ``urllib``'s ``reporthook`` or ``huggingface_hub``'s progress callbacks, it is
a plain callable, so a lambda, a function or an object with ``__call__`` all fit, and the pipeline
knows nothing of terminals or widgets.

The rules every caller may rely on:

- Stages come in the order of :data:`STAGES`: ``"speak"`` (cues ready, whether from the cue cache
  or just spoken) then ``"write"`` (mastering, encoding and writing the files). A build that writes
  its files reports ``("write", 1, 1)`` last.
- A stage runs in passes. A pass's first report gives what was done before any work (for "speak",
  the cues the cache gave back); then ``done`` grows by one per piece of work and never passes
  ``total``; the pass ends at ``done == total``.
- A pass is given up only when the voice "auto" picked fails mid-build: its ``total`` then
  shrinks to ``done``, and a new pass follows with the next voice. A short pass may also follow a
  finished one (settling the welcome's "about N minutes" with the real lengths can need a cue more).
- Calls come on the thread that called the build, never from an engine's worker threads, so a
  callback may touch widgets or a terminal without locks. A callback that raises stops the build.
"""

from __future__ import annotations

from typing import Literal, Protocol

Stage = Literal["speak", "write"]
#: Every stage a build reports, in the order it reports them.
STAGES: tuple[Stage, ...] = ("speak", "write")


class ProgressCallback(Protocol):
    """Told how far a build has got: ``done`` of ``total`` in ``stage``."""

    def __call__(self, stage: Stage, done: int, total: int) -> None:
        """Called on the build's own thread as the build moves on."""
        ...


def no_progress(stage: Stage, done: int, total: int) -> None:
    """The callback for nobody listening."""
    del stage, done, total


__all__ = ["STAGES", "ProgressCallback", "Stage", "no_progress"]
