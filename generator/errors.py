"""Every error mlopsgen raises, and the exit codes its commands return: one table.

Standard library only (`answers.py`, loaded by path inside copier, imports it). Each error
type carries its exit code; `generator/cli.py` maps an escaping error to its code once, for
every command. Outcomes that are not errors (a plan with changes, a gate's refusal, findings a
person must look at) are returned by the commands as an `ExitCode`.

| code | meaning                                                                              |
| ---- | ------------------------------------------------------------------------------------ |
| 0    | done: nothing needs a person                                                         |
| 1    | error: could not run (bad input or usage, not a client repo, a tool missing or failing) |
| 2    | `plan` only: the plan has changes (terraform's `-detailed-exitcode` convention)       |
| 3    | refused: the policy gate or `apply`'s checks refused (stale plan, approval missing)   |
| 4    | needs attention: it ran, and found what a person must fix (validation problems, failed |
|      | preflight checks, update conflicts, a fleet repo that needs attention)                |
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only (tfrunner imports this module)
    from generator.tfrunner import CommandResult


class ExitCode(enum.IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    REFUSED = 3
    ATTENTION = 4


class MlopsgenError(Exception):
    """Base of every error mlopsgen raises on purpose; the message says what to do."""

    exit_code: ExitCode = ExitCode.ERROR

    def message(self) -> str:
        return str(self)


# -- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One answer that breaks a rule: the question, the value given, and why."""

    question: str
    value: Any
    rule: str

    def __str__(self) -> str:
        return f"{self.question}: {self.value!r} is not valid: {self.rule}"


class InputError(MlopsgenError):
    """What the user gave cannot be used: an option, a file, an answer."""


class AnswersError(InputError, ValueError):
    """Answers that break the template's rules; carries every problem at once."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def message(self) -> str:
        return "invalid answers; nothing was written:\n" + "\n".join(
            f"  - {p}" for p in self.problems
        )


class RepoError(InputError):
    """The directory is not a usable client repo (no answers file, unknown environment...)."""


class FleetError(InputError):
    """The list of repos cannot be read."""


# -- operations ----------------------------------------------------------------------------------


class RenderError(MlopsgenError):
    """Rendering a client repo failed."""


class UpdateError(MlopsgenError):
    """A template update cannot start or did not finish."""


class ValidateError(MlopsgenError):
    """`validate` could not run at all (no terraform, not a rendered repo)."""


class GitHubError(MlopsgenError):
    """A GitHub REST API request failed; the message names the request and what to check."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class CredentialsMissing(MlopsgenError):
    """Application Default Credentials are missing or unusable."""


class TerraformError(MlopsgenError):
    """A terraform command failed; the message names the stage and terraform's own errors."""

    def __init__(self, stage: str, result: CommandResult | None, message: str = "") -> None:
        self.stage = stage
        self.result = result
        super().__init__(message or _terraform_failure(stage, result))


class TerraformTimeout(TerraformError):
    """A terraform command ran longer than its timeout and was interrupted."""


class TerraformNotFound(TerraformError):
    """The terraform binary is missing, or older than the template supports."""


def _terraform_failure(stage: str, result: CommandResult | None) -> str:
    if result is None:
        return f"terraform {stage} failed"
    lines = [f"terraform {stage} failed (exit {result.returncode})"]
    if result.errors:
        lines.extend(f"  {d.one_line()}" for d in result.errors)
    else:
        lines.extend(f"  {ln}" for ln in result.output_tail(15))
    return "\n".join(lines)


# -- refusals --------------------------------------------------------------------------------------


class Refused(MlopsgenError):
    """A reason not to go on (stale plan, approval missing, the gate said no)."""

    exit_code = ExitCode.REFUSED
