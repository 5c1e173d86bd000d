"""Offline checks of Cloud Build configs (``cloudbuild/*.yaml``) and the triggers that run them.

Used by ``mlopsgen validate`` after its plan stage. Pure apart from reading the repo's files:
never the network, never Terraform. One module per concern:

- ``schema``: the ``Build`` resource (keys, types, enums, required, output-only, deprecated),
  loaded from ``build_schema.json``, a snapshot of the Cloud Build API discovery document
  (``tools/refresh_cloudbuild_schema.py`` regenerates it; ``--check`` compares);
- ``config``: YAML/JSON parsing with line numbers;
- ``structure``: the config checked against the schema (camelCase or snake_case keys), plus
  the few config-file rules the API document does not state;
- ``steps``: ids, ``waitFor``, ``script``, ``env``, ``secretEnv``;
- ``substitutions``: ``$NAME`` references against built-ins, the file's and its triggers';
- ``logs``: builds that run as a user-managed service account need a log destination;
- ``triggers``: ``google_cloudbuild_trigger`` resources read from ``terraform show -json``;
- ``build`` / ``repo``: one file, and a whole repo with its plans.

Findings have severity "error" or "warning" (deprecated fields and enum values, triggers whose
file or substitution keys are known only after apply).
"""

from generator.cloudbuild.build import check_build_file
from generator.cloudbuild.findings import Finding, Severity
from generator.cloudbuild.repo import check_repo
from generator.cloudbuild.schema import SchemaSnapshotError
from generator.cloudbuild.substitutions import BUILTIN_SUBSTITUTIONS
from generator.cloudbuild.triggers import (
    TRIGGER_TYPE,
    Trigger,
    triggers_in_plan,
    triggers_in_plans,
)

__all__ = [
    "BUILTIN_SUBSTITUTIONS",
    "TRIGGER_TYPE",
    "Finding",
    "SchemaSnapshotError",
    "Severity",
    "Trigger",
    "check_build_file",
    "check_repo",
    "triggers_in_plan",
    "triggers_in_plans",
]
