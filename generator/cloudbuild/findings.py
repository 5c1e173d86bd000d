"""What a check reports: one finding, located in a config file or at a Terraform trigger."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem. A finding about a build config has the config's path and line; one about a
    trigger has the trigger's Terraform root as `file` (e.g. ``terraform/bootstrap``), line 0,
    and the trigger's resource address as `address` (also named in the message)."""

    file: str  # path relative to the repo root (a config file, or a trigger's root)
    line: int  # 1-based, 0 when unknown
    message: str  # actionable: what is wrong and how to fix it
    severity: Severity = "error"  # "warning": Cloud Build runs it, but it should change
    address: str = ""  # resource address of the trigger the finding is about, if any


@dataclass
class Sink:
    """Collects the findings of one file."""

    file: str
    findings: list[Finding] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.findings.append(Finding(self.file, line, message))

    def warning(self, line: int, message: str) -> None:
        self.findings.append(Finding(self.file, line, message, "warning"))


def hint(word: str, options: Iterable[str]) -> str:
    """'; did you mean 'X'?' for the closest option (also across case and '_'), or '.': what
    ends the sentence before the next one."""
    ordered = sorted(options)
    close = difflib.get_close_matches(word, ordered, n=1, cutoff=0.75)
    if not close:
        # case-insensitive / snake_case typos: e.g. "WaitFor", "wait_for"
        folded = {o.lower().replace("_", ""): o for o in ordered}
        match = folded.get(word.lower().replace("_", ""))
        close = [match] if match else []
    return f"; did you mean '{close[0]}'?" if close else "."
