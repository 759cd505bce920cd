"""Strict YAML reading with positions: every value knows its file, line and column.

PyYAML's ``safe_load`` throws positions away and silently accepts duplicate keys. Here a
document is composed into nodes (safe resolver only, so ``!!python/object`` and friends are
never constructed), and :class:`Mapping` hands out typed values while remembering which keys
were read, so that unknown keys are reported with a suggestion instead of being ignored.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from stretchcast.content.reading import read_bounded
from stretchcast.content.schema import MAX_NUMBER_CHARS
from stretchcast.content.text import check_text as check_text  # noqa: PLC0414 - the builder uses it
from stretchcast.errors import ContentError, Where, closest, did_you_mean

MAX_FILE_BYTES = 256 * 1024
_NULL = "tag:yaml.org,2002:null"
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


class _TooLongError(Exception):
    """A number written with more characters than any range needs."""

    def __init__(self, chars: int) -> None:
        super().__init__(chars)
        self.chars = chars


_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_TYPE_NAMES = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:seq": "a list",
    "tag:yaml.org,2002:map": "a mapping",
}


#: How deep mappings and lists may nest. A routine file needs 4 levels, an exercise file 3; PyYAML's
#: composer recurses once per level, so a 1 KB file of 500 ``[`` would otherwise end in RecursionError.
MAX_DEPTH = 32


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents nested deeper than :data:`MAX_DEPTH` as it composes.

    The depth is counted in ``compose_node`` before it recurses, so the check runs at depth 33,
    far from Python's recursion limit; scanning and parsing are iterative and need no limit.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                if isinstance(event, yaml.CollectionStartEvent):  # a value at the limit is fine
                    mark = event.start_mark
                    raise _TooDeepError(mark.line if mark else 0, mark.column if mark else 0)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _TooDeepError(Exception):
    def __init__(self, line: int, column: int) -> None:
        super().__init__(line, column)
        self.line = line  # 0-based, as PyYAML counts
        self.column = column


#: libyaml's composer, where PyYAML was built with it: a build's 7 files in 15 ms against the
#: pure-Python composer's 76 ms (docs/ARCHITECTURE.md). Only its successes are used; see _fast.
_CLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)


def _depth(node: yaml.Node) -> int:
    """How deep lists and mappings nest in ``node``: the root collection is at 1, as ``_Loader`` counts."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, yaml.MappingNode):
            stack += [(part, depth + 1) for pair in item.value for part in pair]
        elif isinstance(item, yaml.SequenceNode):
            stack += [(part, depth + 1) for part in item.value]
        else:
            continue  # a value at any depth is fine: only collections count
        deepest = max(deepest, depth)
    return deepest


def _fast(text: str) -> yaml.Node | None:
    """``text`` composed by libyaml, or None where the pure-Python loader must have its say.

    That is whenever libyaml finds fault (the messages and positions people read are PyYAML's,
    and libyaml stops a document at 1,000 levels), the text holds a character PyYAML's reader
    refuses, or it nests deeper than :data:`MAX_DEPTH`: then ``_Loader`` reads it and says why.
    Both build the same nodes with the same safe resolver, tags and start positions (tested on
    every content file).
    """
    if _CLoader is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    loader = _CLoader(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return node if node is not None and _depth(node) <= MAX_DEPTH else None


def read_document(path: Path) -> yaml.Node:
    """Read one YAML document from ``path`` as a node tree, or raise a ContentError saying why."""
    raw = read_bounded(
        path, MAX_FILE_BYTES, what="content file", fix="Check the path, or run 'stretchcast list'."
    )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ContentError(
            f"is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})",
            where=Where(path, line),
            fix="Save the file as UTF-8.",
        ) from None
    fast = _fast(text)
    if fast is not None:
        return fast
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # its reader already refuses unprintable characters
        node = loader.get_single_node()
    except _TooDeepError as err:
        raise ContentError(
            f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
            where=Where(path, err.line + 1, err.column + 1),
            fix="A routine or exercise file needs only a few levels; check the brackets and indentation.",
        ) from None
    except yaml.reader.ReaderError as err:
        # PyYAML refuses most control characters before parsing: say so as the text rule does
        line = text[: err.position].count("\n") + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        code = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
        raise ContentError(
            f"contains a control character (U+{code:04X})", where=Where(path, line, column), fix="Remove it."
        ) from None
    except yaml.MarkedYAMLError as err:
        problem, fix, at_start = _plain_syntax_error(err.problem or err.context or "", err.context or "")
        mark = (err.context_mark if at_start else None) or err.problem_mark or err.context_mark
        raise ContentError(
            f"YAML syntax error: {problem}",
            where=Where(path, mark.line + 1, mark.column + 1) if mark else Where(path),
            fix=fix,
        ) from None
    except yaml.YAMLError as err:
        raise ContentError(f"YAML syntax error: {err}", where=Where(path)) from None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:
        raise ContentError("file is empty", where=Where(path), fix="See content/si-joint/ for examples.")
    return node


# PyYAML's words for common mistakes, and what they mean to a person writing a routine by hand:
# (a phrase in its message, a phrase in its context or "", what to say, the fix, point at the start).
_SYNTAX = (
    (
        "found character '\\t'", "",
        "a tab character", "Indent with spaces only; YAML does not allow tabs.", False,
    ),
    (
        "found unexpected end of stream", "quoted scalar",
        "a quote is opened here and never closed", "Close the quote on the same line, or remove it.", True,
    ),
    (
        "expected <block end>", "",
        "this line is indented differently from the lines around it",
        "Line up keys of the same level under each other, with spaces.", False,
    ),
    (
        "mapping values are not allowed here", "",
        "a ':' where none can be",
        "Put a space after each 'key:', and quote text that contains ': '.", False,
    ),
    (
        "could not find expected ':'", "",
        "a line that is not 'key: value'",
        "Write each setting as 'key: value' (a space after the colon).", False,
    ),
    (
        "<stream end>", "",
        "the file ends in the middle of something",
        "Close every '[' with ']' and every '{' with '}', or write lists as '- item' lines.", False,
    ),
    (
        "expected a single document", "",
        "more than one document in the file ('---')",
        "A routine file is one document: remove the '---' line and what is not the routine.", False,
    ),
)  # fmt: skip


def _plain_syntax_error(problem: str, context: str) -> tuple[str, str, bool]:
    """PyYAML's ``problem`` in plain words, a fix, and whether to point where it started."""
    for phrase, in_context, plain, fix, at_start in _SYNTAX:
        if phrase in problem and in_context in context:
            return plain, fix, at_start
    return (
        problem or "invalid YAML",
        "Check indentation (spaces, lined up) and that every 'key: value' has a space after the colon.",
        False,
    )


class Mapping:
    """A YAML mapping node whose values are read with type and range checks, each error positioned."""

    def __init__(self, node: yaml.Node, path: Path, field: str = "", *, fix: str | None = None) -> None:
        self.path = path
        self.field = field
        self.node = node
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                f"expected a mapping of 'key: value' lines, found {_describe(node)}", node=node, fix=fix
            )
        self._items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            _check_tag(key_node, path, self._field(str(getattr(key_node, "value", "?"))))
            if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key_node.value, str):
                raise self.error("keys must be plain words", node=key_node)
            key = key_node.value
            if key in self._items:
                first = self._items[key][0].start_mark.line + 1
                raise self.error(
                    f"'{key}' is given twice (first on line {first})",
                    node=key_node,
                    key=key,
                    fix="Keep one of them.",
                )
            self._items[key] = (key_node, value_node)
        self._read: set[str] = set()

    # -- positions and errors -------------------------------------------------------------
    def _field(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.field}[{key}]"
        return f"{self.field}.{key}" if self.field else key

    def where(self, key: str | None = None, node: yaml.Node | None = None) -> Where:
        """Where ``key`` (or ``node``, or this mapping) is in its file."""
        if node is None:
            node = self._items[key][1] if key is not None and key in self._items else self.node
        mark = node.start_mark
        return Where(
            self.path,
            mark.line + 1,
            mark.column + 1,
            self._field(key) if key else self.field or None,
        )

    def error(
        self,
        problem: str,
        *,
        key: str | None = None,
        node: yaml.Node | None = None,
        fix: str | None = None,
    ) -> ContentError:
        """A ContentError positioned at ``key`` or ``node``."""
        return ContentError(problem, where=self.where(key, node), fix=fix)

    def _key_where(self, key: str) -> Where:
        mark = self._items[key][0].start_mark
        return Where(self.path, mark.line + 1, mark.column + 1, self._field(key))

    def has(self, key: str) -> bool:
        """Whether ``key`` is present (it still has to be read to count as known)."""
        return key in self._items

    def keys(self) -> list[str]:
        """The keys, in file order."""
        return list(self._items)

    # -- typed access ------------------------------------------------------------------------
    def _node(self, key: str, required: bool) -> yaml.Node | None:
        self._read.add(key)
        if key not in self._items:
            if required:
                # A misspelt key is more helpful to point at than the missing one it was meant to be.
                typo = closest(key, [k for k in self._items if k not in self._read])
                if typo:
                    raise ContentError(
                        f"unknown field '{typo}'",
                        where=self._key_where(typo),
                        fix=f"Did you mean '{key}'?",
                    )
                raise self.error(f"required field '{key}' is missing", fix=f"Add a '{key}:' line.")
            return None
        return self._items[key][1]

    def _scalar(self, key: str, required: bool) -> Any:
        node = self._node(key, required)
        if node is None:
            return None
        _check_tag(node, self.path, self._field(key))
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(f"expected a single value, found {_describe(node)}", key=key)
        if node.tag in _NUMBER_TAGS and len(str(node.value)) > MAX_NUMBER_CHARS:
            # out of every range; converting it could overflow or hit int()'s digit limit
            raise _TooLongError(len(str(node.value)))
        return yaml.constructor.SafeConstructor().construct_object(node)

    def _number(self, key: str, required: bool, fix: str) -> Any:
        """The scalar at ``key``, with a number too long for any range reported as out of range."""
        try:
            return self._scalar(key, required)
        except _TooLongError as err:
            problem = f"a number {err.chars} characters long is out of range"
            raise self.error(problem, key=key, fix=fix) from None

    def text(self, key: str, *, required: bool = True, max_len: int = 300) -> str | None:
        """A non-empty line of text, taken as written (so ``title: 2024-05-01`` stays text)."""
        node = self._node(key, required)
        if node is None:
            return None
        _check_tag(node, self.path, self._field(key))
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(f"expected text, found {_describe(node)}", key=key)
        if node.tag == _NULL:
            # 'title: ~' or 'title:' would otherwise be the text "~" or nothing, spoken as such
            raise self.error(
                f"expected text, found nothing ({node.value or 'an empty value'!s})",
                key=key,
                fix=f"Write the text after '{key}:', or remove the line.",
            )
        return check_text(str(node.value), self.where(key), max_len=max_len)

    def integer(self, key: str, *, lo: int, hi: int, required: bool = True) -> int | None:
        """A whole number within [lo, hi]."""
        value = self._number(key, required, f"Use a number from {lo} to {hi}.")
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(
                f"expected a whole number, found {_as_written(value)}",
                key=key,
                fix=f"Use a number from {lo} to {hi}.",
            )
        if not lo <= value <= hi:
            raise self.error(f"{value} is out of range", key=key, fix=f"Use a number from {lo} to {hi}.")
        return value

    def numeric(self, key: str, *, fix: str, required: bool = True) -> float | None:
        """Any finite number; ``fix`` says what to write instead of a non-number."""
        value = self._number(key, required, fix)
        if value is None and not required:
            return None
        if isinstance(value, str) and len(value) <= MAX_NUMBER_CHARS:
            # YAML 1.1 reads "1e30" (no dot) as text; people mean a number.
            with contextlib.suppress(ValueError):
                value = float(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.error(f"expected a number, found {_as_written(value)}", key=key, fix=fix)
        return float(value)

    def number(self, key: str, *, lo: float, hi: float, required: bool = True) -> float | None:
        """A number (whole or decimal) within [lo, hi]."""
        value = self.numeric(key, fix=f"Use a number from {lo:g} to {hi:g}.", required=required)
        if value is None:
            return None
        if not lo <= value <= hi:
            raise self.error(
                f"{value:g} is out of range", key=key, fix=f"Use a number from {lo:g} to {hi:g}."
            )
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        """true or false."""
        value = self._scalar(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, found {_as_written(value)}", key=key)
        return value

    def texts(
        self, key: str, *, required: bool = True, max_items: int = 20, max_len: int = 300
    ) -> tuple[str, ...]:
        """A list of non-empty lines of text."""
        node = self._node(key, required)
        if node is None:
            return ()
        _check_tag(node, self.path, self._field(key))
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"expected a list ('- item' lines), found {_describe(node)}", key=key)
        if required and not node.value:
            raise self.error(f"'{key}' must list at least one item", key=key)
        if len(node.value) > max_items:
            raise self.error(f"lists {len(node.value)} items; at most {max_items} are allowed", key=key)
        out: list[str] = []
        for i, item in enumerate(node.value):
            field = f"{self._field(key)}[{i}]"
            _check_tag(item, self.path, field)
            if not isinstance(item, yaml.ScalarNode):
                raise ContentError(
                    f"expected a line of text, found {_describe(item)}",
                    where=Where(self.path, item.start_mark.line + 1, item.start_mark.column + 1, field),
                )
            mark = item.start_mark
            where = Where(self.path, mark.line + 1, mark.column + 1, field)
            out.append(check_text(str(item.value), where, max_len=max_len))
        return tuple(out)

    def mapping(self, key: str, *, required: bool = True) -> Mapping | None:
        """A nested mapping."""
        node = self._node(key, required)
        if node is None:
            return None
        _check_tag(node, self.path, self._field(key))
        return Mapping(node, self.path, self._field(key))

    def mappings(
        self, key: str, *, required: bool = True, max_items: int = 50, item_fix: str | None = None
    ) -> list[Mapping]:
        """A list of mappings."""
        node = self._node(key, required)
        if node is None:
            return []
        _check_tag(node, self.path, self._field(key))
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(f"expected a list ('- id: ...' lines), found {_describe(node)}", key=key)
        if required and not node.value:
            raise self.error(f"'{key}' is empty", key=key, fix="List at least one item.")
        if len(node.value) > max_items:
            raise self.error(f"lists {len(node.value)} items; at most {max_items} are allowed", key=key)
        out = []
        for i, item in enumerate(node.value):
            _check_tag(item, self.path, f"{self._field(key)}[{i}]")
            out.append(Mapping(item, self.path, f"{self._field(key)}[{i}]", fix=item_fix))
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def finish(self, allowed: list[str] | None = None) -> None:
        """Reject any key that was never read: unknown keys are errors, with a suggestion."""
        for key in self._items:
            if key not in self._read:
                known = sorted(allowed if allowed is not None else self._read)
                hint = did_you_mean(key, known)
                raise ContentError(
                    f"unknown field '{key}'",
                    where=self._key_where(key),
                    fix=f"{hint}Allowed here: {', '.join(known)}.",
                )


def _check_tag(node: yaml.Node, path: Path, field: str) -> None:
    """Refuse explicit tags (``!!python/object`` and the like): content is plain data only."""
    if isinstance(node, yaml.ScalarNode):
        ok = node.tag in _PLAIN_TAGS or node.tag == "tag:yaml.org,2002:timestamp"
    elif isinstance(node, yaml.SequenceNode):
        ok = node.tag == "tag:yaml.org,2002:seq"
    else:
        ok = node.tag == "tag:yaml.org,2002:map"
    if ok:
        return
    mark = node.start_mark
    raise ContentError(
        f"YAML tag '{node.tag}' is not allowed",
        where=Where(path, mark.line + 1, mark.column + 1, field or None),
        fix="Content files hold plain text, numbers, lists and mappings only; remove the '!' tag.",
    )


def _as_written(value: Any) -> str:
    """A value as YAML spells it (true, not True), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return repr(value) if isinstance(value, str) else str(value)


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f"{_TYPE_NAMES.get(node.tag, 'a value')} ({node.value!r})"
    return _TYPE_NAMES.get(node.tag, "something else")
