"""Template repos with several tagged versions, built in temp dirs from this working tree.

v0.1.0 is the working tree as it is (every file git would see, symlinks kept). Later versions
apply a change set each (see `CHANGES`): what a real release does to client repos — a README
section, a changed line, a new answer with a default and a file that uses it, a file renamed
through a migration, a probe migration that logs each run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.worktree import copy_working_tree

ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
}

# The file v0.2.0 renames (through a migration) and the optional file clients delete.
RENAMED_FROM = "pipelines/trainer/Dockerfile"
RENAMED_TO = "pipelines/trainer/trainer.Dockerfile"
PROBE = "migration-probe.txt"

MIGRATION_RENAME = f'''"""Fixture migration: the trainer Dockerfile got a descriptive name."""
from pathlib import Path

import ops

SUMMARY = "pipelines/trainer/Dockerfile is now pipelines/trainer/trainer.Dockerfile"
STAGE = "before"


def migrate(repo: Path) -> list[str]:
    return ops.move_path(repo, "{RENAMED_FROM}", "{RENAMED_TO}")
'''

MIGRATION_PROBE = f'''"""Fixture migration: logs each run (tests count them)."""
import os
from pathlib import Path

SUMMARY = "probe"
STAGE = "after"


def migrate(repo: Path) -> list[str]:
    with (repo / "{PROBE}").open("a") as log:
        versions = os.environ["VERSION_PEP440_FROM"], os.environ["VERSION_PEP440_TO"]
        log.write(" -> ".join(versions) + "\\n")
    return ["logged"]
'''

V2_README_SECTION = (
    "\n## Template upgrades\n\n"
    "Run `mlopsgen update .` to bring this repo to the newest template version.\n"
)
V3_README_SECTION = "\n## Support\n\nSee SUPPORT.md.\n"
# An idempotent task (ensures one .gitignore line) that logs each run next to the template.
TASK_LINE = "dist/"


def task_log(template: Path) -> Path:
    return template.parent / "task-runs.log"


def task_script(log: Path) -> str:
    return (
        "import os, pathlib\n"
        f"with open({str(log)!r}, 'a') as f: f.write(os.getcwd() + '\\n')\n"
        "p = pathlib.Path('.gitignore')\n"
        "lines = p.read_text().splitlines() if p.exists() else []\n"
        f"if {TASK_LINE!r} not in lines:\n"
        f"    p.write_text('\\n'.join([*lines, {TASK_LINE!r}]) + '\\n')\n"
    )


def task_runs(template: Path) -> list[str]:
    log = task_log(template)
    return log.read_text().splitlines() if log.exists() else []


V2_EXTRA: dict[str, Any] = {
    "support_tier": {
        "type": "str",
        "help": "Support tier (added in v0.2.0; old repos get the default)",
        "choices": ["standard", "premium"],
        "default": "standard",
    },
}
DELETED = "Makefile"
V2_CLIENT_OWNED_LINE = "# force_destroy = false\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, env=GIT_ENV, capture_output=True, text=True
    ).stdout


def _regenerate_copier_yml(tpl: Path, extra: Mapping[str, Any]) -> None:
    """The fixture's own generator writes its copier.yml (so its migrations are listed), then
    the fixture's extra keys (a new question, a task) are merged in."""
    subprocess.run(
        [sys.executable, "-m", "generator.copier_spec", "copier.yml"],
        cwd=tpl, check=True, capture_output=True,
        env={**os.environ, "PYTHONPATH": str(tpl)},
    )
    path = tpl / "copier.yml"
    spec = yaml.safe_load(path.read_text())
    spec.update(extra)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))


def _v2_extra(tpl: Path) -> dict[str, Any]:
    return {**V2_EXTRA, "_tasks": [["{{ _copier_python }}", "-c", task_script(task_log(tpl))]]}


def change_v0_2_0(tpl: Path) -> None:
    templates = tpl / "templates"
    readme = templates / "README.md.jinja"
    lines = readme.read_text().splitlines(keepends=True)
    # a changed line (the title) and a new section at the end
    lines[0] = lines[0].rstrip("\n") + " (managed by mlopsgen)\n"
    readme.write_text("".join(lines) + V2_README_SECTION)
    # a new answer with a default, used by a new file
    (templates / "SUPPORT.md.jinja").write_text(
        "# Support\n\nTier: {{ support_tier }}\n"
    )
    # a renamed file, moved in client repos by a migration
    (templates / RENAMED_FROM).rename(templates / RENAMED_TO)
    migrations = tpl / "generator" / "migrations"
    (migrations / "v0_2_0__rename_trainer_dockerfile.py").write_text(MIGRATION_RENAME)
    (migrations / "v0_2_0__probe.py").write_text(MIGRATION_PROBE)
    # a change to a client-owned file (_skip_if_exists: it must not arrive in existing repos)
    for owned in templates.glob("terraform/envs/*/client.auto.tfvars"):
        owned.write_text(owned.read_text() + V2_CLIENT_OWNED_LINE)
    # a change to the file clients delete (it must stay deleted)
    deleted = templates / DELETED
    deleted.write_text(deleted.read_text() + "# v0.2.0 note\n")
    _regenerate_copier_yml(tpl, _v2_extra(tpl))


def change_v0_3_0(tpl: Path) -> None:
    readme = tpl / "templates" / "README.md.jinja"
    readme.write_text(readme.read_text() + V3_README_SECTION)
    _regenerate_copier_yml(tpl, _v2_extra(tpl))


# v0.4.0 renames every environment's data bucket: what the replacement check of
# `mlopsgen update` must catch before the update is committed (a new bucket, the old one and
# its data destroyed).
DATA_BUCKET_SUFFIX = ("-data", "-datasets")


def change_v0_4_0(tpl: Path) -> None:
    model = tpl / "generator" / "model.py"
    old, new = (f'"data": f"{{base}}{suffix}"' for suffix in DATA_BUCKET_SUFFIX)
    text = model.read_text()
    assert old in text, f"fixture drifted: {old!r} not in generator/model.py"
    model.write_text(text.replace(old, new))
    _regenerate_copier_yml(tpl, _v2_extra(tpl))


CHANGES: list[tuple[str, Callable[[Path], None]]] = [
    ("v0.2.0", change_v0_2_0),
    ("v0.3.0", change_v0_3_0),
    ("v0.4.0", change_v0_4_0),  # only in repos built with versions=4
]


def build_template_repo(dest: Path, versions: int = 3) -> Path:
    """A git repo at `dest` with tags v0.1.0 .. (versions given), from this working tree."""
    dest.mkdir(parents=True, exist_ok=True)
    copy_working_tree(dest)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "v0.1.0")
    git(dest, "tag", "v0.1.0")
    for tag, change in CHANGES[: versions - 1]:
        change(dest)
        git(dest, "add", "-A")
        git(dest, "commit", "-q", "-m", tag)
        git(dest, "tag", tag)
    return dest


def copier_bin() -> str:
    return shutil.which("copier") or str(Path(sys.executable).with_name("copier"))


def render_client(
    template: Path | str,
    dest: Path,
    answers: Mapping[str, Any],
    *,
    vcs_ref: str = "v0.1.0",
    cwd: Path | None = None,
) -> Path:
    """Plain `copier copy` at a version, then `git init` + commit (as `mlopsgen new` does)."""
    data = dest.parent / f"{dest.name}-answers.yml"
    data.write_text(yaml.safe_dump(dict(answers), allow_unicode=True))
    result = subprocess.run(
        [copier_bin(), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", vcs_ref,
         "--data-file", str(data), str(template), str(dest)],
        capture_output=True, text=True, check=False, cwd=cwd,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "rendered")
    return dest


def commit_all(repo: Path, message: str = "client edits") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
