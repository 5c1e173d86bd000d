"""All checks of one build config file."""

from __future__ import annotations

from pathlib import Path

from generator.cloudbuild import schema as schema_module
from generator.cloudbuild.config import ConfigSyntaxError, parse
from generator.cloudbuild.context import BuildContext
from generator.cloudbuild.findings import Finding, Sink
from generator.cloudbuild.logs import check_logging
from generator.cloudbuild.steps import check_steps
from generator.cloudbuild.structure import check_structure
from generator.cloudbuild.substitutions import check_substitutions


def check_text(text: str, rel: str, ctx: BuildContext, is_json: bool = False) -> list[Finding]:
    """Findings for the config `text`, reported as file `rel`, sorted by line."""
    sink = Sink(rel)
    try:
        parsed = parse(text, is_json)
    except ConfigSyntaxError as exc:
        return [Finding(rel, exc.line, f"{exc.message}: fix the syntax")]
    for line, key in parsed.duplicates:
        sink.error(
            line,
            f"key '{key}' appears twice in the same mapping; only the last one counts: remove one",
        )
    root = parsed.root
    if root is None or not isinstance(root.value, dict):
        sink.error(
            root.line if root else 1,
            "a build config must be a mapping with at least 'steps:' (a list of steps)",
        )
        return sink.findings
    check_structure(sink, root, schema_module.load())
    check_steps(sink, root)
    check_substitutions(sink, root, ctx)
    check_logging(sink, root, ctx)
    return sorted(sink.findings, key=lambda f: (f.line, f.message))


def check_build(path: Path, rel: str, ctx: BuildContext) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(rel, 0, f"cannot read the build config: {exc}")]
    return check_text(text, rel, ctx, path.suffix == ".json")


def relative(path: Path, repo: Path | None) -> str:
    if repo is not None:
        try:
            return path.resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def check_build_file(
    path: Path,
    declared: frozenset[str] = frozenset(),
    repo: Path | None = None,
) -> list[Finding]:
    """Check one build config on its own. `declared`: extra `_VAR` names its runs declare
    (as a trigger's `substitutions` would). `repo`, when given, makes Finding.file relative
    to it."""
    path = Path(path)
    return check_build(path, relative(path, repo), BuildContext(declared=frozenset(declared)))
