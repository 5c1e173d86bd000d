"""The data quality gate of the training data (pure: no cloud, no files).

`config/<env>.yaml`'s `quality:` section is the one statement of the rules. Two readers build
the same Dataplex data quality rules from it:
- Terraform (`terraform/envs/<env>/data_quality.tf` -> `terraform/modules/data_quality`) creates
  the environment's on-demand scan of the source table with them;
- `rules()` below, which the pipeline compiles into its gate, so the gate can tell a scan whose
  rules differ from the reviewed config (edited but not applied) from a passing one.

Before training, the pipeline's gate (`components.data_quality_gate`) runs that scan
(Dataplex `dataScans.run`), waits for the job and hands it to `evaluate()`: any failed rule,
unexpected rule set or unfinished job stops the run, with the failed rules in the step's error.

Rule names (the same in HCL): `row-count`, `not-null-<column>`, `range-<column>` (`_` -> `-`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipelines import sql

# The source table's columns (sql.py's docstring); day_of_week is derived by the queries.
SOURCE_COLUMNS = (sql.TIME_COLUMN, sql.SERIES_COLUMN, sql.TARGET_COLUMN,
                  *(c for c in sql.KNOWN_COLUMNS if c != "day_of_week"))
# Dataplex ids: lowercase letters, digits and hyphens, starting with a letter, at most 63.
_SCAN_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_TABLE_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")


class QualityError(ValueError):
    """The quality section of config/<env>.yaml is malformed; the message names the key."""


@dataclass(frozen=True)
class Range:
    min: float | None
    max: float | None
    threshold: float


@dataclass(frozen=True)
class QualityConfig:
    scan_id: str
    table: str
    min_rows: int
    not_null: Mapping[str, float]
    ranges: Mapping[str, Range]


def _number(value: Any, where: str, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise QualityError(f"{where} must be a number, got {value!r}")
    return float(value)


def _threshold(value: Any, where: str) -> float:
    share = _number(value, where)
    assert share is not None
    if not 0 < share <= 1:
        raise QualityError(f"{where} is the share of rows that must pass: > 0 and <= 1, "
                           f"got {value!r}")
    return share


def _column(name: Any, where: str) -> str:
    if name not in SOURCE_COLUMNS:
        raise QualityError(f"{where}: {name!r} is not a column of the source table "
                           f"({', '.join(SOURCE_COLUMNS)}; pipelines/sql.py)")
    return str(name)


def _mapping(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise QualityError(f"{where}: {key} must be a mapping of column to its rule")
    return value


def _range(column: str, spec: Any, where: str) -> Range:
    if not isinstance(spec, Mapping) or not set(spec) <= {"min", "max", "threshold"}:
        raise QualityError(f"{where}.ranges.{column} must be {{min, max, threshold}}")
    low = _number(spec.get("min"), f"{where}.ranges.{column}.min", optional=True)
    high = _number(spec.get("max"), f"{where}.ranges.{column}.max", optional=True)
    if low is None and high is None:
        raise QualityError(f"{where}.ranges.{column} needs min, max or both")
    if low is not None and high is not None and low > high:
        raise QualityError(f"{where}.ranges.{column}: min {low} is above max {high}")
    return Range(low, high, _threshold(spec.get("threshold", 1), f"{where}.ranges.{column}"
                                                                  ".threshold"))


def parse(data: Any, where: str = "quality") -> QualityConfig:
    """A QualityConfig from the parsed `quality:` section; QualityError names the bad key."""
    if not isinstance(data, Mapping):
        raise QualityError(f"{where} must be a mapping")
    scan_id, table, min_rows = data.get("scan_id"), data.get("table"), data.get("min_rows")
    if not isinstance(scan_id, str) or not _SCAN_ID.match(scan_id):
        raise QualityError(f"{where}.scan_id must be a Dataplex id (lowercase letters, digits, "
                           f"'-', starting with a letter, at most 63), got {scan_id!r}")
    if not isinstance(table, str) or not _TABLE_ID.match(table):
        raise QualityError(f"{where}.table must be a table id of the training dataset, "
                           f"got {table!r}")
    if isinstance(min_rows, bool) or not isinstance(min_rows, int) or min_rows < 1:
        raise QualityError(f"{where}.min_rows must be a whole number >= 1, got {min_rows!r}")
    not_null = {_column(c, f"{where}.not_null"): _threshold(t, f"{where}.not_null.{c}")
                for c, t in _mapping(data, "not_null", where).items()}
    ranges = {_column(c, f"{where}.ranges"): _range(c, spec, where)
              for c, spec in _mapping(data, "ranges", where).items()}
    return QualityConfig(scan_id, table, min_rows, not_null, ranges)


def rule_name(kind: str, column: str = "") -> str:
    """A Dataplex rule name: letters, digits and hyphens (column underscores become '-')."""
    return f"{kind}-{column.replace('_', '-')}" if column else kind


def _num(value: float | None) -> str | None:
    """A number as Terraform prints it (whole numbers without '.0'): range bounds, texts."""
    if value is None:
        return None
    return str(int(value)) if value == int(value) else repr(value)


def rules(q: QualityConfig) -> list[dict[str, Any]]:
    """The scan's rules as Dataplex DataQualityRule JSON, in the order the HCL builds them."""
    out: list[dict[str, Any]] = [{
        "name": rule_name("row-count"), "dimension": "VOLUME",
        "description": f"At least {q.min_rows} rows.",
        "tableConditionExpectation": {"sqlExpression": f"COUNT(*) >= {q.min_rows}"},
    }]
    for column, share in sorted(q.not_null.items()):
        out.append({
            "name": rule_name("not-null", column), "dimension": "COMPLETENESS",
            "column": column, "threshold": share,
            "description": f"Rows with a {column}: passes at a share of {_num(share)} or more.",
            "nonNullExpectation": {},
        })
    for column, bounds in sorted(q.ranges.items()):
        expectation = {k: v for k, v in (("minValue", _num(bounds.min)),
                                         ("maxValue", _num(bounds.max))) if v is not None}
        out.append({
            "name": rule_name("range", column), "dimension": "VALIDITY",
            "column": column, "threshold": bounds.threshold, "ignoreNull": True,
            "description": (f"Non-null {column} in [{_num(bounds.min) or '-inf'}, "
                            f"{_num(bounds.max) or 'inf'}]: passes at a share of "
                            f"{_num(bounds.threshold)} or more."),
            "rangeExpectation": expectation,
        })
    return out


def scan_name(project: str, region: str, scan_id: str) -> str:
    """The scan's resource name (what dataScans.run is called on)."""
    return f"projects/{project}/locations/{region}/dataScans/{scan_id}"


# --- the verdict --------------------------------------------------------------------------
# evaluate() and describe_rule() run inside the gate component too (KFP copies their source
# with `additional_funcs`): no module-level names, imports inside.


def describe_rule(result: dict[str, Any]) -> str:
    """One line on a rule result of a DataQualityResult (a failed one, usually)."""
    rule = result.get("rule") or {}
    name = rule.get("name") or "unnamed rule"
    where = f", column {rule['column']}" if rule.get("column") else ""
    head = f"{name} ({rule.get('dimension', '?')}{where})"
    condition = (rule.get("tableConditionExpectation") or {}).get("sqlExpression")
    if condition:
        return f"{head}: {condition} is false"
    evaluated, passed = result.get("evaluatedCount"), result.get("passedCount")
    text = head
    if evaluated is not None:
        ratio = float(result.get("passRatio") or 0.0)
        text += (f": {passed or 0} of {evaluated} rows passed ({ratio:.2%}), "
                 f"{result.get('nullCount') or 0} null")
    if rule.get("threshold") is not None:
        text += f"; needs {float(rule['threshold']):.2%}"
    if result.get("failingRowsQuery"):
        text += f"; failing rows: {result['failingRowsQuery']}"
    return text


def evaluate(job: dict[str, Any], expected: list[dict[str, Any]]) -> list[str]:
    """The reasons a finished scan job (a DataScanJob, view FULL) fails the gate; [] = pass.

    Fails on: a job that did not succeed, a rule set other than `expected` (names and
    thresholds of `rules()`: the scan was not applied from this config), any failed rule, and
    a result that is not `passed`."""
    state = job.get("state")
    if state != "SUCCEEDED":
        why = job.get("message") or "no message"
        return [f"scan job {job.get('name', '?')} ended {state}: {why}"]
    result = job.get("dataQualityResult") or {}
    got = {(r.get("rule") or {}).get("name"): r for r in result.get("rules") or []}
    wanted = {r["name"]: r for r in expected}
    reasons = []
    missing, extra = sorted(set(wanted) - set(got)), sorted(str(n) for n in set(got) - set(wanted))
    changed = sorted(
        name for name in set(wanted) & set(got)
        if wanted[name].get("threshold") is not None
        and abs(float((got[name].get("rule") or {}).get("threshold") or 0.0)
                - float(wanted[name]["threshold"])) > 1e-9)
    if missing or extra or changed:
        reasons.append(
            f"the scan's rules are not config/<env>.yaml's (missing {missing}, unexpected "
            f"{extra}, other thresholds {changed}): apply the environment's Terraform")
    reasons += [describe_rule(r) for _, r in sorted(got.items(), key=lambda kv: str(kv[0]))
                if not r.get("passed")]
    if not reasons and not result.get("passed"):
        reasons.append("the scan's result is not passed (no rule reports why)")
    return reasons


GATE_TIMEOUT_SECONDS = 3600  # a scan of a large table takes minutes; an hour means it is stuck
GATE_POLL_SECONDS = 15.0


def gate_inputs(project: str, region: str, q: QualityConfig) -> dict[str, Any]:
    """The gate component's inputs for one environment (compiled into the pipeline)."""
    return {"scan": scan_name(project, region, q.scan_id),
            "expected_rules": json.dumps(rules(q), sort_keys=True),
            "timeout_seconds": GATE_TIMEOUT_SECONDS, "poll_seconds": GATE_POLL_SECONDS}
