"""A rendered client repo, read once: its recorded answers, validated, and the model's context.

Every command that works on a client repo (plan, apply, preflight, update, fleet) asks a
`ClientRepo` for the answers copier recorded, the template source and version, an
environment and its Terraform root, instead of reading `.copier-answers.yml` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from generator import model
from generator.errors import AnswersError, RepoError

ANSWERS_FILE = ".copier-answers.yml"
STATE_DIR = ".mlopsgen"  # local, git-ignored: saved plans, offline rehearsal state


def read_answers_file(repo: Path) -> dict[str, Any]:
    """The answers file as recorded (copier's `_` keys included); RepoError when unusable."""
    path = repo / ANSWERS_FILE
    if not path.is_file():
        raise RepoError(
            f"{path} not found: {repo} has no {ANSWERS_FILE}, so it is not a client repo "
            f"rendered by `mlopsgen new` (or `copier copy`), or the file was deleted. Restore it "
            f"from history (in {repo}: `git log --oneline -- {ANSWERS_FILE}`, then "
            f"`git checkout <commit> -- {ANSWERS_FILE}`), or render a new repo with "
            "`mlopsgen new` and move your changes over."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RepoError(f"{path} is not valid YAML ({error}); restore it from git") from error
    if not isinstance(data, dict):
        raise RepoError(f"{path} must hold a mapping of answers; restore it from git")
    return {str(k): v for k, v in data.items()}


class ClientRepo:
    """One client repo. Cheap to open; answers are validated on first use."""

    def __init__(self, path: Path, recorded: Mapping[str, Any]) -> None:
        self.path = path
        self.recorded = dict(recorded)

    @classmethod
    def open(cls, path: Path) -> ClientRepo:
        if not path.is_dir():
            raise RepoError(f"{path} is not a directory")
        return cls(path.resolve(), read_answers_file(path))

    # -- what copier recorded ------------------------------------------------------------------

    @property
    def template_source(self) -> str | None:
        src = self.recorded.get("_src_path")
        return str(src) if src else None

    @property
    def template_version(self) -> str | None:
        commit = self.recorded.get("_commit")
        return str(commit) if commit is not None else None

    def require_template_record(self) -> tuple[str, str]:
        """(template source, version), or RepoError: copier cannot update without them."""
        if not self.template_source or not self.template_version:
            raise RepoError(
                f"{self.path / ANSWERS_FILE} lacks _src_path/_commit (the template source and "
                "version); restore it from git history, it is written by copier and must not be "
                "edited by hand"
            )
        return self.template_source, self.template_version

    # -- the answers and the model --------------------------------------------------------------

    @cached_property
    def answers(self) -> dict[str, Any]:
        """The recorded answers, validated by the template's rules, defaults filled."""
        given = {k: v for k, v in self.recorded.items() if not k.startswith("_")}
        try:
            return model.validate_answers(given)
        except AnswersError as error:
            raise RepoError(
                f"{self.path / ANSWERS_FILE} does not validate with this mlopsgen "
                f"({error.problems[0] if error.problems else error}"
                + (f", and {len(error.problems) - 1} more" if len(error.problems) > 1 else "")
                + "): fix the answer with `copier update --trust --data KEY=VALUE`, or run the "
                "mlopsgen version the repo was rendered with"
            ) from error

    @cached_property
    def context(self) -> dict[str, Any]:
        """`generator.model.build_context` of the answers (names only, no module sources)."""
        return model.build_context(self.answers, template_ref=self.template_version or "HEAD")

    @property
    def environment_names(self) -> list[str]:
        return [str(e["name"]) for e in self.context["environments"]]

    def environment(self, env: str) -> dict[str, Any]:
        """The model's context of one environment; RepoError naming the ones that exist."""
        for entry in self.context["environments"]:
            if entry["name"] == env:
                return dict(entry)
        raise RepoError(
            f"unknown environment {env!r}: this repo has {', '.join(self.environment_names)}"
        )

    def needs_approval(self, env: str) -> bool:
        """Whether applying to `env` needs a person's approval (the model's rule)."""
        return bool(self.environment(env)["approval_required"])

    # -- paths -----------------------------------------------------------------------------------

    def env_root(self, env: str) -> Path:
        self.environment(env)
        root = self.path / "terraform" / "envs" / env
        if not root.is_dir():
            raise RepoError(f"{root} not found: the repo has no Terraform root for {env!r}")
        return root

    def state_root(self) -> Path:
        """`.mlopsgen/`, made self-ignoring for git (a `.gitignore` holding `*`)."""
        root = self.path / STATE_DIR
        root.mkdir(parents=True, exist_ok=True)
        ignore = root / ".gitignore"
        if not ignore.exists():
            ignore.write_text(
                "# mlopsgen plan files: local, never committed\n*\n", encoding="utf-8"
            )
        return root

    def plans_dir(self, env: str, *, offline: bool = False) -> Path:
        path = self.state_root() / "plans" / env
        return path / "offline" if offline else path

    def offline_state_file(self, env: str) -> Path:
        """The local rehearsal state of `plan/apply --offline`."""
        return self.state_root() / "offline" / env / "terraform.tfstate"
