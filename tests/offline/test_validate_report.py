"""mlopsgen validate's pure parts (terraform JSON parsing, locations, hints, the report) and
its command line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import plan_summary, workspace
from generator import validate as v
from generator.cli import main
from generator.tfrunner import Diagnostic, parse_json_lines
from tests.offline.conftest import needs_terraform


def _change(address: str, rtype: str, actions: list[str]) -> dict[str, object]:
    return {"address": address, "type": rtype, "name": address.split(".")[-1], "mode": "managed",
            "change": {"actions": actions}}


def test_planned_changes_are_counted_by_type() -> None:
    """One change counter: validate's root table reads generator.plan_summary's counts."""
    plan = {"resource_changes": [
        _change("google_storage_bucket.a", "google_storage_bucket", ["create"]),
        _change("google_storage_bucket.b", "google_storage_bucket", ["create"]),
        _change("google_project.p", "google_project", ["update"]),
        _change("google_kms_key_ring.k", "google_kms_key_ring", ["delete", "create"]),
        _change("google_project_service.s", "google_project_service", ["no-op"]),
    ]}
    root = v.RootResult("terraform/envs/dev", "root", summary=plan_summary.summarize(plan))
    assert root.to_add == Counter({"google_storage_bucket": 2, "google_kms_key_ring": 1})
    assert (root.to_change, root.to_destroy) == (1, 1)


def test_diagnostics_from_the_ui_stream() -> None:
    events = parse_json_lines(
        'noise\n{"type": "diagnostic", "diagnostic": {"severity": "error", "summary": "B"}}\n'
        '{broken\n'
    )
    assert [Diagnostic.from_json(e["diagnostic"]).summary for e in events] == ["B"]


def test_problem_location_is_relative_to_the_repo(tmp_path: Path) -> None:
    diag = Diagnostic.from_json({
        "severity": "error",
        "summary": "Unsupported argument",
        "detail": 'An argument named "x"\n  is not expected here.',
        "range": {"filename": "../../modules/gcs/main.tf", "start": {"line": 7}},
    })
    p = v.problem_from_diagnostic(diag, "plan", "terraform/envs/dev", tmp_path, lambda _t: "")
    assert (p.file, p.line) == ("terraform/modules/gcs/main.tf", 7)
    assert p.message == 'Unsupported argument: An argument named "x" is not expected here.'
    assert p.one_line() == f"[plan] terraform/modules/gcs/main.tf:7: {p.message}"


def test_type_hints() -> None:
    beta = v.type_hint(
        "The provider hashicorp/google does not support resource type "
        '"google_vertex_ai_metadata_store".'
    )
    assert "exists only in hashicorp/google-beta" in beta and "provider = google-beta" in beta
    missing = v.type_hint(
        'The provider hashicorp/google does not support resource type "google_alloydb_cluster".'
    )
    assert "refresh" in missing and "EXTRA_TYPES" in missing
    assert v.type_hint('does not support resource type "google_no_such_thing"') == ""
    assert v.type_hint("Unsupported argument") == ""


def test_roots_and_test_modules_are_found(fixture_repo: Path) -> None:
    roots = workspace.root_modules(fixture_repo)
    assert [r.relative_to(fixture_repo).as_posix() for r in roots] == ["terraform/envs/dev"]
    modules = v.find_test_modules(fixture_repo, roots)
    assert [m.name for m in modules] == ["bucket"]
    assert workspace.has_backend_block(roots[0])


def test_refuses_what_it_cannot_run(
    fixture_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(v.ValidateError, match="unknown stage"):
        v.validate_repo(fixture_repo, skip=["lint"])
    with monkeypatch.context() as patch:
        patch.setenv("PATH", str(tmp_path / "no-bin"))
        missing = r"terraform is not on PATH: install Terraform >= 1\.9"
        with pytest.raises(v.ValidateError, match=missing):
            v.validate_repo(fixture_repo)
    (tmp_path / "empty").mkdir()
    with pytest.raises(v.ValidateError, match="rendered repo"):
        v.validate_repo(tmp_path / "empty", skip=["cloudbuild", "checkov"])


def test_report_text_and_json() -> None:
    root = v.RootResult(
        "terraform/envs/dev", "root", {"init": "ok", "validate": "in plan", "plan": "ok"},
        summary=plan_summary.summarize({"resource_changes": [
            _change("google_storage_bucket.a", "google_storage_bucket", ["create"]),
            _change("google_storage_bucket.b", "google_storage_bucket", ["create"]),
        ]}),
    )
    bad = v.RootResult("terraform/envs/prod", "root", {"init": "ok", "plan": "failed"})
    bad.problems.append(
        v.Problem("plan", "Missing required argument", "terraform/envs/prod/main.tf", 3)
    )
    report = v.Report(Path("/r"), [root, bad], stages={"fmt": "ok"}, seconds=1.5)
    text = v.format_report(report)
    assert "terraform/envs/dev" in text and "2 to add: 2 google_storage_bucket" in text
    assert "[plan] terraform/envs/prod/main.tf:3: Missing required argument" in text
    assert text.rstrip().endswith("FAILED in 1.5s")
    data = report.to_json()
    assert data["ok"] is False and data["roots"][0]["to_add"] == {"google_storage_bucket": 2}
    assert data["problems"][0]["line"] == 3


@needs_terraform
@pytest.mark.terraform
def test_cli_json_report(fixture_repo: Path) -> None:
    result = CliRunner().invoke(
        main, ["validate", str(fixture_repo), "--json", "--skip", "checkov", "--skip", "cloudbuild"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    assert [r["root"] for r in data["roots"]] == ["terraform/envs/dev", "terraform/modules/bucket"]


@needs_terraform
@pytest.mark.terraform
def test_cli_exits_4_naming_file_and_line(fixture_repo: Path) -> None:
    main_tf = fixture_repo / "terraform/modules/bucket/main.tf"
    text = main_tf.read_text()
    main_tf.write_text(text.replace("  location                    = var.location\n", ""))
    result = CliRunner().invoke(main, [
        "validate", str(fixture_repo), "--skip", "checkov", "--skip", "cloudbuild", "--skip", "test"
    ])
    assert result.exit_code == 4  # it ran, and found what a person must fix
    assert "terraform/modules/bucket/main.tf:1: Missing required argument" in result.output


@needs_terraform
@pytest.mark.terraform
def test_failed_terraform_test_assertion_is_located(fixture_repo: Path) -> None:
    test_file = fixture_repo / "terraform/modules/bucket/tests/bucket.tftest.hcl"
    text = test_file.read_text()
    test_file.write_text(text.replace("force_destroy == false", "force_destroy == true"))
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "force_destroy == false" in ln)
    report = v.validate_repo(fixture_repo, skip=("checkov", "cloudbuild", "fmt"))
    assert not report.ok
    (module,) = [r for r in report.roots if r.kind == "module"]
    assert module.stages["test"] == "failed" and module.tests == "2 passed, 1 failed"
    assert any(
        p.file == "terraform/modules/bucket/tests/bucket.tftest.hcl"
        and p.line == line
        and "buckets must not be force-destroyed by default" in p.message
        for p in report.problems
    ), [p.one_line() for p in report.problems]
