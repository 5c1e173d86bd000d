"""The stand-in provider: its planning/apply/validation rules, the snapshot it serves, and the
real terraform binary running init/validate/plan/apply/test against it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from generator.offline import codec, offline_providers, provider, schema
from generator.workspace import backend_override
from tests.offline.conftest import needs_terraform, terraform_in

ROOT = Path(__file__).resolve().parents[2]

SA = schema.provider_schema("google").resource("google_service_account")
BUCKET = schema.provider_schema("google").resource("google_storage_bucket")


def full_object(block: schema.Block, **values: object) -> dict[str, object]:
    value = codec.conform(dict(values), schema.implied_type(block))
    for name, (nesting, *_rest) in schema.blocks(block).items():
        if value.get(name) is None and nesting != "single":
            value[name] = []
    return value


# ---------------------------------------------------------------------------------------------
# rules


def test_plan_marks_unset_computed_attributes_unknown() -> None:
    config = full_object(SA, account_id="ci", project="p1")
    planned = provider.plan_object(SA, dict(config), config)
    assert codec.is_unknown(planned["email"]) and codec.is_unknown(planned["unique_id"])
    assert planned["project"] == "p1"  # optional+computed, set: kept
    assert planned["display_name"] is None  # optional, not computed: stays null
    assert planned["account_id"] == "ci"


def test_plan_keeps_prior_computed_values_on_update() -> None:
    proposed = full_object(SA, account_id="ci", email="ci@p.iam.gserviceaccount.com")
    config = full_object(SA, account_id="ci")
    planned = provider.plan_object(SA, proposed, config)
    assert planned["email"] == "ci@p.iam.gserviceaccount.com"


def test_plan_recurses_into_nested_blocks() -> None:
    config = full_object(
        BUCKET,
        name="b",
        location="EU",
        lifecycle_rule=[{"action": [{"type": "Delete"}], "condition": [{"age": 3}]}],
    )
    config["lifecycle_rule"] = [
        full_object(BUCKET["blocks"]["lifecycle_rule"][3], **config["lifecycle_rule"][0])
    ]
    planned = provider.plan_object(BUCKET, config, config)
    cond = planned["lifecycle_rule"][0]["condition"][0]
    assert codec.is_unknown(cond["with_state"])  # optional+computed inside a block
    assert cond["age"] == 3


def test_write_only_attributes_stay_null() -> None:
    block = schema.provider_schema("google").resource("google_secret_manager_secret_version")
    config = full_object(block, secret="s", secret_data_wo="hunter2", secret_data_wo_version="1")
    planned = provider.plan_object(block, dict(config), config)
    assert planned["secret_data_wo"] is None
    applied = provider.fill_unknowns(block, planned, provider.Faker("seed"))
    assert applied["secret_data_wo"] is None


def test_apply_fills_unknowns_deterministically_with_the_right_types() -> None:
    config = full_object(SA, account_id="ci", project="acme-dev")
    planned = provider.plan_object(SA, dict(config), config)
    a = provider.fill_unknowns(SA, planned, provider.Faker("x"))
    b = provider.fill_unknowns(SA, planned, provider.Faker("x"))
    assert a == b and not codec.contains_unknown(a)
    assert a["email"] == "ci@acme-dev.iam.gserviceaccount.com"
    assert a["member"] == "serviceAccount:ci@acme-dev.iam.gserviceaccount.com"
    assert isinstance(a["id"], str) and a["id"]
    number = provider.Faker("x").value("project_number", "number", "p", {})
    assert isinstance(number, int) and number >= 10**11
    assert provider.Faker("x").value("labels", ["map", "string"], "p", {}) == {}


def test_data_source_returns_config_with_computed_values() -> None:
    block = schema.provider_schema("google").data_source("google_project")
    config = full_object(block, project_id="acme-dev")
    state = provider.read_data(block, config, provider.Faker("s"))
    assert state["project_id"] == "acme-dev"
    assert re.fullmatch(r"\d{12}", state["number"])
    assert not codec.contains_unknown(state)


def test_computed_only_attribute_set_is_an_error_with_its_path() -> None:
    config = full_object(SA, account_id="ci", email="x@y.z")
    (problem,) = provider.validate_config(SA, config)
    assert problem.summary == "Value for unconfigurable attribute"
    assert problem.path == ("email",)
    assert provider.validate_config(SA, full_object(SA, account_id="ci")) == []


def test_schema_message_flags_and_nesting() -> None:
    msg = schema.schema_message(BUCKET)
    attrs = {a.name: a for a in msg.block.attributes}
    assert attrs["name"].required and not attrs["name"].computed
    assert attrs["self_link"].computed and not attrs["self_link"].optional
    assert attrs["project"].optional and attrs["project"].computed
    assert json.loads(attrs["labels"].type) == ["map", "string"]
    blocks = {b.type_name: b for b in msg.block.block_types}
    assert blocks["versioning"].max_items == 1
    assert blocks["lifecycle_rule"].max_items == 0


# ---------------------------------------------------------------------------------------------
# snapshot coverage

TYPE_RE = re.compile(r'^\s*(resource|data|ephemeral)\s+"((?:google|github)_[a-z0-9_]+)"', re.M)


def template_types() -> dict[str, str]:
    """Every google_/github_ type the templates and modules declare -> first file using it."""
    found: dict[str, str] = {}
    files = list((ROOT / "terraform").glob("**/*.tf"))
    files += [p for p in (ROOT / "templates").glob("**/*") if p.is_file() and ".tf" in p.name]
    for path in sorted(files):
        for kind, name in TYPE_RE.findall(path.read_text(errors="replace")):
            key = name if kind == "resource" else f"{kind}.{name}"
            found.setdefault(key, str(path.relative_to(ROOT)))
    return found


def test_snapshot_covers_every_type_the_templates_use() -> None:
    served: set[str] = set()
    for ps in schema.providers():
        served |= set(ps.types)
    missing = {k: f for k, f in template_types().items() if k not in served}
    assert not missing, (
        "the offline schema snapshot lacks types the templates use: "
        + ", ".join(f"{k} ({f})" for k, f in sorted(missing.items()))
        + " -- refresh the snapshot: python tools/refresh_provider_schemas.py"
    )


def test_snapshot_records_provider_and_package_versions() -> None:
    versions = {ps.source: (ps.version, ps.package) for ps in schema.providers()}
    assert versions == {
        "hashicorp/google": ("8.7.0", "cdktn-provider-google==21.1.0"),
        "hashicorp/google-beta": ("8.7.0", "cdktn-provider-google-beta==21.1.0"),
        "integrations/github": ("6.13.0", "cdktn-provider-github==18.0.0"),
    }


# ---------------------------------------------------------------------------------------------
# the real terraform binary


def _env_root(repo: Path) -> Path:
    root = repo / "terraform" / "envs" / "dev"
    (root / "zz_override.tf").write_text(backend_override(repo / "dev.tfstate"))
    return root


@needs_terraform
@pytest.mark.terraform
def test_launched_providers_init_validate_plan(fixture_repo: Path, tmp_path: Path) -> None:
    """Terraform starts the stand-ins itself from the filesystem mirror (go-plugin + mTLS)."""
    root = _env_root(fixture_repo)
    with offline_providers(tmp_path / "scratch") as env:
        tf = terraform_in(root, {**os.environ, **env})
        init = tf("init", "-input=false")
        assert "Installed hashicorp/google v8.7.0" in init.stdout
        assert "Installed integrations/github v6.13.0" in init.stdout
        assert (
            "registry.terraform.io/hashicorp/google-beta"
            in (root / ".terraform.lock.hcl").read_text()
        )
        tf("validate")
        plan = tf("plan", "-input=false")
        assert "Plan: 7 to add, 0 to change, 0 to destroy." in plan.stdout
        assert re.search(r"\+ email +=\s+\(known after apply\)", plan.stdout)
    assert not any((tmp_path / "scratch").iterdir()), "offline_providers cleans up"


@needs_terraform
@pytest.mark.terraform
def test_apply_fills_values_and_converges(fixture_repo: Path, reattach_env: dict[str, str]) -> None:
    root = _env_root(fixture_repo)
    tf = terraform_in(root, reattach_env)
    tf("init", "-input=false")
    tf("apply", "-auto-approve", "-input=false")
    out = json.loads(tf("output", "-json").stdout)
    assert out["pipeline_email"]["value"] == "pipeline-dev@acme-ml-dev.iam.gserviceaccount.com"
    assert out["bucket_url"]["value"].startswith("https://")
    again = tf("plan", "-input=false", "-detailed-exitcode")
    assert "No changes." in again.stdout
    destroy = tf("destroy", "-auto-approve", "-input=false")
    assert "Destroy complete! Resources: 7 destroyed." in destroy.stdout


@needs_terraform
@pytest.mark.terraform
def test_reattached_providers_serve_terraform_test(
    fixture_repo: Path, reattach_env: dict[str, str]
) -> None:
    module = fixture_repo / "terraform" / "modules" / "bucket"
    tf = terraform_in(module, reattach_env)
    tf("init", "-input=false")
    result = tf("test")
    assert "3 passed, 0 failed" in result.stdout


@needs_terraform
@pytest.mark.terraform
def test_failing_terraform_test_assertion_fails(
    fixture_repo: Path, reattach_env: dict[str, str]
) -> None:
    module = fixture_repo / "terraform" / "modules" / "bucket"
    test_file = module / "tests" / "bucket.tftest.hcl"
    test_file.write_text(
        test_file.read_text().replace(
            "google_storage_bucket.this.force_destroy == false",
            "google_storage_bucket.this.force_destroy == true",
        )
    )
    tf = terraform_in(module, reattach_env)
    tf("init", "-input=false")
    result = tf("test", check=False)
    assert result.returncode == 1
    assert "buckets must not be force-destroyed by default" in result.stdout + result.stderr


@needs_terraform
@pytest.mark.terraform
def test_data_source_and_import_through_terraform(
    tmp_path: Path, reattach_env: dict[str, str]
) -> None:
    (tmp_path / "main.tf").write_text(
        'provider "google" {\n  project = "acme"\n}\n\n'
        'data "google_client_config" "me" {}\n\n'
        'import {\n  to = google_pubsub_topic.t\n  id = "projects/acme/topics/t"\n}\n\n'
        'resource "google_pubsub_topic" "t" {\n  name = "t"\n}\n\n'
        'output "project" {\n  value = data.google_client_config.me.project\n}\n'
    )
    tf = terraform_in(tmp_path, reattach_env)
    tf("init", "-input=false")
    tf("apply", "-auto-approve", "-input=false")
    out = json.loads(tf("output", "-json").stdout)
    assert out["project"]["value"] == "acme"  # the provider configuration's project
    state = json.loads(tf("show", "-json").stdout)
    (topic,) = state["values"]["root_module"]["resources"][1:]
    assert topic["values"]["id"] == "projects/acme/topics/t"


def test_cli_config_keeps_user_settings_but_not_the_plugin_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.offline import cli_config, user_cli_config

    rc = tmp_path / "user.rc"
    rc.write_text(
        'plugin_cache_dir = "/home/me/.terraform.d/plugin-cache"\n'
        'credentials "app.terraform.io" {\n  token = "x"\n}\n'
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(rc))
    text = cli_config(
        tmp_path / "mirror", ["registry.terraform.io/hashicorp/google"], user_cli_config()
    )
    assert 'credentials "app.terraform.io"' in text
    assert "plugin_cache_dir" not in text
    assert text.count("disable_checkpoint") == 1
    rc.write_text("provider_installation {\n  direct {}\n}\n")
    assert user_cli_config() == ""  # ours replaces the user's installation settings
    assert rc.read_text() == "provider_installation {\n  direct {}\n}\n"  # never written
