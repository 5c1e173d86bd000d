"""Invalid answers are rejected before any file is written, by `mlopsgen new` and by plain
`copier copy`, with a message naming the question, the value and the rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator import model
from generator.answers import QUESTIONS, AnswersError, validate_fields
from generator.cli import main

from .conftest import copier_copy, load_example

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("slo_latency_p99_ms", {"slo_latency_p99_ms": 0}),
    ("slo_latency_p99_ms", {"slo_latency_p99_ms": 600001}),
    ("slo_error_rate_percent", {"slo_error_rate_percent": 100}),
    ("slo_error_rate_percent", {"slo_error_rate_percent": 0}),
    ("client_name", {"client_name": ""}),
    ("client_name", {"client_name": "Acme\nEvil"}),
    ("client_name", {"client_name": "x" * 101}),
    ("client_name", {"client_name": "bell\x07char"}),
    ("client_slug", {"client_slug": "Bad Slug"}),
    ("client_slug", {"client_slug": "ab"}),
    ("client_slug", {"client_slug": "a" * 21}),
    ("client_slug", {"client_slug": "acme--retail"}),
    ("client_slug", {"client_slug": "google-ml"}),
    ("client_slug", {"client_slug": "acme-"}),
    ("client_slug", {"client_slug": "averyveryverylongslu", "environments": ["dev", "stagingx"]}),
    ("gcp_parent", {"gcp_parent": "projects/123"}),
    ("gcp_parent", {"gcp_parent": "folders/abc"}),
    ("billing_account", {"billing_account": "01a2b3-c4d5e6-f7a8b9"}),
    ("billing_account", {"billing_account": "123"}),
    ("project_layout", {"project_layout": "hybrid"}),
    ("environments", {"environments": []}),
    ("environments", {"environments": ["dev", "dev"]}),
    ("environments", {"environments": ["Dev"]}),
    ("environments", {"environments": ["a1", "b1", "c1", "d1", "e1", "f1"]}),
    ("environments", {"environments": ["d"]}),
    ("environments", {"environments": "dev,prod"}),
    ("environment_branches", {"environment_branches": {"dev": "main"}}),
    ("environment_branches", {"environment_branches": {"qa": "qa"}}),
    ("region", {"region": "mars-1"}),
    ("github_owner", {"github_owner": "-bad"}),
    ("github_repo", {"github_repo": "bad repo"}),
    ("approvers", {"approvers": ["alice"]}),
    ("approvers", {"approvers": []}),
    ("data_scientists", {"data_scientists": ["ana@northwind.example"]}),
    ("data_scientists", {"data_scientists": "user:ana@northwind.example"}),
    ("data_scientists", {"data_scientists": ["user:ana@x.example", "user:ana@x.example"]}),
    ("data_scientists", {"data_scientists": ["serviceAccount:x@p.iam.gserviceaccount.com"]}),
    ("notification_email", {"notification_email": "not-an-email"}),
    ("features", {"features": ["gpu"]}),
    ("module_source", {"module_source": "svn"}),
    ("mlopsgen_source", {"mlopsgen_source": "http://pypi.example/simple/"}),
    ("mlopsgen_source", {"mlopsgen_source": "mlops-foundations==1.0"}),
    ("adopt_project_ids", {"adopt_project_ids": {"qa": "some-project-1"}}),
    ("adopt_project_ids", {"adopt_project_ids": {"dev": "Bad_Project"}}),
    ("name_suffix", {"name_suffix": "XYZ!"}),
    ("github_app_installation_id", {"github_app_installation_id": "12ab"}),
    ("orchestrators", {"orchestrators": ["argo"]}),
    ("retrain_schedule", {"orchestrators": ["airflow"], "retrain_schedule": "0 3 * *"}),
    ("retrain_schedule", {"orchestrators": ["airflow"], "retrain_schedule": "0 24 * * 1"}),
    ("retrain_schedule", {"orchestrators": ["airflow"], "retrain_schedule": "* * * * *"}),
    ("retrain_schedule", {"orchestrators": ["airflow"], "retrain_schedule": "0 3 31 2 *"}),
    ("retrain_schedule", {"orchestrators": ["airflow"], "retrain_schedule": "0 3 * * 1; rm"}),
    ("template_update_schedule", {"template_update_schedule": "0 6 * *"}),
    ("template_update_schedule", {"template_update_schedule": "* * * * *"}),
    ("composer", {"orchestrators": ["jenkins"], "composer": True}),
    ("audit_log_retention_days", {"audit_log_retention_days": 0}),
    ("data_owner", {"data_owner": "ML Platform"}),
    ("data_owner", {"data_owner": ""}),
    ("data_classification", {"data_classification": "secret"}),
    ("data_retention", {"data_retention": "7 years"}),
]


def _ids() -> list[str]:
    return [f"{q}-{i}" for i, (q, _) in enumerate(INVALID)]


def _answers(override: dict[str, Any]) -> dict[str, Any]:
    return {**load_example("full"), **override}


def test_enough_invalid_cases() -> None:
    assert len(INVALID) >= 20
    # every question with a rule that can fail has at least one case
    covered = {q for q, _ in INVALID}
    # (copier casts any answer to a bool question, so a bool has no invalid value there)
    assert covered >= {q.name for q in QUESTIONS if q.type != "bool"} - {"module_git_url"}


@pytest.mark.parametrize(("question", "override"), INVALID, ids=_ids())
def test_model_rejects(question: str, override: dict[str, Any]) -> None:
    with pytest.raises(AnswersError) as caught:
        model.validate_answers(_answers(override))
    assert question in {p.question for p in caught.value.problems}


@pytest.mark.parametrize(("question", "override"), INVALID, ids=_ids())
def test_mlopsgen_new_rejects_and_writes_nothing(
    question: str, override: dict[str, Any], tmp_path: Path
) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(_answers(override)))
    dest = tmp_path / "client"
    result = CliRunner().invoke(main, ["new", str(dest), "--data-file", str(data_file)])
    assert result.exit_code == 1, result.output  # nothing rendered
    assert "nothing was written" in result.output
    assert f"{question}:" in result.output
    assert not dest.exists()


@pytest.mark.slow
@pytest.mark.parametrize(("question", "override"), INVALID, ids=_ids())
def test_copier_copy_rejects_and_writes_nothing(
    question: str, override: dict[str, Any], tmp_path: Path, template_snapshot: Path
) -> None:
    dest = tmp_path / "client"
    dest.mkdir()  # even an existing (empty) destination stays empty
    result = copier_copy(template_snapshot, dest, _answers(override))
    assert result.returncode != 0
    assert question in result.stderr
    assert list(dest.iterdir()) == []


def test_unknown_answer_key_is_rejected(tmp_path: Path) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(_answers({"colour": "blue"})))
    result = CliRunner().invoke(main, ["new", str(tmp_path / "x"), "--data-file", str(data_file)])
    assert result.exit_code == 1  # nothing rendered
    assert "colour" in result.output


def test_non_empty_destination_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("client work")
    data_file = tmp_path / "answers.yml"
    data_file.write_text(yaml.safe_dump(load_example("minimal")))
    result = CliRunner().invoke(main, ["new", str(tmp_path), "--data-file", str(data_file)])
    assert result.exit_code == 1  # nothing rendered
    assert "not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.yml", "keep.txt"]


def test_examples_are_valid() -> None:
    for name in ("minimal", "full"):
        validate_fields(load_example(name))
        model.validate_answers(load_example(name))


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(AnswersError) as caught:
        model.validate_answers(_answers({"gcp_parent": "x", "region": "y", "approvers": []}))
    assert {p.question for p in caught.value.problems} == {"gcp_parent", "region", "approvers"}
    text = str(caught.value)
    assert "'x'" in text and "organizations/<digits>" in text
