"""A warm build imports only what it needs, and the numpy filters that make that possible equal scipy's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pyloudnorm.iirfilter import IIRfilter
from scipy import signal

from stretchcast.sound import dsp
from stretchcast.sound import signal as audio
from stretchcast.sound.mp3 import SAMPLE_RATES
from stretchcast.voices.cache import CueCache

#: Heavy modules a warm build has no use for (scipy.signal alone took 0.7 s of a 3.3 s build).
NOT_NEEDED = ("scipy", "pyloudnorm", "onnxruntime", "matplotlib", "requests")
#: ... nor the command line's start-up: the handout's fpdf and fontTools (~0.3 s), tqdm (its bar is drawn
#: only while cues are spoken), the notebook's widgets, and the faces a build does not run.
NOT_AT_START = (
    *NOT_NEEDED,
    "fpdf",
    "fontTools",
    "tqdm",
    "ipywidgets",
    "stretchcast.serve",
    "stretchcast.handout",
    "stretchcast.figures.draw",
    "stretchcast.notebook",
)
#: ... nor, for help alone, the sound stage: numpy, the encoders, the pipeline (the defaults it shows
#: come from ``sound.formats``).
NOT_FOR_HELP = (
    *NOT_AT_START,
    "numpy",
    "soundfile",
    "lameenc",
    "stretchcast.pipeline",
    "stretchcast.sound.mp3",
)
#: The two light modules of those packages the command line reads for its help: DEFAULT_PORT, PAPERS.
LIGHT = {"stretchcast.serve", "stretchcast.handout", "stretchcast.handout.papers"}
TINY = "title: Tiny\nexercises:\n  - id: tall-cobra\n"
# Runs the command line in-process (--help ends in SystemExit), then prints every module loaded.
PROBE = """
import json, sys
from stretchcast.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(args: list[str], cache: Path) -> tuple[int, set[str]]:
    env = {**os.environ, "STRETCHCAST_CACHE": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["code"]), set(result["modules"])


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The ``names`` (packages with their submodules) found among ``modules``, less the light ones."""
    return sorted(m for m in modules - LIGHT for name in names if m == name or m.startswith(f"{name}."))


def _build(tmp_path: Path, cache: Path) -> tuple[int, set[str]]:
    routine = tmp_path / "tiny.yaml"
    routine.write_text(TINY, encoding="utf-8")
    return _run(["build", str(routine), "--voice", "fake", "--out", str(tmp_path / "out")], cache)


def test_warm_build_loads_no_heavy_module(tmp_path: Path) -> None:
    """A build whose cues are all cached loads no scipy, pyloudnorm, onnxruntime, matplotlib, requests, fpdf, tqdm."""
    cache = tmp_path / "cache"
    cold, _ = _build(tmp_path, cache)
    warm, modules = _build(tmp_path, cache)
    assert cold == 0 and warm == 0
    assert _heavy(modules, NOT_AT_START) == []
    assert "stretchcast.sound.mp3" in modules  # the probe saw the build's own modules
    assert (tmp_path / "out" / "tiny.mp3").stat().st_size > 10_000


def test_warm_piper_build_loads_no_engine(tmp_path: Path, piper_cache: CueCache) -> None:
    """A Piper build whose cues are all cached imports neither onnxruntime nor piper, nor hashes the model twice."""
    routine = tmp_path / "tiny.yaml"
    routine.write_text(TINY, encoding="utf-8")
    args = ["build", str(routine), "--voice", "piper", "--out", str(tmp_path / "out"), "-q"]
    cold, _ = _run(args, piper_cache.root)  # the session's Piper cache: cues spoken once per session
    warm, modules = _run(args, piper_cache.root)
    assert cold == 0 and warm == 0
    # nor scipy: the frame back end (the default) masters nothing when every sound's frames are kept
    assert _heavy(modules, ("onnxruntime", "piper", *NOT_AT_START)) == []
    assert "stretchcast.voices.piper" in modules  # Piper was the voice, checked by its stamp
    assert (piper_cache.root / "piper-verified.json").is_file()


@pytest.mark.parametrize(
    "args", [["--help"], ["build", "--help"], ["handout", "--help"], ["serve", "--help"]]
)
def test_help_loads_no_heavy_module(tmp_path: Path, args: list[str]) -> None:
    """Asking for help loads none of the heavy modules, nor numpy, the handout, server or drawing it describes."""
    code, modules = _run(args, tmp_path / "cache")
    assert code == 0
    assert _heavy(modules, NOT_FOR_HELP) == []
    assert "stretchcast.cli.routines" in modules  # every command was registered


def test_lazy_names_are_the_modules_own() -> None:
    """``stretchcast``, ``stretchcast.handout`` and ``stretchcast.log`` hand out the objects their modules define."""
    import stretchcast
    import stretchcast.handout
    import stretchcast.log
    from stretchcast.handout import sheet, write
    from stretchcast.log import model, store
    from stretchcast.pipeline import build

    for package in (stretchcast, stretchcast.handout, stretchcast.log):
        assert all(hasattr(package, name) for name in package.__all__), package.__name__
        assert set(package.__all__) <= set(dir(package))
        with pytest.raises(AttributeError):
            _ = package.no_such_name
    assert stretchcast.build is build
    assert (stretchcast.handout.routine_sheet, stretchcast.handout.write_handout) == (
        sheet.routine_sheet,
        write.write_handout,
    )
    assert (stretchcast.log.Log, stretchcast.log.Session) == (store.Log, model.Session)


@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_k_weighting_equals_pyloudnorm(rate: int) -> None:
    """The K-weighting coefficients are pyloudnorm's, to the bit, at every MP3 sample rate."""
    stages = (
        IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )
    expected = np.array([np.concatenate([f.b * f.passband_gain, f.a]) for f in stages])
    assert np.array_equal(audio.k_weighting(rate), expected)


@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_k_weighting_tail_table(rate: int) -> None:
    """The tabulated filter tails are what scipy's sosfilt gives for a one-second impulse."""
    impulse = np.zeros(rate)
    impulse[0] = 1.0
    response = np.abs(signal.sosfilt(audio.k_weighting(rate), impulse))
    assert audio.k_weighting_tail(rate) == int(np.flatnonzero(response > 1e-9)[-1]) + 1
    # and the computed fallback (for rates outside the table) agrees
    computed = np.abs(audio.k_weighting_response(rate))
    assert int(np.flatnonzero(computed > 1e-9)[-1]) + 1 == audio.k_weighting_tail(rate)


@pytest.mark.parametrize("n", [1, 37, 4095, 4096, 70_001, 600_000])
def test_weighted_energy_equals_sosfilt(n: int) -> None:
    """The FFT filter's cumulative energy equals scipy's recursive filter's to 1e-12, with or without a tail."""
    x = (np.random.default_rng(n).standard_normal(n) * 0.2).astype(np.float32)
    tail = audio.k_weighting_tail(22050)
    fast = audio.weighted_energy(x, 22050, tail=tail)
    padded = np.zeros(n + tail)
    padded[:n] = x
    weighted = signal.sosfilt(audio.k_weighting(22050), padded)
    exact = np.concatenate(([0.0], np.cumsum(weighted**2)))
    assert fast.shape == exact.shape
    np.testing.assert_allclose(fast, exact, rtol=1e-12, atol=1e-15)


def test_impulse_response_equals_scipy() -> None:
    """The K-weighting's impulse response, by a plain loop, is scipy's sosfilt's to the bit."""
    sos = audio.k_weighting(44100)
    impulse = np.zeros(9000)
    impulse[0] = 1.0
    assert np.array_equal(dsp.impulse_response(sos, 9000), signal.sosfilt(sos, impulse))


def test_firwin_and_upsample_equal_scipy() -> None:
    """The true-peak interpolator's taps and 4x upsampling equal scipy's firwin and upfirdn."""
    taps = signal.firwin(41, 0.25, window=("kaiser", 5.0))
    assert np.allclose(dsp.firwin_kaiser(41, 0.25, 5.0), taps, rtol=0, atol=1e-15)
    x = np.random.default_rng(4).standard_normal(3001)
    np.testing.assert_allclose(dsp.upsample(taps * 4, x, 4), signal.upfirdn(taps * 4, x, up=4), atol=1e-13)
    assert len(dsp.upsample(taps, x[:0], 4)) == 0
