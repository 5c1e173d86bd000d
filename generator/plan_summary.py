"""Summarise a `terraform show -json` plan: counts per resource type, and the destructive changes.

Pure functions over the plan JSON document (format_version 1.x); no terraform, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# summary columns, in display order
KINDS: tuple[str, ...] = ("create", "update", "delete", "replace")


def classify(actions: Sequence[str]) -> str:
    """Terraform's change `actions` -> create/update/delete/replace/read/no-op/forget."""
    acts = tuple(actions)
    if acts in (("delete", "create"), ("create", "delete")):
        return "replace"
    if len(acts) == 1 and acts[0] in ("create", "update", "delete", "read", "no-op", "forget"):
        return acts[0]
    if not acts:
        return "no-op"
    raise ValueError(f"unknown terraform change actions {list(acts)!r}")


@dataclass(frozen=True)
class Change:
    """One managed resource instance that the plan changes."""

    address: str
    type: str
    name: str
    kind: str
    module: str = ""
    index: Any = None
    action_reason: str | None = None
    deposed: str | None = None

    @property
    def type_name(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def destructive(self) -> bool:
        return self.kind in ("delete", "replace")


@dataclass
class TypeCounts:
    create: int = 0
    update: int = 0
    delete: int = 0
    replace: int = 0

    def total(self) -> int:
        return self.create + self.update + self.delete + self.replace


@dataclass
class PlanSummary:
    """Counts per resource type and the changes that destroy something."""

    by_type: dict[str, TypeCounts] = field(default_factory=dict)
    destructive: list[Change] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    output_changes: dict[str, str] = field(default_factory=dict)

    @property
    def totals(self) -> TypeCounts:
        t = TypeCounts()
        for c in self.by_type.values():
            t.create += c.create
            t.update += c.update
            t.delete += c.delete
            t.replace += c.replace
        return t

    @property
    def has_changes(self) -> bool:
        return self.totals.total() > 0 or bool(self.forgotten) or bool(self.output_changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals": asdict(self.totals),
            "by_type": {k: asdict(v) for k, v in sorted(self.by_type.items())},
            "destructive": [
                {
                    "address": c.address,
                    "type": c.type,
                    "action": c.kind,
                    "action_reason": c.action_reason,
                    **({"deposed": c.deposed} if c.deposed else {}),
                }
                for c in self.destructive
            ],
            "forgotten": list(self.forgotten),
            "output_changes": dict(sorted(self.output_changes.items())),
        }


def managed_changes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The plan's `resource_changes` entries of managed resources (data source reads are not
    changes)."""
    for rc in plan.get("resource_changes") or ():
        if rc.get("mode", "managed") == "managed":
            yield rc


def iter_changes(plan: Mapping[str, Any]) -> list[Change]:
    """Managed resource changes of a plan (data source reads are not changes)."""
    changes: list[Change] = []
    for rc in managed_changes(plan):
        kind = classify(rc.get("change", {}).get("actions", ()))
        changes.append(
            Change(
                address=rc["address"],
                type=rc["type"],
                name=rc["name"],
                kind=kind,
                module=rc.get("module_address", ""),
                index=rc.get("index"),
                action_reason=rc.get("action_reason"),
                deposed=rc.get("deposed"),
            )
        )
    return changes


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    summary = PlanSummary()
    for ch in iter_changes(plan):
        if ch.kind == "forget":
            summary.forgotten.append(ch.address)
            continue
        if ch.kind not in KINDS:
            continue
        counts = summary.by_type.setdefault(ch.type, TypeCounts())
        setattr(counts, ch.kind, getattr(counts, ch.kind) + 1)
        if ch.destructive:
            summary.destructive.append(ch)
    for name, oc in (plan.get("output_changes") or {}).items():
        kind = classify(oc.get("actions", ()))
        if kind not in ("no-op", "read"):
            summary.output_changes[name] = kind
    summary.destructive.sort(key=lambda c: c.address)
    return summary


def render_table(summary: PlanSummary, *, color: bool = False) -> str:
    """A fixed-width table: one row per type, totals, then every delete/replace by address."""
    if summary.totals.total() == 0 and not summary.forgotten:
        lines = ["No resource changes."]
        if summary.output_changes:
            lines.append(f"Output changes: {', '.join(sorted(summary.output_changes))}")
        return "\n".join(lines)
    rows = [(t, c) for t, c in sorted(summary.by_type.items()) if c.total()]
    width = max([len("resource type"), *(len(t) for t, _ in rows)])
    head = (
        f"{'resource type':<{width}}  {'create':>6}  {'update':>6}  {'delete':>6}  {'replace':>7}"
    )
    lines = [head, "-" * len(head)]

    def row(name: str, c: TypeCounts) -> str:
        text = f"{name:<{width}}  {c.create:>6}  {c.update:>6}  {c.delete:>6}  {c.replace:>7}"
        if color and (c.delete or c.replace):
            return f"\x1b[1;31m{text}\x1b[0m"
        return text

    lines.extend(row(t, c) for t, c in rows)
    lines.append("-" * len(head))
    lines.append(row("total", summary.totals))
    if summary.destructive:
        lines.append("")
        lines.append("!! Destructive changes:")
        for ch in summary.destructive:
            mark = f"!! {ch.kind.upper():<7} {ch.address}"
            if ch.action_reason:
                mark += f"  ({ch.action_reason})"
            lines.append(f"\x1b[1;31m{mark}\x1b[0m" if color else mark)
    if summary.forgotten:
        lines.append("")
        lines.append("Removed from state without destroying: " + ", ".join(summary.forgotten))
    return "\n".join(lines)
