"""Map key paths of a YAML document to line numbers, for precise error messages."""

from __future__ import annotations

from typing import Any

import yaml


def load_with_lines(text: str) -> tuple[Any, dict[tuple[object, ...], int]]:
    """Parse YAML (safe) and return (data, {path tuple: 1-based line})."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: dict[tuple[object, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    data = yaml.safe_load(text)
    return data, lines


def _walk(node: yaml.Node, path: tuple[object, ...], lines: dict[tuple[object, ...], int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)


def line_for(lines: dict[tuple[object, ...], int], path: tuple[object, ...]) -> int | None:
    """Line of the longest known prefix of path."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())
