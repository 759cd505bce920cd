"""The build's progress on a terminal: a tqdm bar while cues are spoken, as it has always looked."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from stretchcast.progress import Stage

if TYPE_CHECKING:
    from tqdm.auto import tqdm


class TerminalProgress:
    """A :class:`~stretchcast.progress.ProgressCallback` drawing a bar of the cues being spoken.

    On a terminal, a bar that disappears when the cues are done; where output goes to a log or a
    pipe, one line saying how many cues will be spoken (a bar there is noise). Nothing when every
    cue comes from the cache. A pass given up (the voice failed and "auto" moved on) closes its bar
    and the next voice's pass opens its own; a short pass after the cues are done is not shown.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._bar: tqdm[Any] | None = None
        self._start = 0  # cues ready when the bar opened
        self._total = 0
        self._finished = False

    def __call__(self, stage: Stage, done: int, total: int) -> None:
        """Open, move or close the bar."""
        if stage != "speak":
            self.close()
            return
        if self._bar is None:
            if self._finished:
                return
            if done >= total:
                self._finished = True  # every cue from the cache: nothing to show
                return
            self._open(done, total)
            return
        if total < self._total:  # given up: the next voice starts a pass of its own
            self.close()
            return
        self._total = total
        self._bar.total = total - self._start
        self._bar.update(done - self._start - self._bar.n)
        if done >= total:
            self.close()
            self._finished = True

    def _open(self, done: int, total: int) -> None:
        new = total - done
        desc = f"Speaking {new} new cue{'' if new == 1 else 's'} ({done} from the cache)"
        # imported only when a bar is drawn: tqdm.auto loads asyncio (~0.1 s); a warm build draws none
        from tqdm.auto import tqdm

        live = self._stream.isatty()
        if not live:
            print(f"{desc}...", file=self._stream, flush=True)
        self._bar = tqdm(total=new, desc=desc, unit="cue", disable=not live, leave=False, file=self._stream)
        self._start, self._total = done, total

    def close(self) -> None:
        """Take the bar off the terminal, if one is shown."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
