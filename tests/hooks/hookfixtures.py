"""Helpers for the infra hook tests: a client repo whose Terraform is built from `terraform_data`
(built into terraform, no provider download) with a local backend, and a terraform marker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

TERRAFORM = shutil.which("terraform")
needs_terraform = pytest.mark.skipif(
    TERRAFORM is None, reason="terraform binary not on PATH (install Terraform >= 1.9)"
)

MODULE_TF = """\
variable "bucket_name" {
  type        = string
  description = "Name of the stand-in bucket; changing it replaces the bucket."
}

variable "label" {
  type        = string
  description = "Free text; changing it updates the stand-in config in place."
}

variable "sleep_seconds" {
  type        = number
  description = "Seconds the slow resource's provisioner sleeps (0: no slow resource)."
  default     = 0
}

resource "terraform_data" "bucket" {
  input            = { protected = true, name = var.bucket_name }
  triggers_replace = [var.bucket_name]
}

resource "terraform_data" "config" {
  input = { label = var.label }
}

resource "terraform_data" "slow" {
  count = var.sleep_seconds > 0 ? 1 : 0
  provisioner "local-exec" {
    command = "sleep ${var.sleep_seconds}"
  }
}

output "bucket_name" {
  description = "The stand-in bucket's name."
  value       = terraform_data.bucket.output.name
}

output "label" {
  description = "The label."
  value       = terraform_data.config.output.label
}
"""

ENV_MAIN_TF = """\
variable "bucket_name" {
  type        = string
  description = "Bucket name."
}

variable "label" {
  type        = string
  description = "Label."
}

variable "sleep_seconds" {
  type        = number
  description = "Sleep."
  default     = 0
}

module "platform" {
  source        = "../../modules/platform"
  bucket_name   = var.bucket_name
  label         = var.label
  sleep_seconds = var.sleep_seconds
}

output "bucket_name" {
  description = "Bucket name."
  value       = module.platform.bucket_name
}

output "label" {
  description = "Label."
  value       = module.platform.label
}

output "token" {
  description = "A sensitive value."
  value       = "t0ken-${var.label}"
  sensitive   = true
}
"""


class ClientRepo:
    """A rendered-repo look-alike for the hooks: answers, env roots, local backend state."""

    def __init__(self, path: Path, envs: list[str]) -> None:
        self.path = path
        self.envs = envs

    def root(self, env: str) -> Path:
        return self.path / "terraform" / "envs" / env

    def state_file(self, env: str) -> Path:
        return self.path / "state" / f"{env}.tfstate"

    def set_vars(self, env: str, **values: object) -> None:
        tfvars = self.root(env) / "terraform.tfvars"
        current = {}
        for line in tfvars.read_text().splitlines():
            key, _, value = line.partition("=")
            current[key.strip()] = value.strip()
        for key, value in values.items():
            current[key] = json.dumps(value)
        tfvars.write_text("".join(f"{k} = {v}\n" for k, v in current.items()))

    def plan_dir(self, env: str, offline: bool = False) -> Path:
        d = self.path / ".mlopsgen" / "plans" / env
        return d / "offline" if offline else d


def make_client_repo(path: Path, envs: list[str] | None = None) -> ClientRepo:
    envs = envs or ["dev", "prod"]
    path.mkdir(parents=True, exist_ok=True)
    # a complete answer set: the hooks read answers through ClientRepo, which validates them
    answers = {
        "_commit": "v0.1.0",
        "client_slug": "acme",
        "client_name": "Acme",
        "project_layout": "per_environment",
        "environments": envs,
        "gcp_parent": "folders/123456789012",
        "billing_account": "01A2B3-C4D5E6-F7A8B9",
        "region": "us-central1",
        "github_owner": "acme",
        "github_repo": "acme-mlops",
        "approvers": ["@acme/ml"],
        "notification_email": "ml@acme.example",
        "features": [],
        "name_suffix": "x1y2",
    }
    (path / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    module = path / "terraform" / "modules" / "platform"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(MODULE_TF)
    (path / "state").mkdir()
    repo = ClientRepo(path, envs)
    for env in envs:
        root = repo.root(env)
        root.mkdir(parents=True)
        (root / "backend.tf").write_text(
            'terraform {\n  backend "local" {\n'
            f"    path = {json.dumps(str(repo.state_file(env)))}\n  }}\n}}\n"
        )
        (root / "main.tf").write_text(ENV_MAIN_TF)
        (root / "terraform.tfvars").write_text(
            f'bucket_name = "acme-{env}-data"\nlabel = "one"\n'
        )
    return repo
