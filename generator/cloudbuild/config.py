"""A build config file (YAML or JSON) parsed into nodes that remember their line numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.cloudbuild.schema import camel

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Node:
    """A parsed YAML/JSON value with the line (1-based) it starts on."""

    value: Any  # dict[str, Node] | list[Node] | scalar
    line: int
    block_literal: bool = False  # `|` style scalar: content starts on the next line
    key_lines: dict[str, int] = field(default_factory=dict)


class ConfigSyntaxError(Exception):
    """The file is not valid YAML/JSON; `line` is 1-based (0 when unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Parsed:
    root: Node | None  # None for an empty document
    duplicates: list[tuple[int, str]]  # (line, key) of keys repeated in one mapping


def _merged_pairs(node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
    """The mapping's pairs with YAML merge keys (`<<: *base`) expanded in place."""
    merged: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != "tag:yaml.org,2002:merge":
            merged.append((key_node, value_node))
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for src in sources:
            if isinstance(src, yaml.MappingNode):
                merged.extend(src.value)
    return merged


class _Converter:
    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.duplicates: list[tuple[int, str]] = []

    def node(self, node: yaml.Node, stack: frozenset[int] = frozenset()) -> Node:
        line = node.start_mark.line + 1
        if id(node) in stack:  # a recursive alias (&a [*a]): Cloud Build cannot use it either
            raise ConfigSyntaxError(
                line, "invalid YAML: an alias refers to a node that contains it"
            )
        stack = stack | {id(node)}
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, stack)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.node(item, stack) for item in node.value], line)
        value = self.loader.construct_object(node, deep=True)
        return Node(value, line, block_literal=getattr(node, "style", None) == "|")

    def mapping(self, node: yaml.MappingNode, stack: frozenset[int]) -> Node:
        out: dict[str, Node] = {}
        key_lines: dict[str, int] = {}
        explicit = {id(k) for k, _ in node.value}
        for key_node, value_node in _merged_pairs(node):
            key = self.loader.construct_object(key_node, deep=True)
            key_str = key if isinstance(key, str) else str(key)
            if key_str in out and id(key_node) in explicit:
                self.duplicates.append((key_node.start_mark.line + 1, key_str))
            out[key_str] = self.node(value_node, stack)
            key_lines[key_str] = key_node.start_mark.line + 1
        return Node(out, node.start_mark.line + 1, key_lines=key_lines)


def _check_json(text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigSyntaxError(
            exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"
        ) from exc
    # valid JSON holds raw tabs only as whitespace, which YAML rejects: same lines, no tabs
    return text.replace("\t", " ")


def parse(text: str, is_json: bool = False) -> Parsed:
    """Parse a config; raise ConfigSyntaxError with a line number on syntax errors."""
    if is_json:
        text = _check_json(text)
    loader = yaml.SafeLoader(text)
    converter = _Converter(loader)
    try:
        root = loader.get_single_node()
        return Parsed(None if root is None else converter.node(root), converter.duplicates)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        context = f" ({exc.context})" if exc.context else ""
        raise ConfigSyntaxError(line, f"invalid YAML: {exc.problem or exc}{context}") from exc
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(0, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def get(node: Node | None, key: str) -> Node | None:
    """Child by camelCase key, accepting its snake_case spelling too."""
    if node is None or not isinstance(node.value, dict):
        return None
    children: dict[str, Node] = node.value
    return next((c for k, c in children.items() if k == key or camel(k) == key), None)


def items(node: Node | None) -> list[Node]:
    """The items of a list node ([] for anything else)."""
    if node is None or not isinstance(node.value, list):
        return []
    return list(node.value)


def strings(node: Node | None) -> list[Node]:
    """The string items of a list node."""
    return [n for n in items(node) if isinstance(n.value, str)]


def string(node: Node | None) -> str | None:
    return node.value if node is not None and isinstance(node.value, str) else None


def type_name(value: Any) -> str:
    """How a message names the YAML type of a value."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "a string"
    return f"a YAML {type(value).__name__}"
