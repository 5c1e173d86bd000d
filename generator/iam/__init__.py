"""The IAM proof: every identity's declared needs against the grants of the roots' plans.

Used by `mlopsgen validate` (stage `iam`) after its plan stage. Pure apart from reading the
repo's needs files; never the network, never Terraform. One module per concern:

- ``snapshot``: Google's predefined roles and their permissions (``roles.json.gz``, refreshed
  by ``tools/refresh_iam_roles.py``; PROVENANCE.md);
- ``address`` / ``planview``: a plan's resource instances and configuration, and the
  reference tracer for values known only after apply;
- ``identities`` / ``scopes``: canonical principals and resource names, derived from the
  attributes GCP derives them from, and the resource hierarchy the plans describe;
- ``grants``: every `*_iam_member|binding|policy` of a plan, with its condition;
- ``needs`` / ``sources``: the needs files (next to the code, build config or module that
  gives an identity its job) and the contexts their templates are evaluated in, plus what
  Terraform needs to plan and apply each resource type (``terraform_permissions.yaml``);
- ``conditions``: the IAM condition (CEL) subset, three-valued;
- ``check``: needs against grants, unknown and deprecated roles;
- ``report``: the least-privilege report;
- ``repo``: ``check_repo(repo, plans)``.

See docs/decisions/0005-iam-proof.md.
"""

from generator.iam.check import Finding
from generator.iam.repo import Result, check_repo
from generator.iam.snapshot import Roles, SnapshotError

__all__ = ["Finding", "Result", "Roles", "SnapshotError", "check_repo"]
