"""The first plan of every environment works (issue 12, certain #2), checked with real terraform
and the real `gcs` backend against a local stand-in for Cloud Storage (tests/gcs_fake.py).

When a prefix holds no state, Terraform's gcs backend locks it and writes an empty state at
`init` and `plan`, whatever `-lock=false` says (internal/backend/remote-state/gcs, StateMgr); the
CI plan accounts may only read state, so without a state the first pull request into each
environment fails with a 403. The bootstrap root, applied by a person who may write, creates
every environment's state; a state that exists is kept as it is.

The environment roots are planned exactly as terraform/bootstrap's plan trigger runs them
(cloudbuild/terraform-plan.yaml: `init -lock=false`, `plan -lock=false`), with the stand-in
google providers and the plan account's read-only access.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from generator import model
from generator.offline import offline_providers
from generator.workspace import COPY_IGNORE

from .conftest import load_example
from .gcs_fake import FakeGcs

pytestmark = pytest.mark.terraform

OWNER, PLAN = "owner-token", "plan-token"  # the bootstrap's person, a CI plan account
KEPT = (b'{\n  "version": 4,\n  "terraform_version": "1.11.4",\n  "serial": 7,\n'
        b'  "lineage": "0b5c1d3e-kept-state",\n  "outputs": {},\n  "resources": [],\n'
        b'  "check_results": null\n}\n')
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _terraform(root: Path, args: list[str], env: Mapping[str, str]
               ) -> subprocess.CompletedProcess[str]:
    extra = [] if args[0] == "output" else ["-input=false"]
    return subprocess.run(["terraform", f"-chdir={root}", *args, "-no-color", *extra],
                          env=dict(env), capture_output=True, text=True, check=False, timeout=600)


def _ci_plan(root: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The plan trigger's steps as the plan account: init, then plan, both without a lock."""
    shutil.rmtree(root / ".terraform", ignore_errors=True)
    init = _terraform(root, ["init", "-lock=false"], env)
    if init.returncode != 0:
        return init
    return _terraform(root, ["plan", "-lock=false", "-out=tfplan", "-detailed-exitcode"], env)


@pytest.fixture(scope="module")
def world(render_repo: Any, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[dict[str, Any], Path, FakeGcs, dict[str, str]]]:
    """(model context, scratch copy of the full example, the Cloud Storage stand-in, env)."""
    answers = load_example("full")
    ctx = model.build_context(model.validate_answers(answers))
    scratch = tmp_path_factory.mktemp("state-seed")
    work = scratch / "repo"
    shutil.copytree(render_repo(answers), work, symlinks=True, ignore=COPY_IGNORE)
    with offline_providers(scratch, reattach=True) as offline, \
            FakeGcs(ctx["state_bucket"], writers={OWNER}, readers={PLAN}) as gcs:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("GOOGLE_", "CLOUDSDK_", "TF_"))}
        env.update(offline, GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT=gcs.endpoint)
        yield ctx, work, gcs, env


def test_first_plan_fails_without_a_state_and_works_after_bootstrap(
    world: tuple[dict[str, Any], Path, FakeGcs, dict[str, str]],
) -> None:
    ctx, work, gcs, env = world
    plan_env = {**env, "GOOGLE_OAUTH_ACCESS_TOKEN": PLAN}
    owner_env = {**env, "GOOGLE_OAUTH_ACCESS_TOKEN": OWNER}
    envs = ctx["environments"]
    first, last = envs[0], envs[-1]

    # no state yet: the read-only plan account cannot get past init (the 403)
    refused = _ci_plan(work / "terraform" / "envs" / first["name"], plan_env)
    assert refused.returncode == 1, refused.stdout[-2000:]
    assert "403" in refused.stderr and "storage.objects.create" in refused.stderr, refused.stderr
    assert f"gs://{ctx['state_bucket']}/{first['state_prefix']}/default.tflock" in refused.stderr
    assert gcs.objects == {}

    # an environment that already has a state (applied before this release) keeps it
    kept = f"{last['state_prefix']}/default.tfstate"
    gcs.put(kept, KEPT)

    bootstrap = work / "terraform" / "bootstrap"
    assert _terraform(bootstrap, ["init"], owner_env).returncode == 0
    # what the first bootstrap apply runs for the states: the reads and everything they wait
    # for (the project, the keys, the CI accounts, the bucket and its grants). The rest of the
    # root is left out: the stand-in's fake values (ids, emails) fail other modules' input
    # checks, which says nothing about the states.
    applied = _terraform(bootstrap, ["apply", "-auto-approve",
                                     "-target=data.terraform_remote_state.environment"], owner_env)
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]

    states = {e["name"]: f"{e['state_prefix']}/default.tfstate" for e in envs}
    assert set(states.values()) <= set(gcs.objects), sorted(gcs.objects)
    assert not [name for name in gcs.objects if name.endswith(".tflock")], "a lock was left"
    assert gcs.objects[kept].data == KEPT, "an existing state was overwritten"
    for name, obj in states.items():
        if obj == kept:
            continue
        text = gcs.objects[obj].data.decode()
        state = json.loads(text)
        # exactly what terraform writes for an empty state (statefile.writeStateV4)
        assert list(state) == ["version", "terraform_version", "serial", "lineage", "outputs",
                               "resources", "check_results"], name
        assert (state["version"], state["serial"], state["outputs"], state["resources"],
                state["check_results"]) == (4, 1, {}, [], None), name
        assert UUID.match(state["lineage"]), name
        assert text == json.dumps(state, indent=2) + "\n", name
    outputs = json.loads(_terraform(bootstrap, ["output", "-json"], owner_env).stdout)
    assert outputs["environment_states"]["value"] == {
        name: f"gs://{ctx['state_bucket']}/{obj}" for name, obj in states.items()}

    # every environment's first pull request now plans, reading state only
    before = len(gcs.requests)
    for e in envs:
        planned = _ci_plan(work / "terraform" / "envs" / e["name"], plan_env)
        assert planned.returncode == 2, (e["name"], planned.stdout[-2000:],
                                         planned.stderr[-2000:])
    by_plan = [r for r in gcs.requests[before:] if r.token == PLAN]
    assert by_plan and all(r.method == "GET" and r.status in (200, 404) for r in by_plan)

    # later bootstrap plans only read the states
    before = len(gcs.requests)
    replanned = _terraform(bootstrap, ["plan", "-detailed-exitcode",
                                       "-target=data.terraform_remote_state.environment"],
                           owner_env)
    assert replanned.returncode == 0, replanned.stdout[-2000:] + replanned.stderr[-2000:]
    reads = gcs.requests[before:]
    assert {r.method for r in reads} == {"GET"} and len(reads) >= len(envs)
    assert gcs.objects[kept].data == KEPT
