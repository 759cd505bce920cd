"""Faults: whatever breaks (the voice, the disk, the user's patience), nothing is left half-done.

After every fault: no partial or zero-byte file anywhere, the previous good track still in place,
the cue cache consistent, and a message that says what to do. Where this machine allows it, disks
are real (a tiny or read-only tmpfs); a simulated twin of each such test runs everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from mutagen.id3 import ID3
from scipy import signal as dsp

from stretchcast.cli.main import main
from stretchcast.content import Collection, load_routine
from stretchcast.errors import VoiceError
from stretchcast.output import files as export
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound import frames, mp3
from stretchcast.testing import FakeVoice
from stretchcast.voices.base import Speech
from stretchcast.voices.cache import CACHE_ENV

from .conftest import decode, write

# How long a test waits for something that should happen at once, before it fails instead of hanging.
STUCK_S = 60.0

COBRA = "title: Cobra only\nexercises:\n  - id: tall-cobra\n"
SWAYS = "title: Sways only\nexercises:\n  - id: knee-sways\n    reps: 4\n    hold: 2\n"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by relative path, with its bytes."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_clean(*folders: Path) -> None:
    """No temporary, partial or empty file in any of ``folders``."""
    for folder in folders:
        for name, data in snapshot(folder).items():
            assert not name.endswith(".part") and not Path(name).name.startswith("."), name
            assert data, f"zero-byte file {name}"


def assert_consistent(out: Path, name: str) -> None:
    """The manifest describes the MP3 beside it: same length, same title, captions within it."""
    manifest = json.loads((out / f"{name}.json").read_text())
    decoded = decode(out / f"{name}.mp3")
    assert abs(decoded.duration_ms - manifest["duration_ms"]) < 1
    assert ID3(out / f"{name}.mp3")["TIT2"].text[0] == manifest["title"]
    vtt = (out / f"{name}.vtt").read_text()
    assert manifest["events"][-2]["text"] is None or manifest["title"]
    assert vtt.startswith("WEBVTT")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The CLI's exit code and what it wrote to stderr."""
    code = main(list(args))
    return code, capsys.readouterr().err


def previous_track(
    tmp_path: Path, out: Path, capsys: pytest.CaptureFixture[str], name: str = "mine"
) -> dict[str, bytes]:
    """Build the cobra routine into ``out`` as ``name`` (it must succeed); every file there after it."""
    cobra = write(tmp_path, "cobra.yaml", COBRA)
    assert main(["build", str(cobra), "--voice", "fake", "-o", str(out), "--name", name]) == 0
    capsys.readouterr()
    return snapshot(out)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cue cache of this test's own."""
    root = tmp_path / "cue-cache"
    monkeypatch.setenv(CACHE_ENV, str(root))
    return root


@contextlib.contextmanager
def tmpfs(path: Path, *, size_kb: int = 65536) -> Iterator[Path]:
    """A real, small filesystem at ``path`` (skips where mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0755", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the simulated twin covers it")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def remount_read_only(path: Path) -> None:
    """Make the tmpfs at ``path`` read-only, files and all."""
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


class Raising(FakeVoice):
    """A fake voice that raises ``error`` when asked for its ``after``-th cue."""

    def __init__(self, error: BaseException, after: int = 10) -> None:
        super().__init__()
        self.error = error
        self.after = after

    def synthesize(self, text: str) -> Speech:
        if self.calls.total() >= self.after:
            raise self.error
        return super().synthesize(text)


class TestVoiceFaults:
    """The voice fails in every way a voice can."""

    def test_voice_raises_midway(self, tmp_path: Path, collection: Collection, cache_dir: Path) -> None:
        """An engine crash leaves the previous track, no temporary files and only whole cache entries."""
        routine = load_routine(collection, write(tmp_path, "cobra.yaml", COBRA))
        out = tmp_path / "audio"
        build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=out, name="mine"))
        before = snapshot(out)
        sways = load_routine(collection, write(tmp_path, "sways.yaml", SWAYS))
        with pytest.raises(RuntimeError, match="engine crashed"):
            build(
                sways,
                voice=Raising(RuntimeError("engine crashed")),
                options=BuildOptions(out_dir=out, name="mine"),
            )
        assert snapshot(out) == before
        assert_clean(out, cache_dir)

    def test_voice_error_exits_3(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A named voice that fails midway stops the build with exit 3, a plain message, and no files."""

        def fail(self: FakeVoice, text: str) -> Speech:
            raise VoiceError("the fake voice stopped answering", fix="Try another voice with --voice.")

        monkeypatch.setattr(FakeVoice, "synthesize", fail)
        out = tmp_path / "out"
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "--no-cache", "-o", str(out))
        assert code == 3 and "stopped answering" in err and "Traceback" not in err
        assert not out.exists()

    def test_empty_audio(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A voice that returns no samples is a voice error naming the cue, exit 3, nothing written."""
        monkeypatch.setattr(
            FakeVoice, "synthesize", lambda self, text: Speech(np.zeros(0, np.float32), 22050)
        )
        out = tmp_path / "out"
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "--no-cache", "-o", str(out))
        assert code == 3 and "returned no usable audio" in err
        assert not out.exists()

    def test_silent_audio(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A voice that returns only silence is a voice error too, not a silent track."""
        monkeypatch.setattr(
            FakeVoice, "synthesize", lambda self, text: Speech(np.zeros(22050, np.float32), 22050)
        )
        out = tmp_path / "out"
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "--no-cache", "-o", str(out))
        assert code == 3 and "returned silence" in err
        assert not out.exists()

    def test_clipped_audio(self, tmp_path: Path, collection: Collection) -> None:
        """A voice that clips (full-scale square waves) still gives a track at -16 LUFS under -1 dBTP."""

        class Clipping(FakeVoice):
            def synthesize(self, text: str) -> Speech:
                hum = super().synthesize(text)
                return Speech(np.sign(hum.samples).astype(np.float32), hum.sample_rate)

        routine = load_routine(collection, write(tmp_path, "cobra.yaml", COBRA))
        result = build(routine, voice=Clipping(), options=BuildOptions(out_dir=tmp_path / "out"), cache=False)
        decoded = decode(result.mp3)
        lufs = pyloudnorm.Meter(decoded.sample_rate).integrated_loudness(decoded.samples.astype(np.float64))
        peak = 20 * np.log10(np.abs(dsp.resample_poly(decoded.samples, 4, 1)).max())
        assert -17 <= lufs <= -15 and peak <= -1.0

    def test_voice_hangs(self, tmp_path: Path, collection: Collection, cache_dir: Path) -> None:
        """A voice that never returns fails the build after its timeout, with a message; nothing is written."""
        release = threading.Event()
        stuck: list[threading.Thread] = []

        class Hanging(FakeVoice):
            timeout_s = 0.5

            def synthesize(self, text: str) -> Speech:
                if self.calls.total() >= 3:
                    stuck.append(threading.current_thread())
                    release.wait(STUCK_S)
                return super().synthesize(text)

        routine = load_routine(collection, write(tmp_path, "cobra.yaml", COBRA))
        out = tmp_path / "out"
        try:
            with pytest.raises(VoiceError, match=r"did not answer within 0\.5 s") as err:
                build(routine, voice=Hanging(), options=BuildOptions(out_dir=out))
            # the build gave up while the engine was still stuck in its call: released only below
            gave_up_while_stuck = len(stuck) == 1 and stuck[0].is_alive()
        finally:
            release.set()  # let the abandoned thread finish
        for thread in stuck:
            thread.join(STUCK_S)
        assert err.value.exit_code == 3 and gave_up_while_stuck
        assert not out.exists()
        assert_clean(cache_dir)


class TestDiskFaults:
    """The output folder or the cache cannot take what is written."""

    def test_output_is_a_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """An output path that is a file: exit 4 and the fix, before anything is spoken."""
        blocker = write(tmp_path, "audio", "not a folder")
        code = main(["build", "gentle", "--voice", "fake", "-o", str(blocker / "sub")])
        out, err = capsys.readouterr()
        assert code == 4 and "it is a file, not a folder" in err and "-o DIR" in err
        assert "Voice:" not in out  # refused before any voice was loaded
        assert blocker.read_text() == "not a folder"

    def test_read_only_output_folder(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A read-only output folder (a real read-only filesystem): exit 4, the previous track untouched."""
        out = tmp_path / "ro"
        with tmpfs(out):
            before = previous_track(tmp_path, out, capsys)
            remount_read_only(out)
            code, err = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out), "--name", "mine")
            assert code == 4 and "cannot write here" in err and "Choose another folder" in err
            assert snapshot(out) == before

    def test_read_only_output_folder_simulated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The same with the permission error simulated, for machines that cannot mount."""

        def denied(*_args: object, **_kwargs: object) -> object:
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr("stretchcast.output.files.tempfile.TemporaryFile", denied)
        out = tmp_path / "out"
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out))
        assert code == 4 and "cannot write here" in err
        assert not out.exists()

    def test_full_disk(self, tmp_path: Path, capsys: pytest.CaptureFixture[str], cache_dir: Path) -> None:
        """A disk that fills up midway (a real 2 MB filesystem): exit 4, old track intact, no partial file."""
        out = tmp_path / "small"
        with tmpfs(out, size_kb=2048):
            before = previous_track(tmp_path, out, capsys)
            code, err = run(
                capsys, "build", "full", "--voice", "fake", "-o", str(out), "--name", "mine", "--split"
            )
            assert code == 4 and "the disk is full" in err and "Free some space" in err
            assert snapshot(out) == before
            assert_clean(out)

    def test_full_disk_simulated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """ENOSPC on the third file's flush (simulated): exit 4, old track intact, nothing partial left."""
        out = tmp_path / "audio"
        before = previous_track(tmp_path, out, capsys)
        real_fsync = os.fsync
        calls = {"n": 0}

        def filling(fd: int) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            real_fsync(fd)

        monkeypatch.setattr("stretchcast.output.files.os.fsync", filling)
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out), "--name", "mine")
        assert code == 4 and "the disk is full" in err
        assert snapshot(out) == before
        assert_clean(out)

    def test_read_only_cache(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A read-only cue cache (a real read-only filesystem): the build works uncached and says so once."""
        cache = tmp_path / "cache"
        with tmpfs(cache):
            remount_read_only(cache)
            monkeypatch.setenv(CACHE_ENV, str(cache))
            out = tmp_path / "out"
            code, _ = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out))
            assert code == 0 and (out / "gentle.mp3").is_file()
            warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
            assert len(warnings) == 1 and "cannot write to the cue cache" in warnings[0]
            assert "--cache-dir" in warnings[0]
            assert snapshot(cache) == {}


class TestInterrupts:
    """Ctrl-C at any moment leaves the previous track and nothing partial."""

    def _previous(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict[str, bytes]]:
        out = tmp_path / "audio"
        return out, previous_track(tmp_path, out, capsys, "gentle")

    def test_during_synthesis(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        cache_dir: Path,
    ) -> None:
        """Ctrl-C while cues are spoken: exit 130, the message, old files intact, cache whole."""
        out, before = self._previous(tmp_path, capsys)
        original = FakeVoice.synthesize

        def interrupted(self: FakeVoice, text: str) -> Speech:
            if self.calls.total() >= 5:
                raise KeyboardInterrupt
            return original(self, text)

        monkeypatch.setattr(FakeVoice, "synthesize", interrupted)
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out))
        assert code == 130 and "interrupted; no partial files were left behind" in err
        assert snapshot(out) == before
        assert_clean(out, cache_dir)

    @pytest.mark.parametrize("encoder", ["auto", "pcm"])
    def test_during_encoding(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        encoder: str,
    ) -> None:
        """Ctrl-C while the MP3 is written (from frames, or encoded): exit 130, old files intact, nothing partial."""
        out, before = self._previous(tmp_path, capsys)

        def interrupted(self: object, *args: object) -> None:
            raise KeyboardInterrupt

        if encoder == "pcm":
            monkeypatch.setattr(mp3.Mp3Writer, "write", interrupted)
        else:  # the default writes from frames
            monkeypatch.setattr(frames.FrameWriter, "place", interrupted)
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "--encoder", encoder, "-o", str(out))
        assert code == 130 and "interrupted" in err
        assert snapshot(out) == before
        assert_clean(out)

    def test_while_files_are_put_in_place(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Ctrl-C between two renames waits until every file is in place: the new set is whole."""
        out, _ = self._previous(tmp_path, capsys)
        original = Path.replace
        sent = {"done": False}

        def replace_then_interrupt(self: Path, target: str | os.PathLike[str]) -> Path:
            result = original(self, target)
            if not sent["done"] and str(target).endswith(".mp3"):
                sent["done"] = True
                os.kill(os.getpid(), signal.SIGINT)  # arrives between the MP3 and the manifest
            return result

        monkeypatch.setattr(Path, "replace", replace_then_interrupt)
        code, err = run(capsys, "build", "gentle", "--voice", "fake", "-o", str(out))
        assert sent["done"] and code == 130 and "interrupted" in err
        assert_consistent(out, "gentle")
        assert json.loads((out / "gentle.json").read_text())["title"] == "SI joint routine, gentle"
        assert_clean(out)

    def test_real_sigint(self, tmp_path: Path, collection: Collection) -> None:
        """A real Ctrl-C (SIGINT) to a running build: exit 130, the message, the old files intact."""
        out = tmp_path / "audio"
        build(load_routine(collection, "gentle"), voice=FakeVoice(), options=BuildOptions(out_dir=out))
        before = snapshot(out)
        env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "stretchcast.cli.main",
                "build",
                "gentle",
                "--voice",
                "piper",
                "--no-cache",
                "-o",
                str(out),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()  # "Voice: ..." is printed once the voice is chosen
        # "Speaking N new cues..." is printed as the first cue goes to Piper (which loads its model
        # then): interrupt once it is there, mid-synthesis
        said = [proc.stderr.readline()]
        while said[-1] and not said[-1].startswith("Speaking "):
            said.append(proc.stderr.readline())
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
        err = "".join(said) + rest
        assert first.startswith("Voice: ") and said[-1].startswith("Speaking ") and proc.returncode == 130, (
            err
        )
        assert "interrupted; no partial files were left behind" in err and "Traceback" not in err
        assert snapshot(out) == before
        assert_clean(out, tmp_path / "cache")


class TestConcurrentBuilds:
    """Two builds at once into the same folder and cache."""

    def test_same_name_same_cache(self, tmp_path: Path) -> None:
        """Both succeed; what is left is one whole build (manifest, MP3, captions agree); the cache is whole."""
        out = tmp_path / "audio"
        env = {**os.environ, CACHE_ENV: str(tmp_path / "cache")}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "stretchcast.cli.main",
                    "build",
                    name,
                    "--voice",
                    "fake",
                    "-o",
                    str(out),
                    "--name",
                    "same",
                    "--split",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for name in ("gentle", "full")
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
        assert_consistent(out, "same")
        manifest = json.loads((out / "same.json").read_text())
        split = sorted(p.name for p in (out / "same").iterdir())
        assert split == sorted(Path(e["file"]).name for e in manifest["split"])
        assert_clean(out, tmp_path / "cache")

    def test_second_build_waits_for_the_first(
        self, tmp_path: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """While one build puts its files in place, another's files wait, staged, until it is done."""
        out = tmp_path / "audio"
        out.mkdir()
        routine = load_routine(collection, write(tmp_path, "cobra.yaml", COBRA))
        failures: list[BaseException] = []

        def second() -> None:
            try:
                build(routine, voice=FakeVoice(), options=BuildOptions(out_dir=out, name="same"))
            except BaseException as err:  # reported by the assertion below
                failures.append(err)

        # Whoever finds the folder's lock held says so, then waits for it as the build would.
        blocked = threading.Event()
        real_flock = fcntl.flock

        def flock(fd: int, operation: int) -> None:
            if operation == fcntl.LOCK_EX:
                try:
                    real_flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    blocked.set()
            real_flock(fd, operation)

        monkeypatch.setattr(fcntl, "flock", flock)
        with export.exclusive(out):  # the first build, mid-commit
            thread = threading.Thread(target=second)
            thread.start()
            # the second build has staged its files and found the lock held: it cannot commit now
            assert blocked.wait(STUCK_S), failures
            staged = sorted(p.name for p in out.iterdir())
            assert staged and [p for p in staged if not p.endswith(".part")] == []
            assert not (out / "same.mp3").exists()
        thread.join(timeout=120)
        assert failures == [] and (out / "same.mp3").is_file()
        assert_consistent(out, "same")
        assert_clean(out)
