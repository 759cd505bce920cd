"""Measure how far MP3 coding raises true peaks, per format: where ``master.CODING_MARGINS_DB`` comes from.

A build predicts the decoded true peak as the mastered PCM's true peak, plus LAME's gain, plus the
coding margin of its format; this script builds routines with real voices at every format up to
96 kbit/s, decodes each MP3 (libsndfile) and measures the rise: the decoded true peak (4x
oversampled, as ``tests/test_mastering.py``'s reference meter) minus the PCM's plus LAME's gain.
Each build is made twice: as a user's build is mastered, and
stressed, with the master limiter forced to work on nearly every sound (the margin raised by
``--stress`` dB for that build), since limited peaks are denser and coding raises them further.

    python benchmarks/coding_margin.py [--voices espeak,piper] [--routines standard,full] [--out FILE]

Takes about half an hour (cues come from the cue cache once spoken). Never part of ``make test``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from scipy import signal

from stretchcast.content import load_collection, load_routine
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import master, mp3
from stretchcast.voices import Choice, ready_voice


def reference_true_peak_db(x: np.ndarray) -> float:
    """True peak the plain way: 4x ``resample_poly`` over the whole signal."""
    return float(20 * np.log10(np.abs(signal.resample_poly(x.astype(np.float64), 4, 1)).max()))


def formats(max_bitrate: int) -> list[tuple[int, int]]:
    """Every (sample rate, bitrate) a build accepts, up to ``max_bitrate`` kbit/s."""
    return [(r, b) for r in mp3.SAMPLE_RATES for b in mp3.bitrates_for(r) if b <= max_bitrate]


def measure_one(routine: Any, voice: Choice, rate: int, bitrate: int, out: Path) -> dict[str, float]:
    """Build, decode, and return the rise, the decoded peak and how many sounds were limited."""
    result = build(routine, voice=voice, options=BuildOptions(out_dir=out, sample_rate=rate, bitrate=bitrate))
    y, found = sf.read(result.mp3, dtype="float64")
    assert found == rate
    decoded = reference_true_peak_db(y)
    pcm = result.true_peak_dbtp - master.coding_margin_db(rate, bitrate)  # PCM peak + LAME's gain
    return {
        "rise": decoded - pcm,
        "decoded": decoded,
        "limited": float(result.extra["limited_sounds"]),
    }


def run(voices: Sequence[str], routines: Sequence[str], stress: float, max_bitrate: int, out: Path) -> str:
    """Every format, voice and routine, as built and stressed; returns the table (markdown)."""
    collection = load_collection()
    original: Callable[[int, int], float] = master.coding_margin_db
    rows: dict[tuple[int, int], dict[str, float]] = {}
    for name in voices:
        voice = Choice(ready_voice(name), "coding margin")
        for spec in routines:
            routine = load_routine(collection, spec)
            for rate, bitrate in formats(max_bitrate):
                row = rows.setdefault(
                    (rate, bitrate), {"built": -math.inf, "stressed": -math.inf, "worst": -math.inf}
                )
                try:
                    plain = measure_one(routine, voice, rate, bitrate, out)
                    master.coding_margin_db = lambda r, b: original(r, b) + stress  # type: ignore[assignment]
                    forced = measure_one(routine, voice, rate, bitrate, out)
                finally:
                    master.coding_margin_db = original  # type: ignore[assignment]
                row["built"] = max(row["built"], plain["rise"])
                row["stressed"] = max(row["stressed"], forced["rise"])
                row["worst"] = max(row["worst"], plain["decoded"])
                print(
                    f"{name} {spec} {rate}/{bitrate}: rise {plain['rise']:+.2f} dB as built "
                    f"({plain['limited']:.0f} sounds limited, decoded {plain['decoded']:.2f} dBTP), "
                    f"{forced['rise']:+.2f} dB stressed ({forced['limited']:.0f} limited)",
                    file=sys.stderr,
                    flush=True,
                )
    lines = [
        f"Voices {', '.join(voices)}; routines {', '.join(routines)}; stressed: margin +{stress:g} dB.",
        "",
        "| format | bits/sample | rise as built dB | rise stressed dB | margin dB "
        "| decoded peak as built dBTP |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (rate, bitrate), row in sorted(rows.items()):
        margin = master.coding_margin_db(rate, bitrate)
        flag = "" if max(row["built"], row["stressed"]) <= margin else " **over**"
        lines.append(
            f"| {rate}/{bitrate} | {bitrate * 1000 / rate:.2f} | {row['built']:.2f} | {row['stressed']:.2f} "
            f"| {margin:.2f}{flag} | {row['worst']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--voices", default="espeak,piper")
    parser.add_argument("--routines", default="standard,full")
    parser.add_argument(
        "--stress", type=float, default=2.0, help="dB the margin is raised by for the stressed builds"
    )
    parser.add_argument("--max-bitrate", type=int, default=96)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stretchcast-coding-margin"))
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    text = run(args.voices.split(","), args.routines.split(","), args.stress, args.max_bitrate, args.work)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
