"""A dashboard's JSON against the Monitoring API v1 ``Dashboard`` schema snapshot.

The checks are the discovery document's: every key a field of its schema (camelCase, as the
API writes it), no output-only or deprecated field, every "Required." field present, values of
the field's type (durations as ``"<seconds>s"``, 64-bit integers as JSON numbers or digit
strings, enums among their values, arrays, maps and nested objects recursively). A dashboard
needs exactly one layout (the API's ``oneof layout``, which the discovery document states only
in prose).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

SNAPSHOT = "dashboard_schema.json"
ROOT = "Dashboard"
LAYOUTS = ("gridLayout", "mosaicLayout", "rowLayout", "columnLayout")
DASHBOARD_TYPE = "google_monitoring_dashboard"

_DURATION = re.compile(r"^-?\d+(\.\d+)?s$")
_INTEGER = re.compile(r"^-?\d+$")
_INT_RANGES = {
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


class SchemaSnapshotError(RuntimeError):
    """The packaged snapshot is missing or malformed: run tools/refresh_monitoring_schema.py."""


@dataclass(frozen=True)
class DashboardFinding:
    """One problem: where in the dashboard JSON (a JSON path), and what is wrong."""

    path: str
    message: str
    address: str = ""  # the planned resource, for findings from plans
    root: str = ""  # the Terraform root of that plan

    def one_line(self) -> str:
        where = f"{self.address}: " if self.address else ""
        return f"{where}{self.path}: {self.message}"


@cache
def schemas() -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """The snapshot's schemas (read once)."""
    try:
        text = resources.files(__package__).joinpath(SNAPSHOT).read_text(encoding="utf-8")
        data = json.loads(text)
        found: Mapping[str, Mapping[str, Mapping[str, Any]]] = data["schemas"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SchemaSnapshotError(
            f"cannot read generator/monitoring/{SNAPSHOT} ({exc!r}): reinstall the package or "
            "run tools/refresh_monitoring_schema.py"
        ) from exc
    if ROOT not in found:
        raise SchemaSnapshotError(f"generator/monitoring/{SNAPSHOT} has no {ROOT} schema")
    return found


def check_dashboard(value: Any) -> list[DashboardFinding]:
    """Every way `value` (the parsed dashboard JSON) departs from the v1 Dashboard schema."""
    findings = list(_check_object(value, ROOT, "$"))
    if isinstance(value, Mapping):
        layouts = [k for k in LAYOUTS if k in value]
        if len(layouts) != 1:
            findings.append(DashboardFinding(
                "$", f"a dashboard needs exactly one layout of {', '.join(LAYOUTS)}; has "
                f"{', '.join(layouts) or 'none'}"))
    return findings


def _check_object(value: Any, schema: str, path: str) -> Iterator[DashboardFinding]:
    if not isinstance(value, Mapping):
        yield DashboardFinding(path, f"must be an object ({schema}), not {_kind(value)}")
        return
    fields = schemas()[schema]
    for key, item in value.items():
        field = fields.get(str(key))
        where = f"{path}.{key}"
        if field is None:
            known = ", ".join(sorted(k for k, f in fields.items() if not f.get("output_only")))
            yield DashboardFinding(where, f"{schema} has no field {key!r} (it has: {known})")
        elif field.get("output_only"):
            yield DashboardFinding(where, f"{schema}.{key} is output only: remove it")
        elif field.get("deprecated"):
            yield DashboardFinding(where, f"{schema}.{key} is deprecated: {field['deprecated']}")
        else:
            yield from _check_value(item, field, where)
    for key, field in fields.items():
        if field.get("required") and key not in value:
            yield DashboardFinding(path, f"{schema}.{key} is required")


def _check_value(value: Any, field: Mapping[str, Any], path: str) -> Iterator[DashboardFinding]:
    kind = str(field.get("type"))
    if kind == "object":
        yield from _check_object(value, str(field["ref"]), path)
    elif kind == "array":
        if not isinstance(value, list):
            yield DashboardFinding(path, f"must be an array, not {_kind(value)}")
            return
        for i, item in enumerate(value):
            yield from _check_value(item, field["items"], f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, Mapping):
            yield DashboardFinding(path, f"must be an object (a map), not {_kind(value)}")
            return
        for key, item in value.items():
            yield from _check_value(item, field["values"], f"{path}.{key}")
    else:
        problem = _scalar_problem(value, kind, field)
        if problem:
            yield DashboardFinding(path, problem)


def _scalar_problem(value: Any, kind: str, field: Mapping[str, Any]) -> str | None:
    if kind == "any":
        return None
    if kind == "enum":
        values = list(field.get("values", []))
        if value not in values:
            return f"{value!r} is not one of {', '.join(values)}"
        why = dict(field.get("deprecated_values", {})).get(value)
        return f"{value!r} is deprecated: {why}" if why else None
    if kind in _INT_RANGES:
        return _integer_problem(value, kind)
    return _simple_problem(value, kind)


def _integer_problem(value: Any, kind: str) -> str | None:
    number = _as_int(value, string_ok=kind in ("int64", "uint64"))
    if number is None:
        return f"must be an integer ({kind}), not {value!r}"
    low, high = _INT_RANGES[kind]
    return None if low <= number <= high else f"{number} is out of the {kind} range"


def _as_int(value: Any, *, string_ok: bool) -> int | None:
    """The integer a JSON value is (64-bit integers may be digit strings), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if string_ok and isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    return None


def _simple_problem(value: Any, kind: str) -> str | None:
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, not {value!r}"
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"must be a number, not {value!r}"
    if not isinstance(value, str):
        return f"must be a string ({kind}), not {_kind(value)}"
    if kind == "duration" and not _DURATION.match(value):
        return f"{value!r} is not a duration such as \"60s\""
    return None


def _kind(value: Any) -> str:
    return type(value).__name__ if value is not None else "null"


def dashboards_in_plan(plan: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(address, dashboard_json) of every dashboard a plan creates or updates; the JSON is the
    planned string (None where the plan does not know it yet)."""
    for rc in plan.get("resource_changes", []):
        if rc.get("type") != DASHBOARD_TYPE:
            continue
        change = rc.get("change", {})
        if not set(change.get("actions", [])) & {"create", "update"}:
            continue
        after = change.get("after") or {}
        yield str(rc.get("address", "")), after.get("dashboard_json")


def check_plans(plans: Mapping[str, Mapping[str, Any]]) -> list[DashboardFinding]:
    """Every planned dashboard of every root, checked; a dashboard whose JSON the plan does not
    know, or that is not JSON, is a finding too (nothing offline could check it)."""
    findings: list[DashboardFinding] = []
    for root, plan in sorted(plans.items()):
        for address, text in dashboards_in_plan(plan):
            found = _check_planned(text)
            findings += [DashboardFinding(f.path, f.message, address, root) for f in found]
    return findings


def _check_planned(text: Any) -> list[DashboardFinding]:
    if not isinstance(text, str):
        return [DashboardFinding("$", "dashboard_json is not known when planning: build it "
                                      "from values known at plan time so it can be checked")]
    try:
        value = json.loads(text)
    except ValueError as exc:
        return [DashboardFinding("$", f"dashboard_json is not JSON: {exc}")]
    return check_dashboard(value)
