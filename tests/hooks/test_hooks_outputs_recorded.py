"""Outputs through pytest-terraform (record/replay): the fixture applies a `terraform_data`
module with the real terraform (record mode) or loads the recorded resources (`--tf-replay`);
the runner's typed outputs must match what terraform stored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pytest_terraform import terraform
from pytest_terraform import tf as ptf

from generator.tfrunner import Terraform, parse_outputs

pytestmark = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="terraform binary not on PATH"
)


@pytest.fixture
def ptf_work_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-terraform runs `plan -out=<work dir>/tfplan` with TF_DATA_DIR=<work dir>, but only
    terraform init creates that directory, and init creates nothing for a module that downloads
    no provider: create the work dir before the runner is used."""
    original = ptf.TerraformFixture.get_runner

    def get_runner(self: ptf.TerraformFixture, module_dir: object, work_dir: object) -> object:
        Path(str(work_dir)).mkdir(parents=True, exist_ok=True)
        return original(self, module_dir, work_dir)

    monkeypatch.setattr(ptf.TerraformFixture, "get_runner", get_runner)


terraform("tf_outputs", scope="function", teardown=terraform.TEARDOWN_IGNORE)


def test_outputs_match_state(ptf_work_dir: None, tf_outputs: ptf.TerraformTestApi) -> None:
    outputs = parse_outputs(tf_outputs.outputs)
    assert outputs["bucket_name"].value == "acme-dev-data"
    assert outputs["bucket_name"].type == "string"
    assert outputs["bucket"].value == {
        "name": "acme-dev-data", "location": "EU", "versions": [1, 2]
    }
    assert outputs["bucket"].display() == (
        '{"location": "EU", "name": "acme-dev-data", "versions": [1, 2]}'
    )
    assert outputs["token"].sensitive and outputs["token"].display() == "<sensitive>"
    assert str(outputs["token"].value).startswith("t0ken-")
    bucket_id = tf_outputs["terraform_data.bucket.id"]
    assert outputs["token"].value == f"t0ken-{bucket_id}"

    runner = tf_outputs.terraform
    if runner is None:
        return  # replayed from tf_resources.json: there is no live state to read
    live = Terraform(Path(runner.module_dir), env={"TF_DATA_DIR": runner.work_dir}).output(
        state_file=Path(runner.state_path)
    )
    assert live == outputs
