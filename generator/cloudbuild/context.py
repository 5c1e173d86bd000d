"""What the checks of one build config know about the triggers that run it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Runner:
    """A trigger that runs a build config, as the checks of that file need it."""

    label: str  # how messages name it: address (root)
    substitutions: frozenset[str] | None  # the keys it declares; None: known only after apply
    service_account: bool  # runs as a user-managed service account (set, or known after apply)
    payload: frozenset[str] = frozenset()  # keys it binds from the event's payload


@dataclass(frozen=True)
class BuildContext:
    """The triggers that run a file (none: checked on its own) and keys declared elsewhere."""

    runners: tuple[Runner, ...] = ()
    declared: frozenset[str] = frozenset()  # user substitutions every run of the file has

    @property
    def triggered(self) -> bool:
        """Run by a trigger: dynamic substitutions are always on (Cloud Build's rule)."""
        return bool(self.runners)

    def lacking(self, name: str) -> list[str]:
        """Labels of the triggers that run the file without declaring `name`."""
        return [
            r.label
            for r in self.runners
            if r.substitutions is not None and name not in r.substitutions
        ]

    def declares(self, name: str) -> bool:
        """Every run of the file has substitution `name` (from `declared` or its triggers)."""
        return name in self.declared or (self.triggered and not self.lacking(name))

    def offered(self) -> frozenset[str]:
        """Every key some run of the file declares (for 'did you mean' hints)."""
        keys = set(self.declared)
        for r in self.runners:
            keys |= r.substitutions or frozenset()
        return frozenset(keys)

    def payload_binders(self, name: str) -> list[str]:
        """Labels of the triggers that bind `name` from their event's payload."""
        return [r.label for r in self.runners if name in r.payload]

    def service_account_runner(self) -> str | None:
        """The first trigger that runs the file as a user-managed service account."""
        return next((r.label for r in self.runners if r.service_account), None)


def named(labels: list[str], limit: int = 2) -> str:
    """'a', 'a and b', 'a, b and 3 more triggers'."""
    if len(labels) <= limit:
        return " and ".join(labels)
    return f"{', '.join(labels[:limit])} and {len(labels) - limit} more triggers"
