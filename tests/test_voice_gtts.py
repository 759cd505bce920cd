"""gTTS against a fake Google on 127.0.0.1: real MP3 answers, 429s, 5xx, timeouts and garbage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stretchcast.content import Collection, Routine
from stretchcast.errors import VoiceError
from stretchcast.pipeline import BuildOptions, build
from stretchcast.sound.cues import CueSet
from stretchcast.testing import Behaviour, FakeGoogle
from stretchcast.voices import choose_voice
from stretchcast.voices.cache import CueCache
from stretchcast.voices.gtts import MAX_CHARS, GttsVoice, split_text

from .conftest import cobra_only, decode, rms_db

LONG = (
    "Lie on your back with both knees bent and your feet flat on the mat. Breathe out slowly, "
    "let your shoulders relax, and rest your arms loosely by your sides; keep your neck long and soft."
)


class Sleeps:
    """A stand-in for ``time.sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def voice(google: FakeGoogle, **kwargs: float | int) -> tuple[GttsVoice, Sleeps]:
    """A gTTS voice talking to ``google``, with recorded (not real) backoff sleeps."""
    sleeps = Sleeps()
    options: dict[str, float | int] = {"timeout": 0.5, "min_interval": 0.0, **kwargs}
    return GttsVoice(base_url=google.url, sleep=sleeps, **options), sleeps  # type: ignore[arg-type]


def partial_files(*folders: Path) -> list[Path]:
    """Every empty or temporary file under ``folders``."""
    return [
        p
        for folder in folders
        if folder.exists()
        for p in folder.rglob("*")
        if p.is_file() and (p.stat().st_size == 0 or p.name.endswith(".part"))
    ]


class TestSplitting:
    """Text is cut under gTTS's 100-character limit at the most natural boundary there is."""

    def test_short_text_is_one_piece(self) -> None:
        """A cue under the limit is sent whole."""
        assert split_text("  Get into   position. ") == ["Get into position."]

    def test_sentences_first(self) -> None:
        """Long text splits at sentence ends, packing whole sentences while they fit."""
        pieces = split_text(LONG)
        assert all(len(p) <= MAX_CHARS for p in pieces)
        assert pieces[0] == "Lie on your back with both knees bent and your feet flat on the mat."
        assert " ".join(pieces) == " ".join(LONG.split())

    def test_clauses_when_a_sentence_is_too_long(self) -> None:
        """A sentence over the limit splits at commas and semicolons, not inside a clause."""
        pieces = split_text(LONG.split(". ", 1)[1])
        assert len(pieces) == 2 and all(len(p) <= MAX_CHARS for p in pieces)
        assert all(p.endswith((",", ";", ".")) for p in pieces)

    def test_words_when_there_is_no_punctuation(self) -> None:
        """Without punctuation the cut falls between words; a giant word is the only thing cut inside."""
        words = " ".join(["stretch"] * 40)
        assert all(len(p) <= MAX_CHARS and not p.startswith(" ") for p in split_text(words))
        assert [len(p) for p in split_text("x" * 250)] == [100, 100, 50]


class TestSpeaking:
    """Speech comes back as decoded audio, and each piece is one request."""

    def test_real_mp3_decoded(self) -> None:
        """Google's MP3 is decoded by libsndfile to mono float audio of the right length."""
        with FakeGoogle() as google:
            gtts, _ = voice(google)
            speech = gtts.synthesize("Get into position.")
        assert speech.sample_rate == 24000 and speech.samples.dtype == np.float32
        assert 500 < speech.duration_ms < 3000
        assert rms_db(speech.samples) > -30

    def test_long_text_one_request_per_piece(self) -> None:
        """A long cue is sent in pieces under 100 characters, in order, and comes back joined."""
        with FakeGoogle() as google:
            gtts, _ = voice(google)
            speech = gtts.synthesize(LONG)
        assert google.texts == split_text(LONG) and len(google.texts) >= 2
        assert all(len(t) <= MAX_CHARS for t in google.texts)
        assert speech.duration_ms > 5000

    def test_options_reach_google(self) -> None:
        """Language and slow mode are in the request gTTS builds; the identity names every setting."""
        with FakeGoogle() as google:
            gtts, _ = voice(google)
            slow = GttsVoice(lang="en", tld="co.uk", slow=True, base_url=google.url)
            slow.synthesize("Rest.")
        assert google.texts == ["Rest."]
        assert gtts.identity()["slow"] is False and slow.identity()["slow"] is True
        assert slow.identity()["tld"] == "co.uk" and "co.uk" in slow.describe()


class TestRetries:
    """429 and 5xx answers and timeouts are retried with growing delays; then the voice gives up clearly."""

    def test_429_then_success(self) -> None:
        """A 429 is retried after a backoff and the second answer is used."""
        with FakeGoogle(["429", "ok"]) as google:
            gtts, sleeps = voice(google, backoff=0.5)
            speech = gtts.synthesize("Rest.")
        assert google.behaviours == ["429", "ok"]
        assert len(sleeps.delays) == 1 and 0.5 <= sleeps.delays[0] <= 0.5 * 1.25
        assert speech.duration_ms > 0

    def test_retry_after_is_honoured(self) -> None:
        """A Retry-After header lengthens the wait (capped at 30 s)."""
        with FakeGoogle(["429", "ok"], retry_after=7) as google:
            gtts, sleeps = voice(google, backoff=0.01)
            gtts.synthesize("Rest.")
        assert sleeps.delays == [7.0]

    def test_backoff_grows(self) -> None:
        """Each retry waits about twice as long as the one before."""
        with FakeGoogle(["503", "500", "503", "ok"]) as google:
            gtts, sleeps = voice(google, backoff=1.0, retries=4)
            gtts.synthesize("Rest.")
        assert len(sleeps.delays) == 3
        for n, delay in enumerate(sleeps.delays):
            assert 2**n <= delay <= 2**n * 1.25

    def test_5xx_gives_up(self) -> None:
        """When every try is a 500, the error says so and how many tries there were."""
        with FakeGoogle(then="500") as google:
            gtts, _ = voice(google, retries=2)
            with pytest.raises(VoiceError, match=r"HTTP 500 .* after 3 tries") as err:
                gtts.synthesize("Rest.")
        assert len(google.texts) == 3
        assert "--voice piper" in str(err.value)

    def test_giving_up_stops_the_other_cues(self) -> None:
        """Once one cue has used up its retries, the next cue fails at once without asking again."""
        with FakeGoogle(then="503") as google:
            gtts, _ = voice(google, retries=1)
            with pytest.raises(VoiceError, match="HTTP 503"):
                gtts.synthesize("Rest.")
            asked = len(google.texts)
            with pytest.raises(VoiceError, match=r"HTTP 503 .* after 2 tries \(on 'Rest.'\)"):
                gtts.synthesize("Halfway.")
        assert asked == 2 and len(google.texts) == asked

    def test_timeout_is_retried(self) -> None:
        """An answer slower than the timeout is abandoned and asked for again."""
        with FakeGoogle(["slow", "ok"]) as google:
            gtts, _ = voice(google, timeout=0.2)
            speech = gtts.synthesize("Rest.")
        assert google.behaviours == ["slow", "ok"] and speech.duration_ms > 0

    def test_timeouts_give_up(self) -> None:
        """A server that never answers in time ends in a VoiceError naming the timeout."""
        with FakeGoogle(then="slow") as google:
            gtts, _ = voice(google, timeout=0.2, retries=1)
            with pytest.raises(VoiceError, match=r"within 0.2 s after 2 tries"):
                gtts.synthesize("Rest.")

    @pytest.mark.parametrize(
        ("behaviour", "message"),
        [
            ("garbage", "cannot be decoded"),
            ("no-audio", "answered without audio"),
            ("bad-base64", "damaged audio data"),
            ("hang-up", "gTTS unreachable"),
        ],
    )
    def test_bad_answers_are_errors(self, behaviour: Behaviour, message: str) -> None:
        """Garbage, missing audio, broken base64 and a dropped connection are VoiceErrors, not retried."""
        with FakeGoogle(then=behaviour) as google:
            gtts, _ = voice(google)
            with pytest.raises(VoiceError, match=message):
                gtts.synthesize("Rest.")
        assert len(google.texts) == 1

    def test_refused_connection_names_the_host(self) -> None:
        """With nothing listening, the error says the host refused, without retrying."""
        with FakeGoogle() as google:
            url = google.url
        sleeps = Sleeps()
        with pytest.raises(VoiceError, match="refused the connection"):
            GttsVoice(base_url=url, sleep=sleeps).synthesize("Rest.")
        assert sleeps.delays == []


class TestProbe:
    """The probe asks Google once, quickly, and explains a failure."""

    def test_auto_without_google(self) -> None:
        """When Google does not answer, auto picks piper and the reason says why."""
        choice = choose_voice("auto")  # the test environment points gTTS at a closed port
        assert choice.voice.name == "piper"
        assert choice.reason.startswith("gTTS unreachable: 127.0.0.1:")
        assert choice.reason.endswith("refused the connection; using piper")

    def test_auto_with_google(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """When Google answers the probe, auto picks gtts after exactly one request."""
        with FakeGoogle() as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            choice = choose_voice("auto")
        assert choice.voice.name == "gtts" and choice.auto
        assert choice.reason.startswith("Google answered in ") and choice.reason.endswith("; using gtts")
        assert google.texts == ["Hello."]

    def test_offline_never_asks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With offline set, Google is not asked at all, and auto says so."""
        with FakeGoogle() as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            choice = choose_voice("auto", offline=True)
        assert google.texts == []
        assert choice.voice.name == "piper" and choice.reason == "offline: gTTS skipped; using piper"

    def test_probe_does_not_retry(self) -> None:
        """A 503 to the probe fails it at once: a probe is one quick question."""
        with FakeGoogle(then="503") as google, pytest.raises(VoiceError, match="gTTS unavailable: HTTP 503"):
            GttsVoice(base_url=google.url).probe()
        assert len(google.texts) == 1

    def test_probe_times_out(self) -> None:
        """A probe that gets no answer within its timeout fails, naming the timeout."""
        with FakeGoogle(then="slow") as google, pytest.raises(VoiceError, match=r"within 0\.2 s"):
            GttsVoice(base_url=google.url, probe_timeout=0.2).probe()


class TestInABuild:
    """Cues are spoken in parallel; failures fall back under auto and stop a build that named gtts."""

    def test_parallel_cues_all_arrive(self, tmp_path: Path) -> None:
        """Many cues spoken on four threads each arrive once, levelled and cached."""
        texts = [f"Knees to the left, {n}." for n in ("one", "two", "three", "four", "five", "six")]
        cache = CueCache(tmp_path)
        with FakeGoogle() as google:
            gtts, _ = voice(google)
            cues = CueSet(gtts, 22050, cache=cache)
            cues.prepare(texts)
        assert sorted(google.texts) == sorted(texts)
        assert cues.synthesized == 6 and cache.info().entries == 6
        assert all(cues.length_ms(t) > 500 for t in texts)

    def test_auto_falls_back_when_google_fails_mid_build(
        self,
        tmp_path: Path,
        collection: Collection,
        piper_cache: CueCache,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Google answers the probe, then fails: auto starts over with the next voice, and says why."""
        with FakeGoogle(["ok"] * 4, then="500") as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            choice = choose_voice("auto")
            assert choice.voice.name == "gtts"
            gtts = choice.voice
            assert isinstance(gtts, GttsVoice)
            gtts.retries, gtts.backoff, gtts.timeout = 1, 0.01, 0.5
            result = build(
                cobra_only(tmp_path, collection),
                voice=choice,
                options=BuildOptions(out_dir=tmp_path / "out"),
                cache=piper_cache,
            )
        assert result.voice_reason.startswith("gtts failed during the build (gTTS failed: HTTP 500")
        assert result.voice_reason.endswith("using piper")
        assert "Piper" in result.voice
        assert partial_files(tmp_path / "out", piper_cache.root) == []
        decoded = decode(result.mp3)
        assert abs(decoded.duration_ms - result.timeline.duration_ms) < 50

    def test_named_gtts_failing_writes_nothing(
        self, tmp_path: Path, preset: Callable[[str], Routine]
    ) -> None:
        """A build given gtts stops with a VoiceError; no file, empty or partial, is left anywhere."""
        out, cache_dir = tmp_path / "out", tmp_path / "cache"
        script: list[Behaviour] = ["ok", "ok", "ok", "garbage"]
        with FakeGoogle(script, then="ok") as google:
            gtts, _ = voice(google, retries=1, backoff=0.01)
            gtts.parallel = 1  # deterministic: the fourth cue is the one that gets garbage
            with pytest.raises(VoiceError, match="cannot be decoded"):
                cache = CueCache(cache_dir)
                build(preset("gentle"), voice=gtts, options=BuildOptions(out_dir=out), cache=cache)
        assert not out.exists() or list(out.iterdir()) == []
        assert partial_files(out, cache_dir) == []
        cache = CueCache(cache_dir)
        assert cache.info().entries == 3  # the cues Google did speak are kept, whole
        for path in cache_dir.rglob("*.flac"):
            assert path.stat().st_size > 100

    def test_cli_named_gtts_exit_3(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``build --voice gtts`` with Google failing its check exits 3 with a plain message, before a cue."""
        from stretchcast.cli.main import main

        with FakeGoogle(then="503") as google:
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            code = main(["build", "gentle", "--voice", "gtts", "-o", str(tmp_path / "out")])
        err = capsys.readouterr().err
        assert code == 3
        assert "gTTS unavailable: HTTP 503" in err and len(err.strip().splitlines()) <= 2

    def test_cli_gtts_failing_mid_build_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Google answering the check, then failing on a cue: exit 3, and no file in the output folder."""
        from stretchcast.cli.main import main

        out, cache_dir = tmp_path / "out", tmp_path / "cache"
        with FakeGoogle(["ok", "ok"], then="garbage") as google:  # the check and one cue, then garbage
            monkeypatch.setenv("STRETCHCAST_GTTS_URL", google.url)
            code = main(["build", "gentle", "--voice", "gtts", "-o", str(out), "--cache-dir", str(cache_dir)])
        err = capsys.readouterr().err
        assert code == 3 and "gTTS failed" in err and "Traceback" not in err
        assert google.texts[0] == "Hello." and len(google.texts) > 1  # past the check: cues were asked for
        assert not out.exists() or list(out.iterdir()) == []
        assert partial_files(out, cache_dir) == []


@pytest.mark.net
class TestRealGoogle:
    """Against the real service (deselected by default; run with ``pytest -m net``)."""

    def test_google_speaks(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Google's own endpoint answers a cue with decodable speech of a plausible length."""
        monkeypatch.delenv("STRETCHCAST_GTTS_URL")
        speech = GttsVoice().synthesize("Get into position.")
        assert 500 < speech.duration_ms < 4000 and rms_db(speech.samples) > -40
