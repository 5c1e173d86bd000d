"""With the default answers nothing of Airflow or Jenkins is rendered; each orchestrator renders
only its own files; Composer Terraform only with `composer`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import model
from generator.answers import AnswersError, check_question, cron_problem

from ..conftest import load_example

ORCHESTRATOR_PATHS = ("dags", "Jenkinsfile", "docs/orchestrators.md",
                      "terraform/bootstrap/jenkins.tf")


def _composer_files(repo: Path) -> list[Path]:
    return sorted((repo / "terraform" / "envs").glob("*/composer.tf"))


@pytest.mark.parametrize("example", ["full", "minimal"])
def test_default_answers_render_no_orchestrator(example: str, render_repo: Any) -> None:
    repo = render_repo(load_example(example))
    for path in ORCHESTRATOR_PATHS:
        assert not (repo / path).exists(), path
    assert _composer_files(repo) == []
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert answers.get("orchestrators") in ([], None)


def test_each_orchestrator_renders_only_its_files(render_repo: Any) -> None:
    airflow = render_repo({**load_example("minimal"), "orchestrators": ["airflow"]})
    assert (airflow / "dags" / "retrain.py").is_file()
    assert not (airflow / "Jenkinsfile").exists()
    assert not (airflow / "terraform" / "bootstrap" / "jenkins.tf").exists()
    assert _composer_files(airflow) == []
    doc = (airflow / "docs" / "orchestrators.md").read_text()
    assert "## Airflow" in doc and "## Jenkins" not in doc and "### Cloud Composer" not in doc

    jenkins = render_repo({**load_example("minimal"), "orchestrators": ["jenkins"]})
    assert (jenkins / "Jenkinsfile").is_file()
    assert (jenkins / "terraform" / "bootstrap" / "jenkins.tf").is_file()
    assert not (jenkins / "dags").exists()
    doc = (jenkins / "docs" / "orchestrators.md").read_text()
    assert "## Jenkins" in doc and "## Airflow" not in doc


def test_composer_renders_one_environment_per_env_root(render_repo: Any) -> None:
    answers = {**load_example("full"), "orchestrators": ["airflow"], "composer": True}
    repo = render_repo(answers)
    ctx = model.build_context(model.validate_answers(answers))
    files = _composer_files(repo)
    assert [f.parent.name for f in files] == sorted(ctx["environment_names"])
    for env in ctx["environments"]:
        text = (repo / "terraform" / "envs" / env["name"] / "composer.tf").read_text()
        names = ctx["orchestrators"]["composer_environments"][env["name"]]
        assert f'name                        = "{names["name"]}"' in text
        assert f'service_account_id          = "{names["service_account"]}"' in text
        assert 'source = "../../modules/composer"' in text
        assert f'MLOPS_ENVIRONMENTS = "{env["name"]}"' in text
    assert (repo / "terraform" / "modules" / "composer" / "main.tf").is_file()
    doc = (repo / "docs" / "orchestrators.md").read_text()
    assert "### Cloud Composer" in doc
    for env in ctx["environments"]:
        assert ctx["orchestrators"]["composer_environments"][env["name"]]["name"] in doc


@pytest.mark.terraform
def test_composer_terraform_is_formatted(render_repo: Any) -> None:
    repo = render_repo({**load_example("full"), "orchestrators": ["airflow"], "composer": True})
    targets = [str(p) for p in _composer_files(repo)]
    targets.append(str(repo / "terraform" / "modules" / "composer"))
    for target in targets:
        result = subprocess.run(["terraform", "fmt", "-check", "-diff", target],
                                capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 3 * * 1", None),
        ("30 4 * * 1-5", None),
        ("0 */6 * * *", None),
        ("15 2 1,15 jan-mar mon", None),
        ("0 3 29 2 *", None),
        ("0 3 * *", "5 fields"),
        ("0 3 * * * *", "5 fields"),
        ("*/5 * * * *", "more often than once an hour"),
        ("0,30 * * * *", "more often than once an hour"),
        ("60 3 * * *", "values must be 0-59"),
        ("0 3 0 * *", "values must be 1-31"),
        ("0 3 * 13 *", "values must be 1-12"),
        ("0 3 * * 8", "values must be 0-7"),
        ("0 3 5-1 * *", "runs backwards"),
        ("0 */0 * * *", "step /0"),
        ("0 3 31 4 *", "never occurs"),
        ("0 3 ? * 1", "not *, a value, a range or a step"),
        ("@daily", "5 fields"),
    ],
)
def test_cron_rule(expression: str, problem: str | None) -> None:
    found = cron_problem(expression)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


def test_orchestrator_rules_beyond_copier() -> None:
    """Copier itself de-duplicates a multiselect and casts booleans; the model still refuses."""
    base = load_example("full")
    with pytest.raises(AnswersError) as caught:
        model.validate_answers({**base, "orchestrators": ["jenkins", "jenkins"]})
    assert {p.question for p in caught.value.problems} == {"orchestrators"}
    with pytest.raises(AnswersError) as caught:
        model.validate_answers({**base, "orchestrators": ["airflow"], "composer": "yes"})
    assert {p.question for p in caught.value.problems} == {"composer"}
    message = check_question("composer", True, {"orchestrators": []})
    assert message is not None and "add airflow to orchestrators" in message
    assert check_question("retrain_schedule", 5, {}) is not None
    ctx = model.build_context(model.validate_answers({**base, "orchestrators": ["jenkins"]}))
    assert ctx["orchestrators"]["composer"] is False
    assert ctx["orchestrators"]["composer_environments"] == {}
