"""A client repo's build configs checked with the triggers its Terraform plans create."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.cloudbuild.build import check_build
from generator.cloudbuild.config import CONFIG_SUFFIXES
from generator.cloudbuild.context import BuildContext, Runner
from generator.cloudbuild.findings import Finding
from generator.cloudbuild.triggers import Trigger, inside, trigger_findings, triggers_in_plans

CONFIG_DIR = "cloudbuild"
NOT_CONFIGS = frozenset({"iam-needs.yaml"})  # the builds' declared IAM needs (generator/iam)


def config_files(repo: Path, triggers: list[Trigger]) -> list[str]:
    """Every cloudbuild/*.yaml|yml|json, and every other existing file a trigger runs."""
    found = {
        p.relative_to(repo).as_posix()
        for p in (repo / CONFIG_DIR).glob("*")
        if p.is_file() and p.suffix in CONFIG_SUFFIXES and p.name not in NOT_CONFIGS
    }
    found |= {
        t.filename
        for t in triggers
        if t.filename and inside(repo, t.filename) and (repo / t.filename).is_file()
    }
    return sorted(found)


def check_repo(repo: Path, plans: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Check the repo's build configs and the Cloud Build triggers that run them.

    `plans` maps each Terraform root (its path relative to the repo, e.g.
    ``terraform/bootstrap``) to the JSON of ``terraform show -json`` on its saved plan. A
    file that triggers run is checked with their substitutions and service accounts; a file
    no trigger runs is checked on its own (its own ``substitutions`` only).
    """
    repo = Path(repo)
    triggers = triggers_in_plans(plans)
    findings = [f for t in triggers for f in trigger_findings(t, repo)]
    runners: dict[str, list[Runner]] = defaultdict(list)
    for t in triggers:
        if t.filename:
            runners[t.filename].append(t.runner())
    for rel in config_files(repo, triggers):
        ctx = BuildContext(runners=tuple(runners.get(rel, ())))
        findings += check_build(repo / rel, rel, ctx)
    return findings
