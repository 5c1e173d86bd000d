"""What template updates and validations leave behind for `mlopsgen fleet status` to read.

The contract (docs/decisions/0006-fleet-status.md):
- A proposed template update lives on the branch `template-update/<tag>` (`<tag>` the target
  release, as the template's tag is spelled); on GitHub it is the open pull request from that
  branch of the same repo.
- The update that made the branch records what happened in an *update record*: one HTML
  comment holding a JSON object (`render_update_record`), in the pull request's body and in the
  branch head's commit message (local clones cannot see pull requests). `parse_update_record`
  reads it from either.
- `mlopsgen fleet validate` records each repo's validation in `.mlopsgen/validation.json`
  (git-ignored, local to the clone), with the commit it validated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from generator.client_repo import STATE_DIR, ClientRepo

UPDATE_BRANCH_PREFIX = "template-update/"
RECORD_MARK = "mlopsgen:template-update"
RECORD_SCHEMA = 1
VALIDATION_FILE = "validation.json"
VALIDATION_STATUSES = ("ok", "failed", "skipped")
_RECORD = re.compile(r"<!--\s*" + re.escape(RECORD_MARK) + r"\s*(\{.*?\})\s*-->", re.DOTALL)


def update_branch(tag: str) -> str:
    return f"{UPDATE_BRANCH_PREFIX}{tag}"


def target_of(branch: str) -> str | None:
    """The target tag of an update branch name (`template-update/<tag>`, or a remote-tracking
    `<remote>/template-update/<tag>`); None for any other branch."""
    head, sep, tag = branch.rpartition(UPDATE_BRANCH_PREFIX)
    if not sep or not tag or (head and not head.endswith("/")):
        return None
    return tag


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- update record


@dataclass(frozen=True)
class UpdateRecord:
    """The outcome of one template update on its branch."""

    from_version: str | None
    to_version: str | None
    conflicts: tuple[str, ...] = ()
    validation: str = "skipped"  # ok | failed | skipped
    summary: str = ""  # first lines of the validation report
    at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"schema": RECORD_SCHEMA, "from": self.from_version, "to": self.to_version,
                "conflicts": list(self.conflicts), "validation": self.validation,
                "summary": self.summary, "at": self.at}


def render_update_record(record: UpdateRecord) -> str:
    """The block the update build puts in its pull request's body and its commit message.
    JSON inside an HTML comment: invisible on GitHub, and `--` cannot end it early because
    the JSON escapes it."""
    text = json.dumps(record.to_json(), sort_keys=True).replace("--", "-\\u002d")
    return f"<!-- {RECORD_MARK}\n{text}\n-->"


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def parse_update_record(text: str | None) -> UpdateRecord | None:
    """The last update record in a pull request body or commit message; None if there is none
    or it cannot be read (a person edited it)."""
    found = _RECORD.findall(text or "")
    if not found:
        return None
    try:
        data = json.loads(found[-1])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    status = str(data.get("validation", "skipped"))
    return UpdateRecord(
        from_version=_opt(data.get("from")),
        to_version=_opt(data.get("to")),
        conflicts=_strings(data.get("conflicts")),
        validation=status if status in VALIDATION_STATUSES else "skipped",
        summary=str(data.get("summary") or ""),
        at=str(data.get("at") or ""),
    )


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- validation record


@dataclass(frozen=True)
class ValidationRecord:
    """One `mlopsgen fleet validate` of a local clone."""

    status: str  # ok | failed
    head: str | None  # the commit validated
    template_version: str | None
    at: str = ""
    summary: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"schema": RECORD_SCHEMA, "status": self.status, "head": self.head,
                "template_version": self.template_version, "at": self.at,
                "summary": self.summary}


def write_validation_record(repo: Path, record: ValidationRecord) -> Path:
    path = ClientRepo.open(repo).state_root() / VALIDATION_FILE
    path.write_text(json.dumps(record.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def read_validation_record(repo: Path) -> ValidationRecord | None:
    """The last recorded validation of a clone; None when there is none or it is unreadable."""
    path = repo / STATE_DIR / VALIDATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, Mapping) or data.get("status") not in VALIDATION_STATUSES:
        return None
    return ValidationRecord(
        status=str(data["status"]), head=_opt(data.get("head")),
        template_version=_opt(data.get("template_version")), at=str(data.get("at") or ""),
        summary=str(data.get("summary") or ""),
    )
