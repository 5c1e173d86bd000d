"""Each classic Terraform mistake, injected into a valid repo, makes `mlopsgen validate` fail
with a clear message naming the file and line, as terraform itself reports it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.validate import validate_repo
from tests.offline.conftest import needs_terraform

pytestmark = [needs_terraform, pytest.mark.terraform]

ENV = "terraform/envs/dev/main.tf"
BUCKET = "terraform/modules/bucket/main.tf"
SKIP = ("cloudbuild", "checkov", "test", "fmt")


@dataclass(frozen=True)
class Mistake:
    file: str
    old: str
    new: str
    expect: tuple[str, ...]  # all must appear in one problem message
    line_of: str  # the problem's line holds this text (after the edit)


MISTAKES: dict[str, Mistake] = {
    "unknown argument": Mistake(
        BUCKET,
        "  force_destroy               = var.force_destroy\n",
        '  force_destroy               = var.force_destroy\n  storage_clas = "STANDARD"\n',
        ("Unsupported argument", '"storage_clas" is not expected here'),
        "storage_clas",
    ),
    "missing required argument": Mistake(
        BUCKET,
        "  location                    = var.location\n",
        "",
        ("Missing required argument", '"location" is required'),
        'resource "google_storage_bucket" "this"',
    ),
    "undeclared variable": Mistake(
        ENV,
        'account_id   = "pipeline-dev"',
        "account_id   = var.pipeline_account",
        ("Reference to undeclared input variable", '"pipeline_account"'),
        "var.pipeline_account",
    ),
    "wrong type (list for string)": Mistake(
        ENV,
        'display_name = "Vertex AI pipelines (dev)"',
        'display_name = ["Vertex AI", "pipelines"]',
        ("Incorrect attribute value type", "string required"),
        "display_name",
    ),
    "module call with undeclared input": Mistake(
        ENV,
        '  name       = "acme-ml-dev-data"\n',
        '  name       = "acme-ml-dev-data"\n  colour     = "blue"\n',
        ("Unsupported argument", '"colour" is not expected here'),
        "colour",
    ),
    "block written as attribute": Mistake(
        BUCKET,
        "  versioning {\n    enabled = true\n  }\n",
        "  versioning = {\n    enabled = true\n  }\n",
        ("Unsupported argument", 'block of type "versioning"'),
        "versioning = {",
    ),
    "too many blocks": Mistake(
        BUCKET,
        "  versioning {\n    enabled = true\n  }\n",
        "  versioning {\n    enabled = true\n  }\n"
        "  versioning { # again\n    enabled = false\n  }\n",
        ("Too many versioning blocks", 'No more than 1 "versioning" blocks are allowed'),
        "versioning { # again",
    ),
    "unknown resource type": Mistake(
        ENV,
        'resource "google_artifact_registry_repository" "images"',
        'resource "google_artifact_registry_repo" "images"',
        ("Invalid resource type", "google_artifact_registry_repo"),
        "google_artifact_registry_repo",
    ),
    "beta-only type without provider = google-beta": Mistake(
        ENV,
        "  provider = google-beta\n",
        "",
        ("google_project_service_identity", "exists only in hashicorp/google-beta"),
        'resource "google_project_service_identity" "vertex"',
    ),
    "computed-only attribute set": Mistake(
        ENV,
        'display_name = "Vertex AI pipelines (dev)"',
        'display_name = "Vertex AI pipelines (dev)"\n  email        = "pipeline@acme.example"',
        ("Value for unconfigurable attribute", 'Can\'t configure a value for "email"'),
        "email        =",
    ),
    # the providers' own value checks (generator/offline/behaviour.py, from their Go source)
    "enum value the provider rejects": Mistake(
        BUCKET,
        "      num_newer_versions = 5\n",
        '      num_newer_versions = 5\n      with_state         = "LIVING"\n',
        ("with_state to be one of", '"LIVE" "ARCHIVED" "ANY"', 'got "LIVING"'),
        'with_state         = "LIVING"',
    ),
    "number below the provider's minimum": Mistake(
        ENV,
        'data "google_project" "this" {',
        'resource "google_bigquery_dataset" "scratch" {\n'
        "  project                     = var.project_id\n"
        '  dataset_id                  = "scratch"\n'
        "  location                    = var.region\n"
        "  default_table_expiration_ms = 60000\n"
        "}\n\n"
        'data "google_project" "this" {',
        ("default_table_expiration_ms to be at least 3600000", "got 60000"),
        "default_table_expiration_ms = 60000",
    ),
    "name outside the provider's pattern": Mistake(
        ENV,
        'account_id   = "pipeline-dev"',
        'account_id   = "Pipeline_Dev"',
        ("expected account_id to match the regular expression", 'got "Pipeline_Dev"'),
        'account_id   = "Pipeline_Dev"',
    ),
    "github name outside the provider's pattern": Mistake(
        ENV,
        'variable_name = "GCP_PROJECT"',
        'variable_name = "GCP-PROJECT"',
        ("expected variable_name to match", 'got "GCP-PROJECT"'),
        'variable_name = "GCP-PROJECT"',
    ),
}


def inject(repo: Path, m: Mistake) -> int:
    """Apply the mistake; return the 1-based line that should be reported."""
    path = repo / m.file
    text = path.read_text()
    assert m.old in text, f"fixture drifted: {m.old!r} not in {m.file}"
    text = text.replace(m.old, m.new, 1)
    path.write_text(text)
    for i, line in enumerate(text.splitlines(), 1):
        if m.line_of in line:
            return i
    raise AssertionError(f"{m.line_of!r} not in {m.file}")


def test_the_fixture_repo_passes(fixture_repo: Path) -> None:
    report = validate_repo(fixture_repo, skip=("cloudbuild", "checkov"))
    assert report.ok, [p.one_line() for p in report.problems]
    (env, module) = report.roots
    assert env.to_add["google_storage_bucket_iam_member"] == 2
    assert module.tests == "3 passed, 0 failed"


@pytest.mark.parametrize("name", list(MISTAKES))
def test_injected_mistake_is_caught(name: str, fixture_repo: Path) -> None:
    mistake = MISTAKES[name]
    line = inject(fixture_repo, mistake)
    report = validate_repo(fixture_repo, skip=SKIP)
    assert not report.ok
    matching = [p for p in report.problems if all(e in p.message for e in mistake.expect)]
    assert matching, f"{name}: got {[p.one_line() for p in report.problems]}"
    assert any(p.file == mistake.file and p.line == line for p in matching), (
        f"{name}: expected {mistake.file}:{line}, got {[p.one_line() for p in matching]}"
    )
