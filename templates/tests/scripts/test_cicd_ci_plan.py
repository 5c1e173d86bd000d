"""The pure parts of the CI's Terraform steps: allowances, the trigger against the repo, plan
locations, the Cloud Build run request, and how CI installs mlopsgen (scripts/ci_plan.py,
plans.py, cloudbuild_api.py, ci_tools.py). The builds themselves run end to end in mlopsgen's
own tests (a local Cloud Build runner with GitHub, Cloud Storage and Cloud Build stand-ins)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ci_plan
import ci_tools
import cloudbuild_api
import plans
import pytest

SHA = "0123456789abcdef0123456789abcdef01234567"
ROOT = Path(__file__).resolve().parents[2]


def test_allowances_name_an_address_and_a_reason() -> None:
    text = "# allowed destroys\n\nmodule.platform.google_storage_bucket.x  # renamed, data copied\n"
    assert ci_plan.parse_allowances(text, "f") == [
        ci_plan.Allowance("module.platform.google_storage_bucket.x", "renamed, data copied")]
    for bad, line in (("module.x.google_storage_bucket.y", 1), ("a b # why", 1),
                      ("# fine\nx #   ", 2)):
        with pytest.raises(ci_plan.CiError, match=f"f:{line}: write"):
            ci_plan.parse_allowances(bad, "f")


def test_the_trigger_must_name_the_roots_state(tmp_path: Path) -> None:
    (tmp_path / "backend.tf").write_text('terraform {\n  backend "gcs" {\n    bucket = "b"\n'
                                         '    prefix = "envs/dev"\n  }\n}\n')
    assert ci_plan.backend_problems(tmp_path, "b", "envs/dev") == []
    problems = ci_plan.backend_problems(tmp_path, "other", "envs/dev")
    assert len(problems) == 1 and 'bucket = "other"' in problems[0]


def test_summary_line_for_the_approver() -> None:
    record = {"summary": {"totals": {"create": 2, "update": 0, "delete": 1, "replace": 0}},
              "policy": {"violations": [{"address": "a.b", "allowed": True}]}}
    assert ci_plan.plan_summary_line(record) == ("2 create, 0 update, 1 delete, 0 replace; "
                                                 "allowed destroys: a.b")


def test_plan_locations() -> None:
    prefix = plans.plan_prefix("dev", "merge", SHA, "b-1")
    assert prefix == f"dev/merge/{SHA}/b-1/"
    uri = plans.plan_uri("acme-ci-plans", prefix)
    assert plans.parse_uri(uri) == ("acme-ci-plans", prefix)
    plans.check_kind(uri, "dev", "merge")
    for env, kind in (("prod", "merge"), ("dev", "pr")):
        with pytest.raises(plans.PlansError, match="is not a"):
            plans.check_kind(uri, env, kind)
    for args in (("dev", "apply", SHA, "b"), ("dev", "pr", "main", "b"), ("dev", "pr", SHA, "")):
        with pytest.raises(plans.PlansError):
            plans.plan_prefix(*args)
    with pytest.raises(plans.PlansError, match="not a plan location"):
        plans.parse_uri("gs://acme-ci-plans/dev/x")


def test_run_request() -> None:
    assert cloudbuild_api.run_request(SHA, "dev", {"_PLAN_URI": "gs://x/"}) == {
        "source": {"commitSha": SHA, "branchName": "dev", "substitutions": {"_PLAN_URI": "gs://x/"}}}
    assert cloudbuild_api.run_request(SHA, "", {}) == {"source": {"commitSha": SHA}}


PROJECT = {
    "dependency-groups": {"ci-scripts": ["a==1", "b==2"],
                          "ci": [{"include-group": "ci-scripts"}]},
    "tool": {"mlopsgen": {"ci": {"mlopsgen-group": "ci", "distribution": "mlops-foundations",
                                 "source": "", "index-bootstrap": []}}},
}


def _settings(**kw: object) -> dict[str, object]:
    return {**PROJECT["tool"]["mlopsgen"]["ci"], **kw}  # type: ignore[index]


@pytest.mark.parametrize(("source", "commit", "expected"), [
    ("", "v1.2.0", "mlops-foundations @ git+https://github.com/acme/t.git@v1.2.0"),
    ("", "v1.2.0-3-gabc1234", "mlops-foundations @ git+https://github.com/acme/t.git@abc1234"),
    ("/srv/template", "v1.2.0", "mlops-foundations @ git+file:///srv/template@v1.2.0"),
    ("git@github.com:acme/t.git", "v1.2.0",
     "mlops-foundations @ git+ssh://git@github.com/acme/t.git@v1.2.0"),
    ("https://europe-python.pkg.dev/p/r/simple/", "v1.2.0", "mlops-foundations==1.2.0"),
])
def test_mlopsgen_is_pinned_to_the_recorded_template_version(source: str, commit: str,
                                                             expected: str) -> None:
    answers = ci_tools.recorded(f"_commit: {commit}\n_src_path: 'https://github.com/acme/t.git'\n")
    assert ci_tools.mlopsgen_requirement(_settings(source=source), answers) == expected


def test_an_index_serves_releases_only() -> None:
    answers = {"_commit": "v1.2.0-3-gabc1234", "_src_path": "x"}
    with pytest.raises(ci_tools.ToolsError, match="not a release"):
        ci_tools.mlopsgen_requirement(_settings(source="https://pkg.example/simple/"), answers)
    with pytest.raises(ci_tools.ToolsError, match="records no _commit"):
        ci_tools.mlopsgen_requirement(_settings(), {})


def test_groups_and_pip_runs() -> None:
    answers = "_commit: v1.0.0\n_src_path: /t\n"
    assert ci_tools.requirements(PROJECT, "ci-scripts", answers) == ["a==1", "b==2"]
    assert ci_tools.requirements(PROJECT, "ci", answers)[-1] == \
        "mlops-foundations @ git+file:///t@v1.0.0"
    with pytest.raises(ci_tools.ToolsError, match="no dependency group 'x'"):
        ci_tools.requirements(PROJECT, "x", answers)
    indexed = {**PROJECT, "tool": {"mlopsgen": {"ci": _settings(
        source="https://r.pkg.dev/p/simple/", **{"index-bootstrap": ["keyring==1"]})}}}
    first, second = ci_tools.pip_commands(indexed, "req.txt", "/v/bin/python")
    assert first[:3] == ["/v/bin/python", "-m", "pip"] and first[-1] == "keyring==1"
    assert second[-4:] == ["-r", "req.txt", "--index-url", "https://r.pkg.dev/p/simple/"]
    (only,) = ci_tools.pip_commands(PROJECT, "req.txt", "/v/bin/python")
    assert only[0] == "/v/bin/python" and only[-2:] == ["-r", "req.txt"]


def test_the_ci_venv_is_under_the_workspace() -> None:
    """Cloud Build keeps only /workspace between steps: the venv the later steps run is there."""
    python = ci_tools.venv_python(Path("/workspace"))
    assert python == Path("/workspace/.mlopsgen/ci/venv/bin/python")
    for config in sorted((ROOT / "cloudbuild").glob("*.yaml")):
        text = config.read_text(encoding="utf-8")
        if "ci_tools.py install" in text:
            assert f"{python.parent}" in text, f"{config.name} installs the CI venv, never runs it"


def test_this_repo_pins_mlopsgen() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "ci_tools.py"), "requirements",
                           "--group", "ci"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("mlops-foundations")
