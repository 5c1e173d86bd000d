"""Needs against grants: which needs no grant satisfies (and a grant that would), which grants
name a role the snapshot does not know or marks deprecated.

A grant satisfies a need when it is to the need's principal (or, for a value the plan derives
from a project's number alone, to that project's agent: `identities.satisfies`), on the need's
scope or an ancestor of it (`scopes.covers`), its role includes the permission, and its
condition, if any, admits the request (`conditions.admits`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from generator.iam import conditions, identities, scopes
from generator.iam.grants import Grant
from generator.iam.needs import Need
from generator.iam.snapshot import Roles


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning"
    message: str
    file: str = ""  # the needs file or the root of the grant
    line: int = 0
    root: str = ""


def request_for(need: Need) -> conditions.Request:
    kind = scopes.kind_of(need.scope)
    name: str | conditions.Prefix = scopes.condition_name(need.scope)
    if kind == "objects":
        name = conditions.Prefix(str(name))
    attributes = {"storage.googleapis.com/objectListPrefix": need.list_prefix} \
        if need.list_prefix else {}
    return conditions.Request(scopes.CONDITION_TYPES.get(kind, ""), name,
                              need.permission.split(".", 1)[0] + ".googleapis.com", attributes)


@dataclass
class Matcher:
    roles: Roles
    grants: Sequence[Grant]
    hierarchy: scopes.Hierarchy

    def __post_init__(self) -> None:
        self.by_principal: dict[str, list[Grant]] = defaultdict(list)
        for g in self.grants:
            if g.principal is not None and g.scope is not None:
                self.by_principal[g.principal].append(g)

    def candidates(self, principal: str) -> list[Grant]:
        out = list(self.by_principal.get(principal, []))
        project = principal.rsplit("/", 1)[-1] if principal.startswith("agent:") else ""
        if project:
            out += self.by_principal.get(f"number:{project}", [])
        return out

    def satisfying(self, need: Need) -> tuple[list[Grant], list[str]]:
        """Grants that satisfy the need, and why near misses (conditions) did not."""
        found, refused = [], []
        for g in self.candidates(need.principal):
            if not identities.satisfies(str(g.principal), need.principal):
                continue
            if need.permission not in self.roles.permissions(g.role):
                continue
            if not scopes.covers(str(g.scope), need.scope, self.hierarchy):
                continue
            if g.condition:
                ok, why = conditions.admits(g.condition, request_for(need))
                if not ok:
                    refused.append(f"{g.role} ({g.label()}) is conditional and {why}")
                    continue
            found.append(g)
        return found, refused


def suggestion(roles: Roles, need: Need, siblings: Iterable[Need],
               familiar: frozenset[str] = frozenset()) -> str:
    """A grant that would satisfy the need: a role covering most of what the same principal
    needs on the same scope, preferring roles the plans already grant, then the smallest."""
    wanted = {n.permission for n in siblings} | {need.permission}
    best: tuple[int, bool, int, str] | None = None
    # service agent roles are Google's to grant
    grantable = [n for n in roles.granting(need.permission) if "serviceagent" not in n.lower()]
    for name in grantable:
        perms = roles.permissions(name)
        score = (-len(wanted & perms), name not in familiar, len(perms), name)
        if best is None or score < best:
            best = score
    if best is None:
        return "no predefined role grants it: a custom role would"
    return f"grant {best[3]} to {need.principal} on {need.scope}"


def unmet(matcher: Matcher, needs: Sequence[Need]) -> list[Finding]:
    failing: list[tuple[Need, list[str]]] = []
    for need in needs:
        found, refused = matcher.satisfying(need)
        if not found:
            failing.append((need, refused))
    groups: dict[tuple[str, str], list[Need]] = defaultdict(list)
    for need, _ in failing:
        groups[(need.principal, need.scope)].append(need)
    familiar = frozenset(g.role for g in matcher.grants)
    out = []
    for need, refused in failing:
        text = (f"{identities.describe(need.principal)} cannot {need.permission} on "
                f"{scopes.describe(need.scope)}: {need.why} ({need.context}; {need.where()})")
        if refused:
            text += "; " + "; ".join(refused)
        text += "; " + suggestion(matcher.roles, need, groups[(need.principal, need.scope)],
                                  familiar)
        out.append(Finding("error", text, need.source, need.line))
    return out


def role_problems(roles: Roles, grants: Iterable[Grant]) -> list[Finding]:
    out = []
    for g in grants:
        if g.implicit:
            continue
        role = roles.get(g.role)
        if role is None:
            out.append(Finding("error", f"{g.address}: role {g.role!r} is not a predefined role "
                                        "(nor a custom role of the plans): a typo, or a role "
                                        "Google removed", g.root, 0, g.root))
        elif role.deprecated:
            out.append(Finding("error", f"{g.address}: role {g.role} is deprecated "
                                        f"({role.title}): grant its replacement", g.root, 0,
                               g.root))
    return out


def unknown_permissions(roles: Roles, needs: Iterable[Need]) -> list[Finding]:
    """Needs naming a permission no role grants: a typo in a needs file."""
    seen: set[tuple[str, str]] = set()
    out = []
    for n in needs:
        key = (n.permission, n.where())
        if key in seen or roles.granting(n.permission):
            continue
        seen.add(key)
        out.append(Finding("error", f"{n.permission} is not a permission of any predefined "
                                    f"role: fix the needs file", n.source, n.line))
    return out
