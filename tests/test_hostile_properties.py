"""Issue 21's failure classes, generated rather than only the examples: nesting depth, integer size,
text with control characters, real emoji sequences and odd paths.

Each property counts the cases it ran in ``RAN``; ``test_every_property_ran_many_cases`` (last in
the file) checks the counts, and docs/RELIABILITY.md records them from a run with
``--hypothesis-show-statistics``.
"""

from __future__ import annotations

import collections
import os
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stretchcast.content import Collection, load_routine
from stretchcast.content.reading import read_bounded
from stretchcast.content.schema import TITLE
from stretchcast.content.strict_yaml import MAX_DEPTH, read_document
from stretchcast.content.text import unprintable
from stretchcast.errors import ContentError, OutputError, StretchcastError, Where, shown
from stretchcast.output.files import check_outputs

RAN: collections.Counter[str] = collections.Counter()
SETTINGS = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _plain(err: StretchcastError) -> None:
    """The message a person sees: one or two lines, no traceback, no raw control characters."""
    lines = err.message.splitlines()
    assert 1 <= len(lines) <= 2, err.message
    assert all(line.isprintable() for line in lines), err.message


# -- nesting depth -------------------------------------------------------------------------------


def _nested(kind: str, depth: int) -> str:
    """A document whose innermost value sits ``depth`` lists or mappings deep (the root counts)."""
    inner = depth - 1
    if kind == "flow-list":
        return "x: " + "[" * inner + "]" * inner + "\n"
    if kind == "flow-map":
        return "x: " + "{a: " * inner + "1" + "}" * inner + "\n"
    if kind == "block-list":
        return "x:\n" + "".join("  " * i + "- \n" for i in range(1, inner + 1))
    return "x:\n" + "".join("  " * i + "a:\n" for i in range(1, inner + 1))


@SETTINGS
@given(
    kind=st.sampled_from(["flow-list", "flow-map", "block-list", "block-map"]),
    depth=st.one_of(st.integers(2, 2 * MAX_DEPTH), st.integers(2, 3000)),
)
def test_nesting_depth(tmp_path: Path, kind: str, depth: int) -> None:
    """Up to the limit a document is read; past it, one plain error pointing into the file, never RecursionError."""
    RAN["nesting depth"] += 1
    if kind.startswith("block"):
        depth = min(depth, 300)  # indentation grows as depth squared; 300 levels is 90 KB
    path = tmp_path / "deep.yaml"
    path.write_text(_nested(kind, depth))
    if depth <= MAX_DEPTH:
        read_document(path)
        return
    with pytest.raises(ContentError, match=f"nested more than {MAX_DEPTH} levels deep") as caught:
        read_document(path)
    _plain(caught.value)
    assert caught.value.where is not None and caught.value.where.line is not None


# -- integer size --------------------------------------------------------------------------------

GOOD = "title: Mine\nexercises:\n  - id: knee-sways\n"


@SETTINGS
@given(
    value=st.one_of(
        st.integers(-(10**600), 10**600).map(str),
        st.integers(0, 100).map(str),
        st.integers(1, 6000).map(lambda n: "9" * n),
    ),
    field=st.sampled_from(["reps", "hold", "rest", "sets", "pace"]),
)
def test_integer_size(tmp_path: Path, collection: Collection, value: str, field: str) -> None:
    """Any whole number in a dose field loads (within range) or is one plain out-of-range error."""
    RAN["integer size"] += 1
    path = tmp_path / "r.yaml"
    path.write_text(GOOD + f"    {field}: {value}\n")
    try:
        routine = load_routine(collection, path)
    except ContentError as err:
        _plain(err)
        assert "out of range" in err.problem or "outside its allowed range" in err.problem, err.message
        assert err.where is not None and err.where.line == 4
        return
    rng = collection.exercise("knee-sways").ranges.of(field)
    assert rng.min <= getattr(routine.items[0].dose, field) == int(value) <= rng.max


@SETTINGS
@given(value=st.one_of(st.integers(-(10**600), 10**600), st.integers(1, 6000).map(lambda n: "9" * n)))
def test_integer_size_set(collection: Collection, value: int | str) -> None:
    """--set with any whole number is applied within range or refused in two plain lines."""
    RAN["integer size (--set)"] += 1
    routine = load_routine(collection, "standard")
    try:
        changed = routine.with_overrides([f"knee-sways.rest={value}"])
    except StretchcastError as err:
        _plain(err)
        assert err.exit_code == 2
        return
    assert {i.exercise.id: i.dose.rest for i in changed.items}["knee-sways"] == int(value)


# -- text with control characters ----------------------------------------------------------------

_CONTROLS = st.characters(categories=["Cc", "Cf", "Zl", "Zp"]).filter(lambda c: c not in "\n\u200c\u200d")


@SETTINGS
@given(
    before=st.text(st.characters(categories=["L", "N", "P", "S"]), max_size=30),
    control=_CONTROLS,
    after=st.text(st.characters(categories=["L", "N", "P", "S"]), max_size=30),
)
def test_text_with_controls(before: str, control: str, after: str) -> None:
    """A control character anywhere in a title is refused by name where it is read and where it is written."""
    RAN["text with controls"] += 1
    text = f"t{before}{control}{after}t"
    assert unicodedata.category(control)[0] in "CZ"
    with pytest.raises(ContentError, match=r"contains a control character \(U\+") as caught:
        TITLE.check(text)
    _plain(caught.value)


@SETTINGS
@given(text=st.text(max_size=200))
def test_shown_is_one_printable_line(text: str) -> None:
    """Any text a person typed is shown on one line with no raw control character."""
    RAN["names shown escaped"] += 1
    out = shown(text)
    assert out.isprintable() and "\n" not in out
    assert str(Where(text, field=text)).isprintable()
    if text.isprintable():
        assert out == text


# -- emoji sequences -----------------------------------------------------------------------------

_PEOPLE = st.sampled_from(
    ["\U0001f9d8", "\U0001f3c3", "\U0001f469", "\U0001f468", "\U0001f9d1", "\U0001f64b"]
)
_TONES = st.sampled_from(["", *(chr(c) for c in range(0x1F3FB, 0x1F400))])
_GENDER = st.sampled_from(
    ["", "\u200d\u2640\ufe0f", "\u200d\u2642\ufe0f", "\u200d\u2640", "\u200d\U0001f4bb"]
)
_REGION = st.characters(min_codepoint=0x1F1E6, max_codepoint=0x1F1FF)
_SUBDIVISION = st.sampled_from(["gbeng", "gbsct", "gbwls", "usca", "ustx"]).map(
    lambda code: "\U0001f3f4" + "".join(chr(0xE0000 + ord(c)) for c in code) + "\U000e007f"
)
_EMOJI = st.one_of(
    st.tuples(_PEOPLE, _TONES, _GENDER).map("".join),
    st.tuples(_REGION, _REGION).map("".join),
    _SUBDIVISION,
    st.sampled_from(["\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u2764\ufe0f\u200d\U0001f525"]),
)


@SETTINGS
@given(
    emoji=st.lists(_EMOJI, min_size=1, max_size=4),
    words=st.lists(st.sampled_from(["Calm", "morning", "SI", "stretch", "für", "ヨガ", "योग"]), max_size=3),
)
def test_emoji_sequences(tmp_path: Path, collection: Collection, emoji: list[str], words: list[str]) -> None:
    """A title made of real emoji sequences and words in any script is accepted and read back as written."""
    RAN["emoji sequences"] += 1
    title = ""
    for part in [*emoji, *words]:  # whole sequences only, as many as the length limit allows
        if len(f"{title} {part}".strip()) <= TITLE.max_len:
            title = f"{title} {part}".strip()
    assert unprintable(title) is None, ascii(title)
    assert TITLE.check(title) == title
    path = tmp_path / "r.yaml"
    path.write_text(f'title: "{title}"\n' + GOOD.split("\n", 1)[1], encoding="utf-8")
    assert load_routine(collection, path).title == title


# -- odd paths -----------------------------------------------------------------------------------


def _make(kind: str, where: Path) -> bool:
    """Put something of ``kind`` at ``where``; whether anything exists there afterwards."""
    if kind == "missing":
        return False
    if kind == "fifo":
        os.mkfifo(where)
    elif kind == "device":
        where.symlink_to("/dev/zero")
    elif kind == "loop":
        where.symlink_to(where.name)
    elif kind == "dangling":
        where.symlink_to("nowhere")
    elif kind == "folder":
        where.mkdir()
    elif kind == "huge":
        where.write_bytes(b"#" * (300 * 1024))
    elif kind == "empty":
        where.write_bytes(b"")
    elif kind == "file":
        where.write_text(GOOD)
    return True


_KINDS = ["missing", "fifo", "device", "loop", "dangling", "folder", "huge", "empty", "file"]
_NAMES = st.text(
    st.characters(exclude_characters="/\x00", exclude_categories=["Cs"]), min_size=1, max_size=40
).filter(lambda n: n not in {".", ".."} and len(os.fsencode(n)) < 200)


@SETTINGS
@given(kind=st.sampled_from(_KINDS), name=_NAMES, through_file=st.booleans())
def test_odd_paths_read(
    tmp_path_factory: pytest.TempPathFactory, kind: str, name: str, through_file: bool
) -> None:
    """Whatever is at a path, a bounded read returns a regular file's bytes or says truly why not, at once."""
    RAN["odd paths (read)"] += 1
    root = tmp_path_factory.mktemp("odd")
    parent = root
    if through_file:
        (root / "f").write_text("x")
        parent = root / "f"
    path = parent / name
    exists = not through_file and _make(kind, path)
    try:
        data = read_bounded(path, 256 * 1024, what="content file")
    except ContentError as err:
        _plain(err)
        assert ("not found" in err.problem) == (not exists and not through_file) or kind == "dangling"
        assert kind != "file" or through_file
        return
    assert exists and kind in {"file", "empty"}
    assert data == path.read_bytes()


_SPOILERS: dict[str, Callable[[Path], object]] = {
    "nothing": lambda p: None,
    "folder": lambda p: p.mkdir(),
    "loop": lambda p: p.symlink_to(p.name),
    "file": lambda p: p.write_text("old"),
}


@SETTINGS
@given(
    spoil=st.dictionaries(
        st.sampled_from([".mp3", ".json", ".vtt", ".png", ".m3u8", ""]),
        st.sampled_from(sorted(_SPOILERS)),
        max_size=3,
    ),
    split=st.booleans(),
)
def test_odd_paths_output(
    tmp_path_factory: pytest.TempPathFactory, spoil: dict[str, str], split: bool
) -> None:
    """check_outputs refuses exactly the layouts a build could not write into, in two plain lines."""
    RAN["odd paths (output)"] += 1
    out = tmp_path_factory.mktemp("out")
    for suffix, kind in spoil.items():
        _SPOILERS[kind](out / f"track{suffix}")
    blocked = any(
        (kind == "loop" and (suffix or split))
        or (kind == "folder" and suffix)
        or (suffix == "" and split and kind == "file")
        for suffix, kind in spoil.items()
    )
    try:
        check_outputs(out, "track", split=split)
    except OutputError as err:
        _plain(err)
        assert err.fix and blocked, err.message
        return
    assert not blocked


def test_every_property_ran_many_cases() -> None:
    """Each property above ran at least 50 generated cases in this session (when they ran)."""
    if not RAN:
        pytest.skip("run with the properties above")
    assert {name: n for name, n in RAN.items() if n < 50} == {}, RAN
    print("generated cases per property:", dict(RAN))
