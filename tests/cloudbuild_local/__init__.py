"""Run a Cloud Build config locally, step by step, for end-to-end tests of a client repo's CI.

`run_build(config, substitutions=..., workspace=..., source=..., images=..., secrets=...)`
runs one build the way Cloud Build would, with local tools in place of the step images, and
returns a BuildResult (status, per-step results and logs, the substitutions it ran with, what
the fake docker built and pushed). The fakes beside it are local HTTP servers that real clients
talk to: FakeGitHub (REST API), FakeGcs (Cloud Storage JSON API, also Terraform's gcs backend),
FakeCloudBuild (triggers.run, builds.get/list/approve) and, inside every build, a metadata server
that gives the steps the build's service account token (Application Default Credentials).

Modeled, following Cloud Build's documentation (and its open-source local builder where the
documentation says nothing):
- substitutions: built-ins (PROJECT_ID, BUILD_ID, PROJECT_NUMBER, LOCATION,
  SERVICE_ACCOUNT[_EMAIL]; for triggered builds TRIGGER_NAME, COMMIT_SHA, REVISION_ID, SHORT_SHA,
  REPO_NAME, REPO_FULL_NAME, BRANCH_NAME, TAG_NAME, REF_NAME, TRIGGER_BUILD_CONFIG_PATH; for
  pull requests _HEAD_BRANCH, _BASE_BRANCH, _HEAD_REPO_URL, _PR_NUMBER), user substitutions over
  the file's defaults, `$$`, dynamic substitutions (on for every triggered build) with the
  bash forms, MUST_MATCH/ALLOW_LOOSE, and the reference parser of the product's Cloud Build
  check, so the check and the runner agree on what a reference is (substitution.py);
- steps in file order (a valid order: waitFor may only name earlier steps, which is checked),
  `name`, `entrypoint`, `args`, `env`, `dir`, `id`, `script` (not substituted) with
  automapSubstitutions, options.env/secretEnv, `secretEnv` from
  availableSecrets.secretManager[].versionName, resolved when the step starts: a version the
  build's service account may not read (`readable_secrets`) fails that step, with Cloud Build's
  PermissionDenied message, and so the build; allowFailure/allowExitCodes; per-step and build
  timeouts (a timed-out step ends the build with TIMEOUT); `images` pushed after the steps;
- images (images.py): `hashicorp/terraform` -> terraform on PATH, `python` -> a given
  interpreter (and its venv), `gcr.io/cloud-builders/docker` -> a fake docker that records
  builds and pushes (docker_fake.py), the Cloud SDK images refused (no gcloud in the CI);
  Docker's ENTRYPOINT/CMD rules decide what a step starts, and tools an image lacks are
  shadowed on PATH, so a config cannot lean on the machine running the test;
- a new container per step, where it matters (isolation.py): what a step adds to an image's
  own files (the python image's site-packages and bin: a `pip install` into the image) is
  removed after the step, and each step has an empty TMPDIR of its own, so only /workspace
  (and HOME) carry over from step to step, as on Cloud Build; a step that removes or upgrades
  an image's own package is refused (NotModeled).

Not modeled: containers otherwise (steps run as local processes with the tools above: files a
step writes outside /workspace, HOME, TMPDIR and the images' own directories, e.g. a literal
/tmp path, stay; environment variables end with the step's process, as they do there; the
network is the machine's, so a step can reach anything the test process can,
including the fakes on 127.0.0.1, but nothing enforces that it reaches only those); steps
running concurrently (waitFor is validated, not parallelised); volumes, KMS `secrets`, inline
secrets and `artifacts` (NotModeled); the config's `serviceAccount`, `logsBucket`, logging,
pools and machine types (accepted and ignored: the caller names the service account); the
source fetch (the `source` tree is copied into the
workspace as it is, .git included). A pip install into the python image lands in the given
interpreter's venv for the step and is removed after it (give a test that installs an
interpreter of its own: the removal is of that interpreter's files). HOME is a per-build
directory (Cloud Build's is /builder/home; both persist across the steps of one build).

The one deliberate difference: `/workspace` is a local directory, so the runner rewrites the
path `/workspace` in args, entrypoint, dir, env values and scripts to it.

Wiring, in a test:

    accounts = Accounts()
    plan = triggers_from_plan(bootstrap_plan_json)["dev-terraform-plan"]  # a TriggerDef
    with FakeGitHub() as github, FakeGcs(accounts) as gcs, \
            generator.offline.offline_providers(tmp / "tf", reattach=True) as tf_env:
        github.add_repo("acme/repo")
        github.add_token("ghp_ci", "ci-bot")
        number = github.open_pull("acme/repo", head="feature", base="main", head_sha=sha)
        gcs.create_bucket("acme-tfstate")
        gcs.grant(plan.service_account, "roles/storage.objectViewer", "acme-tfstate")
        gcs.create_bucket("plans")
        gcs.grant(plan.service_account, "roles/storage.objectCreator", "plans", prefix="dev/")
        result = run_build(
            repo / plan.filename, source=repo, workspace=tmp / "ws",
            substitutions=plan.substitutions, images=default_images(python=venv_python),
            secrets={"projects/test-project/secrets/github-token": "ghp_ci"},
            readable_secrets=(),  # a pull request build reads no secret
            trigger=Trigger(plan.name, sha, repo_full_name="acme/repo",
                            pull_request=PullRequest(number, "feature", "main")),
            service_account=plan.service_account, accounts=accounts,
            env={**tf_env, "GITHUB_API_URL": github.url, "STORAGE_API_URL": gcs.url,
                 "GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT": f"{gcs.url}/storage/v1/"},
        )
        assert result.ok, result.log

A chain of builds: FakeCloudBuild(accounts, project_id=..., location=..., triggers=[TriggerDef
...], approvers=[...]); `run_trigger(name, ...)` is the GitHub event, a step may call
triggers.run itself (CLOUDBUILD_API_URL), `decide(build_id, approver, approve=True)` or the
API approves, and `drain(execute)` runs what is queued, `execute` being a run_build of the
record (`record.trigger.filename`, `record.substitutions`, `record.runner_trigger()`,
`record.trigger.service_account`, `build_id=record.id`). tests/test_cloudbuild_local.py has
each of these as a working example.

What the client scripts must honour to be testable this way: GITHUB_API_URL (GitHub REST root),
STORAGE_API_URL (the Cloud Storage root; pass it as `client_options={"api_endpoint": ...}` and
keep the default credentials; STORAGE_EMULATOR_HOST also reaches FakeGcs but makes the Python
client anonymous and Go's send no credentials), CLOUDBUILD_API_URL (Cloud Build API root), and
credentials from Application Default Credentials (google.auth.default(); the metadata server
is found through GCE_METADATA_HOST, which the runner sets). Terraform's gcs backend reads
GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT.
"""

from __future__ import annotations

from tests.cloudbuild_local.cloudbuild_api import BuildRecord, FakeCloudBuild, TriggerDef
from tests.cloudbuild_local.docker_fake import FakeRegistry
from tests.cloudbuild_local.errors import (
    CloudBuildLocalError,
    InvalidBuild,
    NotModeled,
    UnsupportedImage,
)
from tests.cloudbuild_local.execute import StepResult
from tests.cloudbuild_local.gcs import FakeGcs
from tests.cloudbuild_local.github import FakeGitHub
from tests.cloudbuild_local.identity import Accounts, MetadataServer
from tests.cloudbuild_local.images import ImageMap, LocalImage, RefusedImage, default_images
from tests.cloudbuild_local.runner import BuildResult, PullRequest, Trigger, run_build
from tests.cloudbuild_local.triggers import triggers_from_plan

__all__ = [
    "Accounts",
    "BuildRecord",
    "BuildResult",
    "CloudBuildLocalError",
    "FakeCloudBuild",
    "FakeGcs",
    "FakeGitHub",
    "FakeRegistry",
    "ImageMap",
    "InvalidBuild",
    "LocalImage",
    "MetadataServer",
    "NotModeled",
    "PullRequest",
    "RefusedImage",
    "StepResult",
    "Trigger",
    "TriggerDef",
    "UnsupportedImage",
    "default_images",
    "run_build",
    "triggers_from_plan",
]
