"""Map key paths of a YAML (or JSON) document to line numbers, for precise error messages.

Both readers also find duplicate keys, which YAML and JSON parsers otherwise accept silently
(the last one winning): the loader reports each one with the lines of both occurrences.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Lines = dict[tuple[object, ...], int]
# the C parser (libyaml) where PyYAML was built with it: same documents, several times faster
_YamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DuplicateKey:
    """A mapping key written twice: path of the key, and the 1-based lines of both occurrences."""

    path: tuple[object, ...]
    first_line: int
    line: int


@dataclass
class Parsed:
    data: Any
    lines: Lines
    duplicates: list[DuplicateKey] = field(default_factory=list)


def parse_yaml(text: str) -> Parsed:
    """Parse YAML (safe, one pass) into data, {path tuple: 1-based line} and duplicate keys."""
    loader = _YamlLoader(text)
    try:
        node = loader.get_single_node()
        parsed = Parsed(None, {})
        if node is not None:
            _walk(loader, node, (), parsed, set())
            parsed.data = loader.construct_document(node)
        return parsed
    finally:
        loader.dispose()


def load_with_lines(text: str) -> tuple[Any, Lines]:
    """Parse YAML (safe) and return (data, {path tuple: 1-based line})."""
    parsed = parse_yaml(text)
    return parsed.data, parsed.lines


def _key_of(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        try:
            key = loader.construct_object(node)
            hash(key)
            return key
        except (yaml.YAMLError, TypeError, ValueError):
            return node.value
    return ("<complex key>", node.start_mark.line, node.start_mark.column)


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: tuple[object, ...], parsed: Parsed,
          ancestors: set[int]) -> None:
    parsed.lines[path] = node.start_mark.line + 1
    if id(node) in ancestors:       # a recursive alias: its lines are those of its anchor
        return
    ancestors.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = _key_of(loader, key_node)
            line = key_node.start_mark.line + 1
            if key in first:
                parsed.duplicates.append(DuplicateKey((*path, key), first[key], line))
            first.setdefault(key, line)
            _walk(loader, value_node, (*path, key), parsed, ancestors)
            parsed.lines[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(loader, item, (*path, index), parsed, ancestors)
    ancestors.discard(id(node))


_WS = re.compile(r"[ \t\n\r]*")
_SCALAR_END = re.compile(r"[^,\]}\s]*")


def parse_json(text: str) -> Parsed:
    """json.loads, plus the line of every key / array item and the duplicate keys.

    The values are json.loads' own (so what is accepted is exactly JSON); a small scanner over
    the same text records positions, using the decoder's raw_decode for each scalar.
    """
    data = json.loads(text)
    parsed = Parsed(data, {})
    scanner = _JsonLines(text, parsed)
    scanner.value(scanner.skip(0), ())
    return parsed


class _JsonLines:
    def __init__(self, text: str, parsed: Parsed) -> None:
        self.text = text
        self.parsed = parsed
        self.decoder = json.JSONDecoder()
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def skip(self, pos: int) -> int:
        match = _WS.match(self.text, pos)
        return match.end() if match else pos

    def value(self, pos: int, path: tuple[object, ...]) -> int:
        """Record the line of the value at pos (already past whitespace); return the end."""
        text = self.text
        self.parsed.lines[path] = self.line(pos)
        char = text[pos]
        if char == "{":
            pos = self.skip(pos + 1)
            first: dict[str, int] = {}
            if text[pos] == "}":
                return pos + 1
            while True:
                key, end = self.decoder.raw_decode(text, pos)
                line = self.line(pos)
                if key in first:
                    self.parsed.duplicates.append(DuplicateKey((*path, key), first[key], line))
                first.setdefault(key, line)
                pos = self.skip(self.skip(end) + 1)          # past ':'
                pos = self.skip(self.value(pos, (*path, key)))
                self.parsed.lines[(*path, key)] = line
                if text[pos] == "}":
                    return pos + 1
                pos = self.skip(pos + 1)                     # past ','
        if char == "[":
            pos = self.skip(pos + 1)
            if text[pos] == "]":
                return pos + 1
            index = 0
            while True:
                pos = self.skip(self.value(pos, (*path, index)))
                index += 1
                if text[pos] == "]":
                    return pos + 1
                pos = self.skip(pos + 1)
        if char == '"':
            return self.decoder.raw_decode(text, pos)[1]
        match = _SCALAR_END.match(text, pos)
        return match.end() if match else pos + 1


def line_for(lines: Lines, path: tuple[object, ...]) -> int | None:
    """Line of the longest known prefix of path."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())
