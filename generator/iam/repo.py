"""The IAM proof of a whole client repo over its roots' plans: `check_repo(repo, plans)`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.iam import check, grants, report, scopes, snapshot, sources
from generator.iam.grants import Grant
from generator.iam.needs import Need, NeedsError
from generator.iam.planview import PlanView

OWNER = "roles/owner"


@dataclass
class Result:
    findings: list[check.Finding] = field(default_factory=list)
    uses: list[report.RoleUse] = field(default_factory=list)
    needs: int = 0
    grants: int = 0
    declared: list[Need] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"needs": self.needs, "grants": self.grants,
                "least_privilege": report.as_json(self.uses)}


def _template_modules() -> Path | None:
    try:
        from generator.template import template_root

        modules = template_root() / "terraform" / "modules"
    except Exception:  # no template checkout: git-sourced modules' needs are not read
        return None
    return modules if modules.is_dir() else None


def creator_grants(views: list[PlanView], appliers: Mapping[str, set[str]]) -> list[Grant]:
    """Whoever creates a project is made its owner by Google (Resource Manager,
    projects.create): the account that applies a root owns the projects that root creates."""
    out = []
    for view in views:
        for inst in view.managed():
            project = inst.known("project_id")
            if inst.address.type != "google_project" or not isinstance(project, str):
                continue
            for principal in sorted(appliers.get(view.root, ())):
                out.append(Grant(view.root, str(inst.address), OWNER, principal,
                                 f"projects/{project}",
                                 implicit=f"owner of {project}, which it creates "
                                          f"({inst.address} in {view.root})"))
    return out


def _warning(message: str, file: str = "", line: int = 0, root: str = "") -> check.Finding:
    return check.Finding("warning", message, file, line, root)


def check_repo(repo: Path, plans: Mapping[str, Mapping[str, Any]],
               roles: snapshot.Roles | None = None) -> Result:
    """Every declared need of the repo against every grant of its plans."""
    repo = Path(repo)
    views = [PlanView.of(root, plan) for root, plan in sorted(plans.items())]
    hierarchy = grants.hierarchy_of(views)
    all_grants: list[Grant] = []
    result = Result()
    custom: list[snapshot.Role] = []
    for view in views:
        found, unsupported = grants.grants_of(view, hierarchy.numbers)
        all_grants += found
        custom += grants.custom_roles(view)
        result.findings += [_warning(u.message, u.root, 0, u.root) for u in unsupported]
    known_roles = (roles or snapshot.default()).with_custom(custom)
    try:
        collected = sources.collect(repo, views, hierarchy.numbers, _template_modules())
    except NeedsError as exc:
        result.findings.append(check.Finding("error", str(exc)))
        return result
    all_grants += creator_grants(views, collected.appliers)
    matcher = check.Matcher(known_roles, all_grants, hierarchy)
    result.findings += check.role_problems(known_roles, all_grants)
    result.findings += check.unknown_permissions(known_roles, collected.needs)
    result.findings += check.unmet(matcher, collected.needs)
    result.findings += [
        _warning(f"{u.context}: a need of {u.spec.source}:{u.spec.line} is not checked: "
                 f"{u.message}", u.spec.source, u.spec.line) for u in collected.unplaced]
    result.findings += [
        _warning(f"no Terraform permission data for {t}: what planning and applying it needs "
                 "is not checked (add it to generator/iam/terraform_permissions.yaml)")
        for t in sorted(collected.missing_types)]
    result.uses = report.role_uses(matcher, collected.needs)
    result.findings += report.findings(result.uses)
    result.needs, result.grants = len(collected.needs), len(all_grants)
    result.declared = collected.needs
    return result


def describe_scope(name: str) -> str:
    return scopes.describe(name)
