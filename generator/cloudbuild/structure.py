"""Keys, nesting and value types of a build config, checked against the Build schema.

Everything comes from the schema snapshot (generated from the discovery document) except the
few rules below that concern config *files* rather than the API resource, which the discovery
document does not state (see https://cloud.google.com/build/docs/build-config-file-schema).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from generator.cloudbuild.config import Node, type_name
from generator.cloudbuild.findings import Sink, hint
from generator.cloudbuild.schema import BuildSchema, Schema, Type

# Fields of the resource a config file cannot set: (schema, field) -> message.
NOT_IN_CONFIG_FILE: Mapping[tuple[str, str], str] = {
    ("Build", "source"): (
        "a build config file cannot specify 'source': the trigger or 'gcloud builds submit' "
        "provides it; remove the key"
    ),
}
# Keys an entry needs in a config file although the discovery document does not mark them
# "Required." (an entry without them cannot work: a secret without the variable it sets, a
# volume without a path, an upload without a destination). Each name is checked against the
# snapshot by tests/test_cloudbuild_schema.py.
CONFIG_FILE_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "Volume": ("name", "path"),
    "Secret": ("kmsKeyName",),
    "SecretManagerSecret": ("versionName", "env"),
    "InlineSecret": ("kmsKeyName",),
    "ArtifactObjects": ("location", "paths"),
}

_DURATION = re.compile(r"^\d+(\.\d+)?s$")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}
_STRINGS = frozenset({"string", "bytes", "timestamp"})


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


@dataclass
class StructureChecker:
    """Checks one parsed config against the schema, reporting into `sink`."""

    sink: Sink
    schema: BuildSchema

    def check(self, root: Node) -> None:
        self.object(root, self.schema.root, "")

    def object(self, node: Node, schema: Schema, path: str) -> None:
        if not isinstance(node.value, dict):
            self.sink.error(node.line, f"{path} must be a mapping, not {type_name(node.value)}")
            return
        present: set[str] = set()
        for key, child in node.value.items():
            name = self.key(schema, key, child, node.key_lines.get(key, child.line), path)
            if name:
                present.add(name)
        where = f"{path}: " if path else ""
        required = {n for n, f in schema.fields.items() if f.required}
        required |= set(CONFIG_FILE_REQUIRED.get(schema.name, ()))
        for req in sorted(required - present):
            self.sink.error(node.line, f"{where}{schema.name} is missing the required key '{req}'")

    def key(self, schema: Schema, key: str, child: Node, line: int, path: str) -> str:
        """Check one key and its value; returns the field's name ('' when it is refused)."""
        where = f"{path}: " if path else ""
        field = schema.field(key)
        if field is None:
            known = schema.settable()
            self.sink.error(
                line,
                f"{where}unknown {schema.name} key '{key}'{hint(key, known)} "
                f"Known {schema.name} keys: {', '.join(known)}",
            )
            return ""
        if field.output_only or field.type is None:
            self.sink.error(
                line,
                f"{where}'{key}' is output-only in the Cloud Build API ({schema.name}."
                f"{field.name}); Cloud Build ignores it in a config file: remove it",
            )
            return ""
        refused = NOT_IN_CONFIG_FILE.get((schema.name, field.name))
        if refused:
            self.sink.error(line, refused)
            return ""
        if field.deprecated:
            self.sink.warning(
                line, f"{where}'{key}' is deprecated in the Cloud Build API: {field.deprecated}"
            )
        self.value(child, field.type, f"{path}.{key}" if path else key)
        return field.name

    def value(self, node: Node, t: Type, path: str) -> None:
        check = _VALUE_CHECKS.get(t.kind)
        if check is None:
            raise AssertionError(f"unknown type kind {t.kind!r} in the schema snapshot")
        check(self, node, t, path)

    def string(self, node: Node, t: Type, path: str) -> None:
        if not isinstance(node.value, str):
            self.sink.error(
                node.line, f"{path} must be a string, not {type_name(node.value)}; quote it"
            )

    def boolean(self, node: Node, t: Type, path: str) -> None:
        if not isinstance(node.value, bool):
            self.sink.error(node.line, f"{path} must be true or false, not {node.value!r}")

    def integer(self, node: Node, t: Type, path: str) -> None:
        low, high = _INT_RANGES[t.kind]
        number = _as_int(node.value)
        if number is None:
            self.sink.error(node.line, f"{path} must be an integer, not {node.value!r}")
        elif not low <= number <= high:
            self.sink.error(node.line, f"{path} must be an integer from {low} to {high}")

    def number(self, node: Node, t: Type, path: str) -> None:
        value = node.value
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok and not (isinstance(value, str) and _NUMBER.match(value)):
            self.sink.error(node.line, f"{path} must be a number, not {value!r}")

    def duration(self, node: Node, t: Type, path: str) -> None:
        if not (isinstance(node.value, str) and _DURATION.match(node.value)):
            self.sink.error(
                node.line,
                f"{path} must be a duration in seconds with an 's' suffix, e.g. '600s' or "
                f"'1.5s', not {node.value!r}",
            )

    def enum(self, node: Node, t: Type, path: str) -> None:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            return  # the API also accepts enum numbers
        if isinstance(value, str) and value in t.deprecated_values:
            current = [v for v in t.values if v not in t.deprecated_values]
            self.sink.warning(
                node.line,
                f"{path}: '{value}' is deprecated in the Cloud Build API "
                f"({t.deprecated_values[value]}): use one of {', '.join(current)}",
            )
            return
        if not isinstance(value, str) or value not in t.values:
            shown = value if isinstance(value, str) else repr(value)
            self.sink.error(
                node.line,
                f"{path} has unknown value '{shown}'{hint(str(shown), t.values)} "
                f"Allowed: {', '.join(sorted(t.values))}",
            )

    def array(self, node: Node, t: Type, path: str) -> None:
        if not isinstance(node.value, list):
            self.sink.error(node.line, f"{path} must be a list, not {type_name(node.value)}")
            return
        assert t.item is not None
        for i, item in enumerate(node.value):
            self.value(item, t.item, f"{path}[{i}]")

    def mapping(self, node: Node, t: Type, path: str) -> None:
        assert t.item is not None
        if not isinstance(node.value, dict):
            of = "strings" if t.item.kind in _STRINGS else "values"
            self.sink.error(
                node.line, f"{path} must be a mapping of names to {of}, not {type_name(node.value)}"
            )
            return
        for k, item in node.value.items():
            self.value(item, t.item, f"{path}.{k}")

    def reference(self, node: Node, t: Type, path: str) -> None:
        self.object(node, self.schema[t.ref], path)

    def anything(self, node: Node, t: Type, path: str) -> None:
        return


_VALUE_CHECKS: Mapping[str, Callable[[StructureChecker, Node, Type, str], None]] = {
    **{kind: StructureChecker.string for kind in _STRINGS},
    **{kind: StructureChecker.integer for kind in _INT_RANGES},
    "bool": StructureChecker.boolean,
    "number": StructureChecker.number,
    "duration": StructureChecker.duration,
    "enum": StructureChecker.enum,
    "array": StructureChecker.array,
    "map": StructureChecker.mapping,
    "object": StructureChecker.reference,
    "any": StructureChecker.anything,
}


def check_structure(sink: Sink, root: Node, schema: BuildSchema) -> None:
    """Report unknown, output-only and deprecated keys, missing required keys, wrong types."""
    StructureChecker(sink, schema).check(root)
