"""The terraform runner against the real terraform binary and `terraform_data` modules."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hookfixtures import ClientRepo, needs_terraform

from generator.tfrunner import (
    Diagnostic,
    Terraform,
    TerraformError,
    TerraformNotFound,
    TerraformTimeout,
    parse_outputs,
)
from generator.versions import MIN_TERRAFORM

pytestmark = [needs_terraform, pytest.mark.terraform, pytest.mark.usefixtures("tf_env")]


def _runner(root: Path, lines: list[str] | None = None, **kw: object) -> Terraform:
    sink = lines if lines is not None else []
    return Terraform(root, progress=sink.append, on_output=sink.append, **kw)  # type: ignore[arg-type]


def test_plan_apply_output_cycle(client_repo: ClientRepo) -> None:
    lines: list[str] = []
    tf = _runner(client_repo.root("dev"), lines)
    assert tf.version().startswith("1.")
    tf.init()
    assert tf.state_info().serial is None  # no state yet

    plan = tf.plan(client_repo.path / "tfplan")
    assert plan.has_changes
    assert plan.plan_file.is_file()
    addresses = sorted(rc["address"] for rc in plan.plan_json["resource_changes"])
    assert addresses == [
        "module.platform.terraform_data.bucket",
        "module.platform.terraform_data.config",
    ]
    # one progress line per stage, and terraform's own messages streamed as text
    assert any(ln.startswith("[init] terraform init") for ln in lines)
    assert any(ln.startswith("[plan] terraform plan") for ln in lines)
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in lines

    tf.apply_plan(plan.plan_file)
    info = tf.state_info()
    assert info.serial is not None and info.lineage
    outputs = tf.output()
    assert outputs["bucket_name"].value == "acme-dev-data"
    assert outputs["bucket_name"].sensitive is False
    assert outputs["token"].sensitive is True
    assert outputs["token"].display() == "<sensitive>"
    assert outputs["label"].type == "string"

    again = tf.plan(client_repo.path / "tfplan2")
    assert not again.has_changes


def test_error_carries_diagnostics(client_repo: ClientRepo) -> None:
    root = client_repo.root("dev")
    (root / "broken.tf").write_text('output "x" {\n  value = var.does_not_exist\n}\n')
    tf = _runner(root)
    tf.init()
    with pytest.raises(TerraformError) as info:
        tf.plan(client_repo.path / "tfplan")
    err = info.value
    assert err.stage == "plan"
    assert err.result is not None and err.result.returncode == 1
    assert err.result.errors
    diag = err.result.errors[0]
    assert diag.summary == "Reference to undeclared input variable"
    assert diag.filename == "broken.tf" and diag.line == 2
    assert "Reference to undeclared input variable" in str(err)
    assert "broken.tf:2" in str(err)


def test_validate_reports_invalid_config(client_repo: ClientRepo) -> None:
    root = client_repo.root("dev")
    tf = _runner(root)
    tf.init(backend=False)
    assert tf.validate() == []
    (root / "broken.tf").write_text('resource "terraform_data" "x" {\n  nope = 1\n}\n')
    with pytest.raises(TerraformError, match="Unsupported argument"):
        tf.validate()


def test_timeout_interrupts_terraform(client_repo: ClientRepo) -> None:
    client_repo.set_vars("dev", sleep_seconds=30)
    tf = _runner(client_repo.root("dev"))
    tf.init()
    plan = tf.plan(client_repo.path / "tfplan")
    slow = Terraform(client_repo.root("dev"), timeout_s=1.5)
    started = time.monotonic()
    with pytest.raises(TerraformTimeout, match="timed out after 2s"):
        slow.apply_plan(plan.plan_file)
    assert time.monotonic() - started < 25  # interrupted, not waited out


def test_missing_binary_is_actionable(tmp_path: Path) -> None:
    with pytest.raises(TerraformNotFound, match="not found on PATH: install Terraform"):
        Terraform(tmp_path, binary="terraform-does-not-exist")


@pytest.mark.parametrize("version", ["1.5.7", "1.8.5"])
def test_terraform_older_than_the_template_supports_is_refused(tmp_path: Path, version: str
                                                               ) -> None:
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\necho '{{\"terraform_version\": \"{version}\"}}'\n")
    fake.chmod(0o755)
    wanted = rf"is terraform {version}; .* need >= {re.escape(MIN_TERRAFORM)} "
    with pytest.raises(TerraformNotFound, match=wanted):
        Terraform(tmp_path, binary=str(fake))


def test_parse_outputs_and_diagnostic_from_json() -> None:
    outs = parse_outputs(
        {"a": {"value": {"k": [1]}, "type": ["object", {}], "sensitive": False}}
    )
    assert outs["a"].display() == json.dumps({"k": [1]})
    d = Diagnostic.from_json(
        {"severity": "warning", "summary": "S", "detail": "D",
         "range": {"filename": "m.tf", "start": {"line": 3}}}
    )
    assert d.one_line() == "warning: S (m.tf:3): D"
