"""The least-privilege report: per principal with declared needs, the roles it holds whose
permissions those needs barely use (a warning each principal, details in --json)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from generator.iam import identities, scopes
from generator.iam.check import Finding, Matcher
from generator.iam.grants import Grant
from generator.iam.needs import Need

BARELY = 0.1  # a role whose permissions the needs use less than this fraction of


@dataclass(frozen=True)
class RoleUse:
    principal: str
    role: str
    scope: str
    used: int
    total: int
    grant: str

    @property
    def share(self) -> float:
        return self.used / self.total if self.total else 1.0

    def text(self) -> str:
        return f"{self.role} on {self.scope} ({self.used} of {self.total} permissions used)"


def role_uses(matcher: Matcher, needs: Sequence[Need]) -> list[RoleUse]:
    """For every grant to a principal that has needs: how many of its permissions they use."""
    by_principal: dict[str, list[Need]] = defaultdict(list)
    for n in needs:
        by_principal[n.principal].append(n)
    out = []
    seen: set[tuple[str, str, str]] = set()
    for principal, own in sorted(by_principal.items()):
        for g in matcher.candidates(principal):
            key = (principal, g.role, str(g.scope))
            # a grant the plan knows only as "an agent of project P" is not this agent's alone
            if key in seen or g.implicit or g.principal != principal:
                continue
            seen.add(key)
            out.append(_use(matcher, principal, g, own))
    return out


def _use(matcher: Matcher, principal: str, g: Grant, own: Sequence[Need]) -> RoleUse:
    perms = matcher.roles.permissions(g.role)
    used = {n.permission for n in own if n.permission in perms
            and scopes.covers(str(g.scope), n.scope, matcher.hierarchy)}
    return RoleUse(principal, g.role, str(g.scope), len(used), len(perms), g.label())


def findings(uses: Sequence[RoleUse]) -> list[Finding]:
    """One warning per principal listing its barely used roles."""
    by_principal: dict[str, list[RoleUse]] = defaultdict(list)
    for u in uses:
        if u.share < BARELY:
            by_principal[u.principal].append(u)
    out = []
    for principal, barely in sorted(by_principal.items()):
        listed = "; ".join(u.text() for u in sorted(barely, key=lambda u: (u.share, u.role)))
        out.append(Finding("warning", f"least privilege: {identities.describe(principal)} "
                                      f"holds roles its declared needs barely use: {listed}"))
    return out


def as_json(uses: Sequence[RoleUse]) -> list[dict[str, object]]:
    return [{"principal": u.principal, "role": u.role, "scope": u.scope, "used": u.used,
             "permissions": u.total, "grant": u.grant, "barely_used": u.share < BARELY}
            for u in uses]
