"""The questions a consultant answers, and every rule an answer must follow.

This module is the single source of truth for answers: `copier.yml` is generated from
`QUESTIONS` (see `generator.copier_spec`), copier's per-question validators and its render
hook call `check_question` / `validate`, and `mlopsgen new` calls `validate` before
rendering. It imports only the standard library so that plain `copier copy` can load it
by file path (see `generator/copier_ext.py`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import AnswersError as AnswersError
from .errors import Problem as Problem

# --- vocabularies ---------------------------------------------------------------------------

LAYOUTS = ("per_environment", "single_project")
FEATURES = ("workbench", "automl", "model_deployment", "model_monitoring", "feature_store", "cmek")
MODULE_SOURCES = ("vendored", "git")
# Regions where Vertex AI training, pipelines and prediction are offered.
# Source: https://cloud.google.com/vertex-ai/docs/general/locations (checked 2026-11).
VERTEX_REGIONS = (
    "us-central1",
    "us-east1",
    "us-east4",
    "us-east5",
    "us-south1",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "northamerica-northeast1",
    "northamerica-northeast2",
    "southamerica-east1",
    "southamerica-west1",
    "europe-central2",
    "europe-north1",
    "europe-southwest1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-west6",
    "europe-west8",
    "europe-west9",
    "europe-west12",
    "me-central1",
    "me-central2",
    "me-west1",
    "africa-south1",
    "asia-east1",
    "asia-east2",
    "asia-northeast1",
    "asia-northeast2",
    "asia-northeast3",
    "asia-south1",
    "asia-southeast1",
    "asia-southeast2",
    "australia-southeast1",
    "australia-southeast2",
)

SLUG_MIN, SLUG_MAX = 3, 20
MAX_ENVIRONMENTS = 5
SUFFIX_LEN = 4

_SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
_ENV_RE = re.compile(r"^[a-z][a-z0-9]{1,7}$")
_PARENT_RE = re.compile(r"^(organizations|folders)/[0-9]{1,25}$")
_BILLING_RE = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_GH_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_GH_REPO_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_APPROVER_RE = re.compile(
    r"^@[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:/[A-Za-z0-9_.-]{1,100})?$"
)
_PRINCIPAL_RE = re.compile(
    r"^(user|group):[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_SUFFIX_RE = re.compile(rf"^[a-z0-9]{{{SUFFIX_LEN}}}$")
_PROJECT_ID_RE = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
# git check-ref-format, restricted to what a branch protection pattern handles literally
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_GIT_URL_RE = re.compile(r"^(https://|ssh://|git@|file://|/)[^\s?#]+$")


# --- pure helpers shared with the model -----------------------------------------------------


def slugify(text: str) -> str:
    """Derive a client slug from free text: ascii, lowercase, hyphens, 3..20 chars."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = re.sub(r"^[^a-z]+", "", slug)  # must start with a letter
    slug = slug[:SLUG_MAX].rstrip("-")
    if len(slug) < SLUG_MIN:
        slug = (slug + "-mlops").strip("-")[:SLUG_MAX] if slug else "client"
    return slug


def derive_suffix(client_slug: str, gcp_parent: str) -> str:
    """Deterministic suffix that keeps globally unique names (projects, buckets) apart."""
    digest = hashlib.sha256(f"{client_slug}|{gcp_parent}".encode()).hexdigest()
    return digest[:SUFFIX_LEN]


def default_branch(environments: list[str], env: str) -> str:
    """The last environment lives on `main`; the others on a branch of their own name."""
    return "main" if env == environments[-1] else env


# --- per-question rules ---------------------------------------------------------------------

Rule = Callable[[Any, Mapping[str, Any]], "str | None"]


def _text(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    if not value.strip():
        return "must not be empty"
    if len(value) > 100:
        return "must be at most 100 characters"
    if any(ch in value for ch in "\r\n"):
        return "must be a single line (no newlines)"
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        return "must not contain control characters"
    return None


def _slug(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    if not SLUG_MIN <= len(value) <= SLUG_MAX:
        return f"must be {SLUG_MIN}-{SLUG_MAX} characters long"
    if not _SLUG_RE.match(value):
        return (
            "must start with a lowercase letter, contain only lowercase letters, digits and "
            "hyphens, and end with a letter or digit"
        )
    if "--" in value:
        return "must not contain consecutive hyphens"
    if "google" in value or value.startswith("goog"):
        return "must not contain 'google' or start with 'goog' (GCP reserves them)"
    return None


def _parent(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _PARENT_RE.match(value):
        return "must be organizations/<digits> or folders/<digits>"
    return None


def _billing(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _BILLING_RE.match(value):
        return "must be a billing account id XXXXXX-XXXXXX-XXXXXX of uppercase hex digits"
    return None


def _choice(options: tuple[str, ...]) -> Rule:
    def rule(value: Any, answers: Mapping[str, Any]) -> str | None:
        if value not in options:
            return "must be one of: " + ", ".join(options)
        return None

    return rule


def _environments(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list) or not value:
        return f"must be a list of 1-{MAX_ENVIRONMENTS} environment names in promotion order"
    if len(value) > MAX_ENVIRONMENTS:
        return f"must have at most {MAX_ENVIRONMENTS} environments"
    for env in value:
        if not isinstance(env, str) or not _ENV_RE.match(env):
            return f"{env!r} must match ^[a-z][a-z0-9]{{1,7}}$ (2-8 lowercase letters/digits)"
    if len(set(value)) != len(value):
        return "names must be unique"
    if "cicd" in value or "tfstate" in value:
        return "'cicd' and 'tfstate' are reserved names"
    return None


def _branches(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, dict):
        return "must be a mapping of environment name to branch name (empty for the defaults)"
    envs = answers.get("environments") or []
    for env, branch in value.items():
        if env not in envs:
            return f"names environment {env!r}, which is not in environments {envs}"
        if not isinstance(branch, str) or not _BRANCH_RE.match(branch) or ".." in branch:
            return f"branch {branch!r} must be a plain git branch name"
        if branch.endswith((".lock", "/", ".")):
            return f"branch {branch!r} must not end with '.lock', '/' or '.'"
    if isinstance(envs, list) and all(isinstance(e, str) for e in envs) and envs:
        branches = [value.get(e, default_branch(envs, e)) for e in envs]
        if len(set(branches)) != len(branches):
            return f"every environment needs its own branch, got {branches}"
    return None


def _gh_owner(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _GH_OWNER_RE.match(value):
        return (
            "must be a GitHub user or organization: 1-39 letters, digits or single hyphens, "
            "not starting or ending with a hyphen"
        )
    return None


def _gh_repo(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _GH_REPO_RE.match(value) or value in (".", ".."):
        return "must be a GitHub repository name: 1-100 letters, digits, '.', '_' or '-'"
    if value.lower().endswith(".git"):
        return "must not end with .git"
    return None


def _approvers(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of @user or @org/team"
    for item in value:
        if not isinstance(item, str) or not _APPROVER_RE.match(item):
            return f"{item!r} must be @user or @org/team"
    if len(set(value)) != len(value):
        return "must not repeat an approver"
    return None


def _data_scientists(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list):
        return "must be a list of user:<email> or group:<email> (empty for none)"
    for item in value:
        if not isinstance(item, str) or len(item) > 260 or not _PRINCIPAL_RE.match(item):
            return f"{item!r} must be user:<email> or group:<email>"
    if len({v.lower() for v in value}) != len(value):
        return "must not repeat a principal"
    return None


def _email(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL_RE.match(value):
        return "must be an email address like ml-team@example.com"
    return None


def _features(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list):
        return "must be a list drawn from: " + ", ".join(FEATURES)
    unknown = [f for f in value if f not in FEATURES]
    if unknown:
        return f"unknown feature(s) {unknown}; choose from: " + ", ".join(FEATURES)
    if len(set(value)) != len(value):
        return "must not repeat a feature"
    return None


def _adopt(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, dict):
        return "must be a mapping of environment name (or 'shared') to an existing project id"
    layout = answers.get("project_layout")
    envs = answers.get("environments") or []
    allowed = ["shared"] if layout == "single_project" else [*envs, "cicd"]
    for key, project in value.items():
        if key not in allowed:
            return f"key {key!r} is not allowed here; use one of {allowed}"
        if not isinstance(project, str) or not _PROJECT_ID_RE.match(project):
            return f"{project!r} is not a GCP project id (6-30 chars, [a-z][-a-z0-9]*[a-z0-9])"
    if len(set(value.values())) != len(value):
        return "each environment needs its own project (use single_project to share one)"
    return None


def _suffix(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _SUFFIX_RE.match(value):
        return f"must be {SUFFIX_LEN} lowercase letters or digits"
    return None


def _git_url(value: Any, answers: Mapping[str, Any]) -> str | None:
    if answers.get("module_source") != "git":
        return None
    if not isinstance(value, str) or not _GIT_URL_RE.match(value):
        return "must be a git URL (https://, ssh://, git@ or an absolute path) of the template repo"
    return None


_INDEX_URL_RE = re.compile(r"^https://[^\s?#]+/simple/?$")


def is_index_url(value: str) -> bool:
    """A PEP 503 package index (`https://.../simple/`), as opposed to a git URL."""
    return bool(_INDEX_URL_RE.match(value))


def _mlopsgen_source(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not (
        value == "" or _GIT_URL_RE.match(value) or is_index_url(value)
    ):
        return (
            "must be empty (the template repo .copier-answers.yml records), a git URL of the "
            "template repo (https://, ssh://, git@ or an absolute path) or a package index URL "
            "ending in /simple/ that serves mlopsgen's releases"
        )
    return None


def _bool(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, bool):
        return "must be true or false"
    return None


def _installation_id(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{0,20}", value):
        return "must be empty or the digits of a GitHub App installation id"
    return None


ORCHESTRATORS = ("airflow", "jenkins")
# data classification labels of the data stores (answer data_classification)
DATA_CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
_LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{1,63}$")


def _label_value(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str) or not _LABEL_VALUE_RE.match(value):
        return "must be a label value: 1-63 lowercase letters, digits, '-' or '_'"
    return None
# cron fields: (name, low, high, names accepted for the values)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                      "nov", "dec")),
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_CRON_ATOM_RE = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        value = int(text)
    elif text in names:
        value = names.index(text) + (1 if low == 1 else 0)
    else:
        return None
    return value if low <= value <= high else None


def _cron_atom_problem(
    text: str, atom: str, rule: tuple[str, int, int, tuple[str, ...]]
) -> str | None:
    """Why one comma-separated part `atom` of the cron field `text` is not valid, or None."""
    name, low, high, names = rule
    match = _CRON_ATOM_RE.match(atom)
    if not match:
        return f"{name} field {text!r}: {atom!r} is not *, a value, a range or a step"
    base, step = match.group(1), match.group(2)
    if base != "*":
        parsed = [_cron_value(part, low, high, names) for part in base.split("-")]
        bounds = [b for b in parsed if b is not None]
        if len(bounds) != len(parsed):
            return f"{name} field {text!r}: values must be {low}-{high}" + (
                f" or {'/'.join(names)}" if names else ""
            )
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            return f"{name} field {text!r}: range {base!r} runs backwards"
    if step is not None and not 1 <= int(step) <= high:
        return f"{name} field {text!r}: step /{step} must be 1-{high}"
    return None


def cron_problem(expression: str) -> str | None:
    """Why a 5-field cron expression is not a sensible retraining schedule, or None."""
    fields = expression.lower().split()
    if len(fields) != 5:
        return (
            "must be a cron expression of 5 fields: minute hour day-of-month month day-of-week, "
            "e.g. '0 3 * * 1' (03:00 every Monday)"
        )
    for text, rule in zip(fields, _CRON_FIELDS, strict=True):
        for atom in text.split(","):
            problem = _cron_atom_problem(text, atom, rule)
            if problem:
                return problem
    if not re.fullmatch(r"[0-9]+", fields[0]):
        return (
            "minute field must be a single minute (0-59): retraining more often than once an "
            "hour is not a sensible schedule"
        )
    days_in_month = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    day, month = fields[2], fields[3]
    month_value = _cron_value(month, 1, 12, _CRON_FIELDS[3][3])
    if day.isdigit() and month_value is not None and int(day) > days_in_month[month_value - 1]:
        return f"day {day} never occurs in month {month!r}: the schedule would never run"
    return None


def _cron(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return "must be a cron expression (text), e.g. '0 3 * * 1'"
    return cron_problem(value)


def _orchestrators(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list):
        return "must be a list drawn from: " + ", ".join(ORCHESTRATORS) + " (empty for none)"
    unknown = [o for o in value if o not in ORCHESTRATORS]
    if unknown:
        return f"unknown orchestrator(s) {unknown}; choose from: " + ", ".join(ORCHESTRATORS)
    if len(set(value)) != len(value):
        return "must not repeat an orchestrator"
    return None


def _composer(value: Any, answers: Mapping[str, Any]) -> str | None:
    if not isinstance(value, bool):
        return "must be true or false"
    orchestrators = answers.get("orchestrators")
    if value and not (isinstance(orchestrators, list) and "airflow" in orchestrators):
        return "a Cloud Composer environment runs the Airflow DAGs: add airflow to orchestrators"
    return None


def _retention_days(value: Any, answers: Mapping[str, Any]) -> str | None:
    # bool is an int in Python: refuse it explicitly
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of days"
    if not 1 <= value <= 3650:
        return "must be between 1 and 3650 days (Cloud Logging's range for a log bucket)"
    return None


def _slo_latency(value: Any, answers: Mapping[str, Any]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number of milliseconds"
    if not 1 <= value <= 600000:
        return "must be between 1 and 600000 ms (10 minutes)"
    return None


def _slo_error_percent(value: Any, answers: Mapping[str, Any]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number (percent of responses)"
    if not 0 < value < 100:
        return "must be more than 0 and less than 100 (percent)"
    return None


# --- the questions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    name: str
    type: str  # copier type: str | bool | yaml
    help: str
    default: Any  # a value, or a Jinja expression string for copier (see copier_default)
    rule: Rule
    choices: tuple[str, ...] = ()
    multiselect: bool = False
    when: str | None = None
    # default used when validating outside copier (Python callers); None = same as `default`
    python_default: Callable[[Mapping[str, Any]], Any] | None = field(default=None, compare=False)

    def default_for(self, answers: Mapping[str, Any]) -> Any:
        if self.python_default is not None:
            return self.python_default(answers)
        return self.default


QUESTIONS: tuple[Question, ...] = (
    Question(
        "client_name",
        "str",
        "Client's name as people write it (any characters; used in docs, descriptions, labels)",
        "Acme Retail",
        _text,
    ),
    Question(
        "client_slug",
        "str",
        "Short id for resource names: 3-20 chars, lowercase letters, digits, hyphens",
        "{{ mlopsgen_slugify(client_name) }}",
        _slug,
        python_default=lambda a: slugify(str(a.get("client_name", ""))),
    ),
    Question(
        "gcp_parent",
        "str",
        "Where projects are created: organizations/<id> or folders/<id>",
        "organizations/123456789012",
        _parent,
    ),
    Question(
        "billing_account",
        "str",
        "Billing account for new projects (XXXXXX-XXXXXX-XXXXXX)",
        "000000-000000-000000",
        _billing,
    ),
    Question(
        "project_layout",
        "str",
        "per_environment: one project per environment; single_project: all environments in one",
        "per_environment",
        _choice(LAYOUTS),
        choices=LAYOUTS,
    ),
    Question(
        "environments",
        "yaml",
        "Environments in promotion order (1-5 names, ^[a-z][a-z0-9]{1,7}$)",
        ["dev", "staging", "prod"],
        _environments,
    ),
    Question(
        "environment_branches",
        "yaml",
        "Branch per environment, only where it differs from the default "
        "(the last environment uses main, the others their own name)",
        {},
        _branches,
    ),
    Question(
        "region",
        "str",
        "Vertex AI region for every regional resource",
        "us-central1",
        _choice(VERTEX_REGIONS),
        choices=VERTEX_REGIONS,
    ),
    Question(
        "adopt_project_ids",
        "yaml",
        "Existing projects to adopt instead of creating: {env: project-id}, plus 'cicd' for the "
        "CI/CD project (single_project: {shared: project-id}); empty = create every project",
        {},
        _adopt,
    ),
    Question(
        "github_owner",
        "str",
        "GitHub organization or user that owns the client repo",
        "{{ client_slug }}",
        _gh_owner,
        python_default=lambda a: str(a.get("client_slug", "")),
    ),
    Question(
        "github_repo",
        "str",
        "GitHub repository name of the client repo",
        "{{ client_slug }}-mlops",
        _gh_repo,
        python_default=lambda a: f"{a.get('client_slug', '')}-mlops",
    ),
    Question(
        "approvers",
        "yaml",
        "Who approves promotions: a list of @user or @org/team (CODEOWNERS, required reviews)",
        '["@{{ github_owner }}/ml-platform"]',
        _approvers,
        python_default=lambda a: [f"@{a.get('github_owner', '')}/ml-platform"],
    ),
    Question(
        "data_scientists",
        "yaml",
        "Who opens and runs the Workbench notebooks: a list of user:<email> or group:<email> "
        "(they get the instance and act as its service account; Google admits individual "
        "users to a Workbench instance's JupyterLab, so list users); empty for none",
        [],
        _data_scientists,
    ),
    Question(
        "notification_email",
        "str",
        "Email address that receives pipeline and alert notifications",
        "ml-alerts@example.com",
        _email,
    ),
    Question(
        "features",
        "yaml",
        "Optional platform features",
        ["workbench", "automl"],
        _features,
        choices=FEATURES,
        multiselect=True,
    ),
    Question(
        "slo_latency_p99_ms",
        "int",
        "Serving SLO of the online endpoint: alert when the p99 prediction latency stays above "
        "this many milliseconds (the dashboard draws it too)",
        1000,
        _slo_latency,
        when="{{ 'model_deployment' in features or 'model_monitoring' in features }}",
    ),
    Question(
        "slo_error_rate_percent",
        "float",
        "Serving SLO of the online endpoint: alert when more than this percent of responses "
        "are server errors (5xx)",
        1.0,
        _slo_error_percent,
        when="{{ 'model_deployment' in features or 'model_monitoring' in features }}",
    ),
    Question(
        "module_source",
        "str",
        "vendored: the client repo carries copies of the modules; git: modules pinned by git ref",
        "vendored",
        _choice(MODULE_SOURCES),
        choices=MODULE_SOURCES,
    ),
    Question(
        "module_git_url",
        "str",
        "Git URL of this template repo (module sources are pinned to it by tag)",
        "{{ mlopsgen_template_url() or _copier_answers._src_path }}",
        _git_url,
        when="{{ module_source == 'git' }}",
        python_default=lambda a: "",
    ),
    Question(
        "mlopsgen_source",
        "str",
        "Where the client repo's CI installs mlopsgen, always the version of this template "
        "(.copier-answers.yml _commit): empty = the template repo .copier-answers.yml records "
        "(_src_path); or a git URL of it (a mirror); or a package index URL ending in /simple/ "
        "that serves its releases (e.g. an Artifact Registry Python repository)",
        "",
        _mlopsgen_source,
    ),
    Question(
        "name_suffix",
        "str",
        "Suffix that keeps global names unique (derived; keep the default)",
        "{{ mlopsgen_suffix(client_slug, gcp_parent) }}",
        _suffix,
        python_default=lambda a: derive_suffix(
            str(a.get("client_slug", "")), str(a.get("gcp_parent", ""))
        ),
    ),
    Question(
        "github_create_repo",
        "bool",
        "Create the GitHub repository (true) or manage the existing one, imported (false)",
        False,
        _bool,
    ),
    Question(
        "github_app_installation_id",
        "str",
        "Installation id of the Google Cloud Build GitHub App on the owner (digits; empty until "
        "the app is installed: the Cloud Build connection and triggers wait for it)",
        "",
        _installation_id,
    ),
    Question(
        "template_updates",
        "bool",
        "Keep the repo current by itself: a scheduled Cloud Build (template-update) opens one "
        "pull request per newer template release (false: update with mlopsgen update / fleet "
        "update instead)",
        True,
        _bool,
    ),
    Question(
        "template_update_schedule",
        "str",
        "When the template-update build looks for a newer release: a 5-field cron expression "
        "in UTC (at most hourly), e.g. '0 6 * * 1' = 06:00 every Monday",
        "0 6 * * 1",
        _cron,
        when="{{ template_updates }}",
    ),
    Question(
        "orchestrators",
        "yaml",
        "Automation beside Cloud Build: airflow (scheduled / data-triggered retraining DAGs), "
        "jenkins (a Jenkinsfile running the same CI/CD steps); empty for none",
        [],
        _orchestrators,
        choices=ORCHESTRATORS,
        multiselect=True,
    ),
    Question(
        "retrain_schedule",
        "str",
        "When Airflow retrains each environment: a 5-field cron expression in UTC "
        "(at most hourly), e.g. '0 3 * * 1' = 03:00 every Monday",
        "0 3 * * 1",
        _cron,
        when="{{ 'airflow' in orchestrators }}",
    ),
    Question(
        "composer",
        "bool",
        "Create a Cloud Composer 3 environment per environment to run the Airflow DAGs",
        False,
        _composer,
        when="{{ 'airflow' in orchestrators }}",
    ),
    Question(
        "guardrails",
        "bool",
        "Organization policies on every environment project (uniform bucket access, public access "
        "prevention, no service account keys, no external VM IPs, resources in the region; with "
        "cmek, CMEK required): whoever applies terraform/bootstrap needs "
        "roles/orgpolicy.policyAdmin on the organization (mlopsgen preflight checks it)",
        False,
        _bool,
    ),
    Question(
        "audit_log_retention_days",
        "int",
        "How long the locked audit log bucket in the CI/CD project keeps every project's admin "
        "and data access audit logs (days, 1-3650; a locked bucket's retention can only grow)",
        400,
        _retention_days,
    ),
    Question(
        "data_owner",
        "str",
        "Who owns the platform's data, as a label value (a team or person: lowercase letters, "
        "digits, '-', '_'): the owner label of every dataset, bucket and quality scan, so the "
        "catalog search shows who owns what",
        "ml-platform",
        _label_value,
    ),
    Question(
        "data_classification",
        "str",
        "How sensitive the training data and predictions are: the data-classification label of "
        "the datasets and buckets",
        "confidential",
        _choice(DATA_CLASSIFICATIONS),
        choices=DATA_CLASSIFICATIONS,
    ),
    Question(
        "data_retention",
        "str",
        "How long data without an expiry (training data, predictions, the data lake) is kept, "
        "as a label value such as 7y, 400d or indefinite: the retention label of those stores "
        "(the run tables and the pipeline root are labelled with their own expiry)",
        "indefinite",
        _label_value,
    ),
)

QUESTION_BY_NAME: dict[str, Question] = {q.name: q for q in QUESTIONS}


def check_question(name: str, value: Any, answers: Mapping[str, Any]) -> str | None:
    """Check one answer; return the error message for copier's validator, or None."""
    question = QUESTION_BY_NAME[name]
    if question.multiselect and question.type == "yaml" and isinstance(value, tuple):
        value = list(value)
    problem = question.rule(value, answers)
    if problem:
        return f"{name}: {value!r} is not valid: {problem}"
    return None


def with_defaults(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Fill every missing answer with its default, in question order (defaults may depend on
    earlier answers)."""
    filled: dict[str, Any] = {}
    for question in QUESTIONS:
        if question.name in answers:
            filled[question.name] = answers[question.name]
        else:
            filled[question.name] = question.default_for(filled)
    extra = {k: v for k, v in answers.items() if k not in filled}
    filled.update(extra)
    return filled


def validate_fields(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Check every answer against its own rule (defaults filled in); raise AnswersError naming
    every problem; return the filled answers. Names derived from several answers are checked
    by `generator.model.validate_answers`."""
    filled = with_defaults(answers)
    problems: list[Problem] = []
    unknown = sorted(
        k for k in answers if k not in QUESTION_BY_NAME and not str(k).startswith("_")
    )
    for key in unknown:
        problems.append(Problem(key, answers[key], "is not a question of this template"))
    for question in QUESTIONS:
        value = filled[question.name]
        if question.name == "module_git_url" and filled.get("module_source") != "git":
            continue
        message = question.rule(value, filled)
        if message:
            problems.append(Problem(question.name, value, message))
    if problems:
        raise AnswersError(problems)
    return filled
