"""The local Cloud Build runner (tests/cloudbuild_local) and its fakes: substitution semantics,
step order and failure rules, secrets, the /workspace mapping, images, timeouts, the GitHub,
Cloud Storage, Cloud Build and metadata stand-ins reached by real clients, and what the client
repo's builds lean on (its CI runs end to end on them in tests/test_ci_flow.py)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from google.cloud import storage
from google.oauth2.credentials import Credentials

from generator.cloudbuild.build import check_text
from generator.cloudbuild.context import BuildContext, Runner
from tests.cloudbuild_local import (
    Accounts,
    BuildResult,
    FakeCloudBuild,
    FakeGcs,
    FakeGitHub,
    FakeRegistry,
    InvalidBuild,
    MetadataServer,
    NotModeled,
    PullRequest,
    Trigger,
    TriggerDef,
    UnsupportedImage,
    default_images,
    run_build,
)
from tests.cloudbuild_local.bash_ops import apply as bash_apply
from tests.cloudbuild_local.execute import rewrite_workspace
from tests.cloudbuild_local.substitution import expand, substitute

PY = sys.executable
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN_VERSION = "projects/test-project/secrets/github-token/versions/latest"


class Builds:
    """Writes a config into a fresh source tree and runs it in a fresh workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0

    def source(self, config: str, files: Mapping[str, str] | None = None) -> Path:
        self.count += 1
        src = self.root / f"src{self.count}"
        src.mkdir()
        (src / "cloudbuild.yaml").write_text(textwrap.dedent(config))
        for name, text in (files or {}).items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text)
        return src

    def run(self, config: str, files: Mapping[str, str] | None = None, **kw: Any) -> BuildResult:
        src = self.source(config, files)
        kw.setdefault("images", default_images(python=PY))
        return run_build(src / "cloudbuild.yaml", workspace=self.root / f"ws{self.count}",
                         source=src, **kw)

    def workspace(self) -> Path:
        return self.root / f"ws{self.count}"


@pytest.fixture
def builds(tmp_path: Path) -> Builds:
    return Builds(tmp_path)


def py_step(code: str, **extra: Any) -> dict[str, Any]:
    return {"name": "python:3.11-slim", "entrypoint": "python", "args": ["-c", code], **extra}


def config(*steps: Mapping[str, Any], **top: Any) -> str:
    return json.dumps({"steps": list(steps), **top})


def lines(result: BuildResult, step: str | int) -> list[str]:
    return result.step(step).log.splitlines()


# -- substitutions ------------------------------------------------------------------------------

BUILTINS = {"PROJECT_ID": "p1", "BUILD_ID": "b1", "LOCATION": "eu"}


def subst(raw: Mapping[str, Any], request: Mapping[str, str] | None = None,
          triggered: bool = False) -> list[str]:
    done = substitute(dict(raw), request or {}, BUILTINS, triggered=triggered)
    args: list[str] = done.raw["steps"][0]["args"]
    return args


def one_step(*args: str, **top: Any) -> dict[str, Any]:
    return {"steps": [{"name": "x", "args": list(args)}], **top}


def test_builtins_of_a_manual_build(builds: Builds) -> None:
    code = "print('$PROJECT_ID|$BUILD_ID|$PROJECT_NUMBER|$LOCATION|$SERVICE_ACCOUNT_EMAIL|" \
           "$COMMIT_SHA|$TRIGGER_NAME')"
    result = builds.run(config(py_step(code)), build_id="b-42", project_id="acme",
                        service_account="ci@acme.iam.gserviceaccount.com")
    assert result.ok, result.log
    assert lines(result, 0) == ["acme|b-42|123456789012|us-central1|"
                                "ci@acme.iam.gserviceaccount.com||"]


def test_builtins_of_a_pull_request_trigger(builds: Builds) -> None:
    code = ("print('$TRIGGER_NAME|$COMMIT_SHA|$SHORT_SHA|$BRANCH_NAME|$REPO_NAME|$REPO_FULL_NAME|"
            "$REF_NAME|$TRIGGER_BUILD_CONFIG_PATH|$_PR_NUMBER|$_HEAD_BRANCH|$_BASE_BRANCH')")
    pr = PullRequest(7, head_branch="feature", base_branch="main")
    trigger = Trigger("dev-plan", SHA, repo_full_name="acme/repo", pull_request=pr)
    result = builds.run(config(py_step(code)), trigger=trigger)
    assert result.ok, result.log
    assert lines(result, 0) == [f"dev-plan|{SHA}|{SHA[:7]}|feature|repo|acme/repo|feature|"
                                "cloudbuild.yaml|7|feature|main"]


def test_request_substitutions_override_the_file_defaults() -> None:
    raw = one_step("$_A", "${_B}", substitutions={"_A": "default-a", "_B": "default-b"})
    assert subst(raw) == ["default-a", "default-b"]
    assert subst(raw, {"_B": "given"}) == ["default-a", "given"]


def test_dollar_dollar_is_an_escaped_dollar() -> None:
    raw = one_step("$$HOME", "$$$_A", "a$$b$$", "${HOME:-x}", substitutions={"_A": "v"})
    assert subst(raw)[:3] == ["$HOME", "$v", "a$b$"]


def test_must_match_fails_for_a_missing_key() -> None:
    with pytest.raises(InvalidBuild, match='key in the template "_MISSING" is not matched'):
        subst(one_step("$_MISSING"))


def test_must_match_fails_for_an_unused_key() -> None:
    with pytest.raises(InvalidBuild, match='key "_UNUSED" in the substitution data is not'):
        subst(one_step("x"), {"_UNUSED": "1"})


def test_allow_loose_accepts_both_and_a_missing_key_is_empty() -> None:
    raw = one_step("[$_MISSING]", options={"substitutionOption": "ALLOW_LOOSE"})
    assert subst(raw, {"_UNUSED": "1"}) == ["[]"]


def test_a_name_that_is_no_substitution_fails_whatever_the_option() -> None:
    raw = one_step("$HOME", options={"substitutionOption": "ALLOW_LOOSE"})
    with pytest.raises(InvalidBuild, match='"HOME" is not a valid built-in substitution'):
        subst(raw)
    assert subst(one_step("$home", "$1")) == ["$home", "$1"]  # not references at all


@pytest.mark.parametrize("key", ["FOO", "_lower", "PROJECT_ID"])
def test_invalid_or_not_overridable_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidBuild, match="does not respect format"):
        subst(one_step(f"${{{key}}}"), {key: "x"})


def test_overridable_builtins_can_be_given_in_the_request() -> None:
    assert subst(one_step("$COMMIT_SHA"), {"COMMIT_SHA": "abc"}) == ["abc"]


def test_unquoted_yaml_values_are_not_strings(tmp_path: Path) -> None:
    with pytest.raises(InvalidBuild, match="is not a string: quote it"):
        subst(one_step("$_FLAG", substitutions={"_FLAG": False}))


DYNAMIC = one_step(
    "${_TAG:0:7}", "${_EMPTY:-fallback}", "${_NAME,,}", "${_NAME^^}", "${_PATH#*/}",
    "${_PATH##*/}", "${_PATH%/*}", "${_PATH//a/A}", "$_IMAGE",
    substitutions={"_TAG": SHA, "_EMPTY": "", "_NAME": "MiXed", "_PATH": "a/b/a.tar",
                   "_IMAGE": "gcr.io/$PROJECT_ID/${_NAME,,}:${_TAG:0:4}"},
)
EVALUATED = [SHA[:7], "fallback", "mixed", "MIXED", "b/a.tar", "a.tar", "a/b", "A/b/A.tAr",
             "gcr.io/p1/mixed:0123"]


def test_dynamic_substitutions_are_on_for_triggered_builds() -> None:
    assert subst(DYNAMIC, triggered=True) == EVALUATED


def test_dynamic_substitutions_by_option() -> None:
    raw = {**DYNAMIC, "options": {"dynamicSubstitutions": True}}
    assert subst(raw) == EVALUATED


def test_without_dynamic_substitutions_bash_forms_stay_as_written() -> None:
    args = subst({**DYNAMIC, "options": {"substitutionOption": "ALLOW_LOOSE"}})
    assert args[0] == "${_TAG:0:7}"
    assert args[-1] == "gcr.io/$PROJECT_ID/${_NAME,,}:${_TAG:0:4}"  # values verbatim too


def test_a_cycle_between_substitutions_is_refused() -> None:
    raw = one_step("$_A", substitutions={"_A": "${_B}", "_B": "x${_A}"})
    with pytest.raises(InvalidBuild, match="cycle in evaluating substitutions"):
        subst(raw, triggered=True)


@pytest.mark.parametrize(("op", "value", "expected"), [
    (":2", "abcdef", "cdef"), (":-2", "abcdef", "abcdef"), (": -2", "abcdef", "ef"),
    (":1:2", "abcdef", "bc"), ("/#ab/X", "abab", "Xab"), ("/%ab/X", "abab", "abX"),
    ("/b", "abab", "aab"), ("%%.*", "a.b.c", "a"), ("%.*", "a.b.c", "a.b"),
    ("#*.", "a.b.c", "b.c"), ("##*.", "a.b.c", "c"), (",", "ABC", "aBC"), ("^", "abc", "Abc"),
])
def test_bash_operations(op: str, value: str, expected: str) -> None:
    assert bash_apply(value, op, lambda s: s, "${_X" + op + "}") == expected


@pytest.mark.parametrize("op", ["+x", ":+x", ":?x", "@Q"])
def test_bash_operations_cloud_build_does_not_support(op: str) -> None:
    with pytest.raises(InvalidBuild, match="not supported"):
        bash_apply("v", op, lambda s: s, "${_X" + op + "}")


def test_expand_keeps_a_lone_dollar() -> None:
    assert expand("cost: $5 and $", lambda ref: "?", dynamic=True) == "cost: $5 and $"


@pytest.mark.parametrize("arg", [
    "$_DECLARED", "${_DECLARED}", "${_DECLARED:0:3}", "$_UNDECLARED", "${_UNDECLARED:-x}",
    "$$_UNDECLARED", "$HOME", "$${HOME:-x}", "${HOME:-x}", "$home", "$PROJECT_ID",
])
def test_the_runner_and_the_cloud_build_check_agree_on_references(arg: str) -> None:
    """A triggered build: what the product's check rejects, the runner refuses too."""
    text = json.dumps({
        "substitutions": {"_DECLARED": "v"},
        "options": {"logging": "CLOUD_LOGGING_ONLY"},
        "steps": [{"name": "ubuntu", "args": ["$_DECLARED", arg]}],
    })
    ctx = BuildContext(runners=(Runner("trigger", frozenset(), True),))
    check_errors = [f for f in check_text(text, "cloudbuild.yaml", ctx, is_json=True)
                    if f.severity == "error"]
    try:
        substitute(json.loads(text), {}, BUILTINS, triggered=True)
        refused = False
    except InvalidBuild:
        refused = True
    assert refused == bool(check_errors), check_errors


def test_scripts_are_not_substituted_but_see_automapped_substitutions(builds: Builds) -> None:
    script = '#!/bin/sh\necho "[$_GREETING] [$PROJECT_ID]"\n'
    top = {"substitutions": {"_GREETING": "hi"}, "options": {"substitutionOption": "ALLOW_LOOSE"}}
    plain = builds.run(config({"name": "python", "script": script}, **top))
    assert lines(plain, 0) == ["[] []"], plain.log  # no substitution, no variables
    automap = builds.run(config({"name": "python", "script": script, "automapSubstitutions": True},
                                **top))
    assert lines(automap, 0) == ["[hi] [test-project]"], automap.log


# -- steps: order, failure, validation ---------------------------------------------------------

def test_steps_run_in_file_order_and_wait_for_is_validated(builds: Builds) -> None:
    steps = [py_step(f"print({i})", id=f"s{i}", waitFor=w)
             for i, w in enumerate([["-"], ["s0"], ["-"], ["s1", "s2"]])]
    result = builds.run(config(*steps))
    assert result.ok
    assert [s.log.strip() for s in result.steps] == ["0", "1", "2", "3"]
    with pytest.raises(InvalidBuild, match='depends on "s3", which has not been defined'):
        builds.run(config(py_step("1", id="s1", waitFor=["s3"]), py_step("1", id="s3")))
    with pytest.raises(InvalidBuild, match="the ID is not unique"):
        builds.run(config(py_step("1", id="a"), py_step("1", id="a")))


def test_a_failing_step_fails_the_build_and_cancels_the_rest(builds: Builds) -> None:
    result = builds.run(config(py_step("print('a')"), py_step("raise SystemExit(3)", id="bad"),
                               py_step("open('/workspace/ran', 'w')")))
    assert result.status == "FAILURE"
    assert [s.status for s in result.steps] == ["SUCCESS", "FAILURE", "CANCELLED"]
    assert result.step("bad").exit_code == 3
    assert result.failure == ('Build step failure: build step 1 "python:3.11-slim" failed: step '
                              "exited with non-zero status: 3")
    assert not (builds.workspace() / "ran").exists()


def test_allow_failure_and_allow_exit_codes(builds: Builds) -> None:
    result = builds.run(config(
        py_step("raise SystemExit(1)", allowFailure=True),
        py_step("raise SystemExit(3)", allowExitCodes=[3]),
        py_step("print('after')"),
    ))
    assert result.ok, result.failure
    assert [(s.status, s.allowed) for s in result.steps] == [
        ("FAILURE", True), ("FAILURE", True), ("SUCCESS", False)]
    # allowExitCodes takes precedence over allowFailure
    strict = builds.run(config(py_step("raise SystemExit(4)", allowFailure=True,
                                       allowExitCodes=[3])))
    assert strict.status == "FAILURE"


@pytest.mark.parametrize(("step", "message"), [
    ({"name": "python", "script": "echo", "args": ["x"]}, "cannot also set 'args'"),
    ({"name": "python", "args": ["x"], "env": ["NOVALUE"]}, "must be of the form"),
    ({"name": "", "args": ["x"]}, "must specify name"),
    ({"name": "python", "args": ["x"], "secretEnv": ["TOKEN"]}, "is not defined by available"),
    ({"name": "python", "args": ["x"], "timeout": "10m"}, "invalid duration"),
    ({"name": "python", "args": ["x"], "timeout": "900s"}, "must be <= build timeout 600s"),
])
def test_invalid_builds_are_refused_before_anything_runs(
    builds: Builds, step: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidBuild, match=message):
        builds.run(config(step))


def test_features_the_runner_does_not_model_are_named(builds: Builds) -> None:
    step = {"name": "python", "args": ["x"], "volumes": [{"name": "v", "path": "/v"}]}
    with pytest.raises(NotModeled, match=r"step\.volumes"):
        builds.run(config(step))


def test_env_dir_and_options_env(builds: Builds) -> None:
    code = "import os; print(os.getcwd().endswith('/sub/dir'), os.environ['A'], os.environ['B'])"
    result = builds.run(config(py_step(code, dir="sub/dir", env=["B=step"]),
                               options={"env": ["A=global", "B=global"]}))
    assert lines(result, 0) == ["True global step"], result.log


def test_snake_case_keys_are_accepted(builds: Builds) -> None:
    result = builds.run(config(py_step("print(1)", id="a"),
                               py_step("print(2)", wait_for=["a"], allow_failure=True)))
    assert result.ok and result.step(1).log.strip() == "2"


# -- secrets ------------------------------------------------------------------------------------

SECRET_CONFIG = {
    "availableSecrets": {"secretManager": [
        {"versionName": "projects/$PROJECT_ID/secrets/${_SECRET}/versions/latest",
         "env": "TOKEN"}]},
    "substitutions": {"_SECRET": "github-token"},
}


def secret_build(builds: Builds, **kw: Any) -> BuildResult:
    steps = [py_step("open('/workspace/first', 'w')"),
             py_step("import os; print(len(os.environ['TOKEN']), os.environ['TOKEN'][:4])",
                     secretEnv=["TOKEN"])]
    return builds.run(config(*steps, **SECRET_CONFIG), **kw)


def test_a_readable_secret_reaches_the_step_env(builds: Builds) -> None:
    result = secret_build(builds, secrets={TOKEN_VERSION: "ghp_secret"},
                          readable_secrets={TOKEN_VERSION})
    assert result.ok, result.log
    assert lines(result, 1) == ["10 ghp_"]


def test_a_secret_the_service_account_cannot_read_fails_the_step(builds: Builds) -> None:
    result = secret_build(builds, secrets={TOKEN_VERSION: "ghp_secret"}, readable_secrets=())
    assert result.status == "FAILURE"
    assert result.step(0).status == "SUCCESS" and (builds.workspace() / "first").exists()
    assert result.step(1).argv == ()  # never started
    assert ("failed to access secret version for secret projects/test-project/secrets/"
            "github-token/versions/latest: rpc error: code = PermissionDenied desc = Permission "
            "'secretmanager.versions.access' denied") in result.failure


def test_a_secret_name_grants_every_version_and_a_missing_secret_is_not_found(
    builds: Builds,
) -> None:
    granted = secret_build(builds, secrets={TOKEN_VERSION: "ghp_secret"},
                           readable_secrets={"projects/test-project/secrets/github-token"})
    assert granted.ok
    missing = secret_build(builds, secrets={})
    assert "code = NotFound desc = Secret [projects/test-project/secrets/github-token]" in \
        missing.failure


# -- the workspace --------------------------------------------------------------------------------

def test_workspace_paths_are_rewritten(tmp_path: Path) -> None:
    ws = tmp_path / "w"
    assert rewrite_workspace("/workspace", ws) == str(ws)
    assert rewrite_workspace("a=/workspace/x:/workspace", ws) == f"a={ws}/x:{ws}"
    for untouched in ("/workspaces/x", "/tmp/workspace", "my/workspace", "/workspace.bak"):
        assert rewrite_workspace(untouched, ws) == untouched


def test_the_workspace_holds_the_source_and_persists_across_steps(builds: Builds) -> None:
    steps: list[dict[str, Any]] = [
        {"name": "python", "entrypoint": "sh",
         "args": ["-c", "cp /workspace/data/in.txt /workspace/out.txt"]},
        {"name": "python", "script": "#!/bin/sh\ncat /workspace/out.txt\n"},
        py_step("import os; print(os.environ['OUT'])", env=["OUT=/workspace/out.txt"]),
        {"name": "python", "entrypoint": "/workspace/tool.sh", "args": ["arg"]},
    ]
    files = {"data/in.txt": "from the source", "tool.sh": "#!/bin/sh\necho tool $1\n"}
    src = builds.source(config(*steps), files)
    (src / "tool.sh").chmod(0o755)
    ws = builds.root / "ws-persist"
    result = run_build(src / "cloudbuild.yaml", workspace=ws, source=src,
                       images=default_images(python=PY))
    assert result.ok, result.log
    assert lines(result, 1) == ["from the source"]
    assert lines(result, 2) == [str(ws.resolve() / "out.txt")]
    assert lines(result, 3) == ["tool arg"]
    with pytest.raises(ValueError, match="is not empty"):
        run_build(src / "cloudbuild.yaml", workspace=ws, source=src,
                  images=default_images(python=PY))


# -- images ------------------------------------------------------------------------------------

@pytest.mark.terraform
def test_the_terraform_image(builds: Builds) -> None:
    result = builds.run(config(
        {"name": "hashicorp/terraform:1.11.4", "args": ["version"]},
        {"name": "hashicorp/terraform:1.11.4", "entrypoint": "sh",
         "args": ["-c", "python3 -V; echo rc=$$?"]},
        {"name": "hashicorp/terraform", "entrypoint": "bash", "args": ["-c", "true"]},
    ))
    assert lines(result, 0)[0].startswith("Terraform v"), result.log
    assert "'python3' is not in the image hashicorp/terraform" in result.step(1).log
    assert lines(result, 1)[-1] == "rc=127"
    assert result.step(2).status == "FAILURE"  # alpine: no bash
    assert 'exec: "bash": executable file not found' in result.step(2).log


def test_the_python_image(builds: Builds) -> None:
    result = builds.run(config(
        {"name": "python:3.11", "args": ["python", "-c", "import sys; print(sys.executable)"]},
        {"name": "python:3.11", "entrypoint": "bash",
         "args": ["-c", "python -c 'import sys; print(sys.executable)'; gcloud version; "
                        "echo rc=$$?; terraform version || echo no terraform"]},
        {"name": "python", "args": ["-c", "print(1)"]},
    ))
    venv_python = str(Path(PY).absolute())
    assert lines(result, 0) == [venv_python]
    assert lines(result, 1)[0] == venv_python
    assert "'gcloud' is not in the image python" in result.step(1).log
    assert "rc=127" in lines(result, 1) and "no terraform" in lines(result, 1)
    # no ENTRYPOINT: args[0] is the command, as Docker runs it
    assert result.step(2).status == "FAILURE"
    assert 'exec: "-c": executable file not found' in result.step(2).log


def _demo_wheel(dest: Path) -> Path:
    """A one-module wheel with a console script, which pip installs offline."""
    info = "demo_pkg-1.0.dist-info"
    files = {
        "demo_pkg.py": "X = 42\n\ndef main() -> None:\n    print(X)\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                         "Tag: py3-none-any\n",
        f"{info}/entry_points.txt": "[console_scripts]\ndemo-tool = demo_pkg:main\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    wheel = dest / "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


@pytest.fixture(scope="module")
def image_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python image interpreter of this module's own (the runner cleans what steps add)."""
    venv = tmp_path_factory.mktemp("image-python") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return venv / "bin" / "python"


PIP_OFFLINE = "pip install --no-index --quiet --disable-pip-version-check"


def test_what_a_step_installs_into_the_image_is_gone_in_the_next(
        builds: Builds, image_python: Path) -> None:
    """Every Cloud Build step is a new container of its image: a package pip installed into the
    image's Python in one step is not there in the next; in a venv under /workspace it is."""
    images = default_images(python=image_python)
    _demo_wheel(builds.root)
    wheel = "/workspace/demo_pkg-1.0-py3-none-any.whl"
    files = {"placeholder.txt": ""}
    src = builds.source(config(
        {"name": "python:3.11.11-slim", "entrypoint": "sh",
         "args": ["-c", f"{PIP_OFFLINE} {wheel} && python -c 'import demo_pkg' && demo-tool"]},
        py_step("import demo_pkg"),
        {"name": "python:3.11.11-slim", "entrypoint": "sh", "args": ["-c", "demo-tool"]},
    ), files)
    shutil.copy(builds.root / "demo_pkg-1.0-py3-none-any.whl", src)
    result = run_build(src / "cloudbuild.yaml", workspace=builds.root / "ws-image", source=src,
                       images=images)
    assert result.step(0).status == "SUCCESS" and lines(result, 0)[-1] == "42", result.log
    assert result.step(1).status == "FAILURE", result.log
    assert "No module named 'demo_pkg'" in result.step(1).log
    assert not list(image_python.parent.parent.glob("lib/python*/site-packages/demo_pkg*"))
    assert not (image_python.parent / "demo-tool").exists()

    venv = "/workspace/.mlopsgen/ci/venv"
    src = builds.source(config(
        {"name": "python:3.11.11-slim", "entrypoint": "sh",
         "args": ["-c", f"python -m venv {venv} && {venv}/bin/{PIP_OFFLINE} {wheel}"]},
        {"name": "python:3.11.11-slim", "entrypoint": f"{venv}/bin/python",
         "args": ["-c", "import demo_pkg; print(demo_pkg.X)"]},
        {"name": "python:3.11.11-slim", "entrypoint": "sh",
         "args": ["-c", f"PATH={venv}/bin:$$PATH; demo-tool"]},
    ), files)
    shutil.copy(builds.root / "demo_pkg-1.0-py3-none-any.whl", src)
    result = run_build(src / "cloudbuild.yaml", workspace=builds.root / "ws-venv", source=src,
                       images=images)
    assert result.ok, result.log
    assert lines(result, 1) == ["42"] and lines(result, 2) == ["42"]


def test_tmp_is_the_steps_own_and_home_persists(builds: Builds) -> None:
    result = builds.run(config(
        py_step("import os, tempfile; open(os.path.join(tempfile.gettempdir(), 'x'), 'w');"
                "open(os.path.expanduser('~/y'), 'w')"),
        py_step("import os, tempfile; print(os.listdir(tempfile.gettempdir()), "
                "os.path.exists(os.path.expanduser('~/y')))"),
    ))
    assert result.ok, result.log
    assert lines(result, 1) == ["[] True"]


def test_the_docker_image_records_builds_and_pushes(builds: Builds, tmp_path: Path) -> None:
    registry = FakeRegistry(tmp_path / "registry.json", immutable_tags=True)
    image = "us-docker.pkg.dev/p/r/trainer:${SHORT_SHA}"
    cfg = config(
        {"name": "gcr.io/cloud-builders/docker", "args": ["build", "-t", image, "-f",
                                                          "trainer/Dockerfile", "."]},
        {"name": "gcr.io/cloud-builders/docker:24.0.9", "entrypoint": "bash",
         "args": ["-c", f'docker push "{image}"']},
    )
    files = {"trainer/Dockerfile": "FROM python:3.11-slim\n"}
    images = default_images(python=PY, registry=registry)
    first = builds.run(cfg, files, images=images, trigger=Trigger("t", SHA))
    assert first.ok, first.log
    ref = f"us-docker.pkg.dev/p/r/trainer:{SHA[:7]}"
    assert [e["op"] for e in first.docker] == ["build", "push"]
    assert registry.tags == {ref: first.docker[0]["digest"]}
    # a second build of the same commit pushes another digest to the immutable tag: refused
    second = builds.run(cfg, files, images=images, trigger=Trigger("t", SHA))
    assert second.status == "FAILURE"
    assert "already exists and the repository has immutable tags" in second.step(1).log
    assert [p["build_id"] for p in registry.pushes] == [first.build_id]


def test_docker_push_needs_an_image_built_in_the_same_build(builds: Builds) -> None:
    result = builds.run(config({"name": "gcr.io/cloud-builders/docker",
                                "args": ["push", "gcr.io/p/x:1"]}))
    assert "An image does not exist locally with the tag: gcr.io/p/x:1" in result.step(0).log
    missing = builds.run(config({"name": "gcr.io/cloud-builders/docker",
                                 "args": ["build", "-t", "gcr.io/p/x:1", "."]}))
    assert "failed to read dockerfile" in missing.step(0).log


def test_the_images_field_is_pushed_after_the_steps(builds: Builds) -> None:
    files = {"Dockerfile": "FROM scratch\n"}
    ok = builds.run(config({"name": "gcr.io/cloud-builders/docker",
                            "args": ["build", "-t", "gcr.io/p/x", "."]}, images=["gcr.io/p/x"]),
                    files)
    assert ok.ok and [e["op"] for e in ok.docker] == ["build", "push"]
    failed = builds.run(config(py_step("1"), images=["gcr.io/p/never-built"]))
    assert failed.status == "FAILURE" and "failed to push image gcr.io/p/never-built" in \
        failed.failure


@pytest.mark.parametrize("image", ["gcr.io/google.com/cloudsdktool/cloud-sdk:slim",
                                   "gcr.io/cloud-builders/gcloud"])
def test_cloud_sdk_images_are_refused_before_any_step_runs(builds: Builds, image: str) -> None:
    with pytest.raises(UnsupportedImage, match="no gcloud"):
        builds.run(config(py_step("open('/workspace/ran', 'w')"), {"name": image, "args": ["x"]}))
    assert not builds.workspace().exists()


def test_an_unknown_image_is_named(builds: Builds) -> None:
    with pytest.raises(UnsupportedImage, match=r"Step #0: step image 'ubuntu' has no local"):
        builds.run(config({"name": "ubuntu", "args": ["true"]}))


# -- timeouts -----------------------------------------------------------------------------------

def test_a_step_timeout_ends_the_build(builds: Builds) -> None:
    started = time.monotonic()
    result = builds.run(config(py_step("import time; time.sleep(30)", timeout="1s"),
                               py_step("print('never')")))
    assert time.monotonic() - started < 10
    assert result.status == "TIMEOUT"
    assert [s.status for s in result.steps] == ["TIMEOUT", "CANCELLED"]


def test_the_build_timeout_counts_all_steps(builds: Builds) -> None:
    step = py_step("import time; time.sleep(1.2)")
    result = builds.run(config(step, step, timeout="2s"))
    assert result.status == "TIMEOUT"
    assert [s.status for s in result.steps] == ["SUCCESS", "TIMEOUT"]


# -- the metadata server ------------------------------------------------------------------------

def test_steps_get_the_build_service_account_from_the_metadata_server(builds: Builds) -> None:
    accounts = Accounts()
    code = ("import google.auth, google.auth.transport.requests as r; c, p = google.auth.default();"
            " c.refresh(r.Request()); print(c.service_account_email, p, c.token)")
    result = builds.run(config(py_step(code)), accounts=accounts,
                        service_account="plan@p.iam.gserviceaccount.com", project_id="p")
    assert result.ok, result.log
    email, project, token = lines(result, 0)[-1].split()
    assert (email, project) == ("plan@p.iam.gserviceaccount.com", "p")
    assert accounts.principal(token) == email


def test_without_accounts_a_build_has_no_credentials(builds: Builds) -> None:
    code = "import google.auth\ntry:\n google.auth.default()\nexcept Exception as e: print('none')"
    assert lines(builds.run(config(py_step(code))), 0) == ["none"]


def test_the_metadata_server_wants_its_header() -> None:
    with MetadataServer(Accounts(), "sa@p", "p", "1") as md:
        url = f"{md.url}/computeMetadata/v1/project/project-id"
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url)
        assert err.value.code == 403
        req = urllib.request.Request(url, headers={"Metadata-Flavor": "Google"})
        assert urllib.request.urlopen(req).read() == b"p"


# -- the GitHub stand-in ------------------------------------------------------------------------

REPO = "acme/repo"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        gh.add_repo(REPO)
        gh.add_token("ghp_write", "ci-bot")
        gh.add_token("ghp_read", "reader", write=False)
        gh.add_token("ghs_app", "cloud-build", app=True)
        yield gh


def gh_call(gh: FakeGitHub, method: str, path: str, body: Any = None, token: str = "ghp_write"
            ) -> tuple[int, Any, Mapping[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = requests.request(method, f"{gh.url}/repos/{REPO}/{path}", json=body, headers=headers,
                         timeout=10)
    return r.status_code, (r.json() if r.content else None), r.headers


def test_github_wants_the_right_token(github: FakeGitHub) -> None:
    assert gh_call(github, "GET", "pulls", token="")[0] == 401
    status, body, _ = gh_call(github, "GET", "pulls", token="ghp_wrong")
    assert (status, body["message"]) == (401, "Bad credentials")
    assert gh_call(github, "GET", "pulls", token="ghp_read")[0] == 200
    number = github.open_pull(REPO, head="f", base="main", head_sha=SHA)
    assert gh_call(github, "POST", f"issues/{number}/comments", {"body": "x"},
                   token="ghp_read")[0] == 403
    assert github.comments(REPO, number) == []


def test_github_pull_requests_comments_and_labels(github: FakeGitHub) -> None:
    number = github.open_pull(REPO, head="feature", base="main", head_sha=SHA, title="t")
    github.open_pull(REPO, head="other", base="main", head_sha="b" * 40)
    _, found, _ = gh_call(github, "GET", "pulls?state=open&head=acme:feature&base=main")
    assert [p["number"] for p in found] == [number]
    for i in range(3):
        gh_call(github, "POST", f"issues/{number}/comments", {"body": f"c{i}"})
    _, page1, headers = gh_call(github, "GET", f"issues/{number}/comments?per_page=2")
    assert [c["body"] for c in page1] == ["c0", "c1"] and 'rel="next"' in headers["Link"]
    _, page2, headers = gh_call(github, "GET", f"issues/{number}/comments?per_page=2&page=2")
    assert [c["body"] for c in page2] == ["c2"] and "Link" not in headers
    status, edited, _ = gh_call(github, "PATCH", f"issues/comments/{page2[0]['id']}",
                                {"body": "edited"})
    assert (status, edited["body"], edited["user"]["login"]) == (200, "edited", "ci-bot")
    gh_call(github, "POST", f"issues/{number}/labels", {"labels": ["allow-destroy", "x"]})
    gh_call(github, "DELETE", f"issues/{number}/labels/x")
    assert [lb["name"] for lb in github.pull(REPO, number)["labels"]] == ["allow-destroy"]


def test_github_statuses_and_check_runs(github: FakeGitHub) -> None:
    for state in ("pending", "success"):
        gh_call(github, "POST", f"statuses/{SHA}", {"state": state, "context": "plan"})
    gh_call(github, "POST", f"statuses/{SHA}", {"state": "failure", "context": "lint"})
    _, combined, _ = gh_call(github, "GET", f"commits/{SHA}/status")
    assert combined["state"] == "failure" and combined["total_count"] == 2
    check = {"name": "plan", "head_sha": SHA, "status": "completed", "conclusion": "success"}
    status, body, _ = gh_call(github, "POST", "check-runs", check)
    assert (status, body["message"]) == (403, "You must authenticate via a GitHub App.")
    assert gh_call(github, "POST", "check-runs", check, token="ghs_app")[0] == 201
    _, runs, _ = gh_call(github, "GET", f"commits/{SHA}/check-runs")
    assert [r["conclusion"] for r in runs["check_runs"]] == ["success"]


def test_github_merge_moves_the_base_branch(github: FakeGitHub) -> None:
    number = github.open_pull(REPO, head="feature", base="main", head_sha=SHA)
    status, body, _ = gh_call(github, "PUT", f"pulls/{number}/merge", {"sha": "f" * 40})
    assert status == 409  # not the head the caller reviewed
    status, body, _ = gh_call(github, "PUT", f"pulls/{number}/merge", {"sha": SHA})
    assert status == 200 and body["merged"]
    assert github.repos[REPO].branches["main"] == body["sha"]
    _, pulls, _ = gh_call(github, "GET", f"commits/{body['sha']}/pulls")
    assert [p["number"] for p in pulls] == [number]
    assert gh_call(github, "PUT", f"pulls/{number}/merge", {})[0] == 405


# -- the Cloud Storage stand-in -----------------------------------------------------------------

PLAN_SA = "dev-plan@p.iam.gserviceaccount.com"
KEY = "projects/p/locations/us/keyRings/r/cryptoKeys/plans"


@pytest.fixture
def accounts() -> Accounts:
    return Accounts()


@pytest.fixture
def gcs(accounts: Accounts) -> Iterator[FakeGcs]:
    with FakeGcs(accounts) as fake:
        fake.create_bucket("plans", kms_key_name=KEY)
        fake.grant(PLAN_SA, "roles/storage.objectCreator", "plans", prefix="dev/")
        fake.grant(PLAN_SA, "roles/storage.objectViewer", "plans", prefix="dev/")
        fake.grant("reader@p", "roles/storage.objectViewer", "plans")
        yield fake


def credentials(accounts: Accounts, principal: str) -> Credentials:
    return Credentials(accounts.token(principal))  # type: ignore[no-untyped-call]


def client(gcs: FakeGcs, accounts: Accounts, principal: str) -> storage.Client:
    return storage.Client(project="p", credentials=credentials(accounts, principal),
                          client_options={"api_endpoint": gcs.url})


def test_gcs_upload_download_and_metadata(gcs: FakeGcs, accounts: Accounts) -> None:
    blob = client(gcs, accounts, PLAN_SA).bucket("plans").blob("dev/abc/tfplan")
    blob.metadata = {"config-hash": "h1"}
    blob.upload_from_string(b"plan bytes", content_type="application/octet-stream",
                            if_generation_match=0)
    stored = gcs.get("plans", "dev/abc/tfplan")
    assert stored is not None and stored.writer == PLAN_SA
    assert (stored.data, stored.metadata, stored.kms_key_name) == (b"plan bytes",
                                                                   {"config-hash": "h1"}, KEY)
    again = client(gcs, accounts, "reader@p").bucket("plans").get_blob("dev/abc/tfplan")
    assert again is not None and again.metadata == {"config-hash": "h1"}
    assert again.kms_key_name == KEY and again.download_as_bytes() == b"plan bytes"


def test_gcs_permissions(gcs: FakeGcs, accounts: Accounts) -> None:
    plans = client(gcs, accounts, PLAN_SA).bucket("plans")
    plans.blob("dev/a").upload_from_string(b"1")
    with pytest.raises(Exception, match="403") as err:
        plans.blob("prod/a").upload_from_string(b"1")
    assert "does not have storage.objects.create access" in str(err.value)
    with pytest.raises(Exception, match=r"storage\.objects\.delete"):
        plans.blob("dev/a").upload_from_string(b"2")  # overwriting needs delete
    with pytest.raises(Exception, match=r"storage\.objects\.list"):
        list(plans.list_blobs(prefix="dev/"))  # a prefix grant grants no list
    reader = client(gcs, accounts, "reader@p")
    assert [b.name for b in reader.list_blobs("plans", prefix="dev/")] == ["dev/a"]
    # (the client also reads the bucket, which object roles do not allow: tolerated, as there)
    assert [d.permission for d in gcs.denied() if d.permission != "storage.buckets.get"] == [
        "storage.objects.create", "storage.objects.delete", "storage.objects.list"]


def test_gcs_anonymous_and_unknown_tokens_get_401(gcs: FakeGcs) -> None:
    url = f"{gcs.url}/storage/v1/b/plans/o"
    assert requests.get(url, timeout=10).status_code == 401
    bad = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
    assert (bad.status_code, bad.json()["error"]["message"]) == (401, "Invalid Credentials")


def test_gcs_preconditions_and_resumable_uploads(gcs: FakeGcs, accounts: Accounts) -> None:
    gcs.grant("writer@p", "roles/storage.objectAdmin", "plans")
    plans = client(gcs, accounts, "writer@p").bucket("plans")
    plans.blob("x").upload_from_string(b"1", if_generation_match=0)
    with pytest.raises(Exception, match="412"):
        plans.blob("x").upload_from_string(b"2", if_generation_match=0)
    data = bytes(range(256)) * 3000
    plans.blob("big", chunk_size=256 * 1024).upload_from_file(io.BytesIO(data))  # size unknown
    assert plans.blob("big").download_as_bytes() == data
    assert any(r.q("uploadType") == "resumable" for r in gcs.requests)
    assert [b.name for b in client(gcs, accounts, "writer@p").list_blobs(
        "plans", delimiter="/")] == ["big", "x"]


def test_gcs_through_storage_emulator_host(gcs: FakeGcs, accounts: Accounts,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    gcs.put("plans", "dev/p", b"v")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.url)
    reader = storage.Client(project="p", credentials=credentials(accounts, "reader@p"))
    assert reader.bucket("plans").blob("dev/p").download_as_bytes() == b"v"


def test_a_build_step_uses_gcs_with_its_service_account(builds: Builds, gcs: FakeGcs,
                                                        accounts: Accounts) -> None:
    code = ("import os; from google.cloud import storage; "
            "c = storage.Client(client_options={'api_endpoint': os.environ['STORAGE_API_URL']}); "
            "c.bucket('plans').blob('dev/$SHORT_SHA/summary.txt').upload_from_string('ok')")
    result = builds.run(config(py_step(code)), accounts=accounts, service_account=PLAN_SA,
                        trigger=Trigger("dev-plan", SHA), env={"STORAGE_API_URL": gcs.url})
    assert result.ok, result.log
    stored = gcs.get("plans", f"dev/{SHA[:7]}/summary.txt")
    assert stored is not None and stored.writer == PLAN_SA


@pytest.mark.terraform
def test_terraforms_gcs_backend_against_the_fake(builds: Builds, accounts: Accounts) -> None:
    """The real gcs backend, credentials from the metadata server: the apply account writes
    state; the plan account reads it, plans with -lock=false and cannot take the lock."""
    files = {"main.tf": 'terraform {\n  backend "gcs" {\n    bucket = "state"\n'
                        '    prefix = "envs/dev"\n  }\n}\n'
                        'resource "terraform_data" "x" {\n  input = "v"\n}\n'}
    tf = "hashicorp/terraform:1.11.4"
    with FakeGcs(accounts) as gcs:
        gcs.create_bucket("state")
        gcs.grant("apply@p", "roles/storage.objectAdmin", "state")
        gcs.grant("plan@p", "roles/storage.objectViewer", "state")
        env = {"GOOGLE_BACKEND_STORAGE_CUSTOM_ENDPOINT": f"{gcs.url}/storage/v1/",
               "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        applied = builds.run(config({"name": tf, "args": ["init", "-input=false"]},
                                    {"name": tf, "args": ["apply", "-auto-approve", "-no-color"]}),
                             files, accounts=accounts, service_account="apply@p", env=env)
        assert applied.ok, applied.log
        assert gcs.names("state") == ["envs/dev/default.tfstate"]
        planned = builds.run(config({"name": tf, "args": ["init", "-input=false"]},
                                    {"name": tf, "args": ["plan", "-lock=false", "-no-color"]},
                                    {"name": tf, "args": ["plan", "-no-color"]}),
                             files, accounts=accounts, service_account="plan@p", env=env)
        assert planned.step(1).status == "SUCCESS", planned.log
        assert "No changes." in planned.step(1).log
        assert planned.step(2).status == "FAILURE"
        assert "plan@p does not have storage.objects.create access" in planned.step(2).log
        assert [d.name for d in gcs.denied()] == ["envs/dev/default.tflock"]


# -- the Cloud Build API stand-in --------------------------------------------------------------

APPLY_SA = "dev-apply@p.iam.gserviceaccount.com"
APPROVER = "lead@acme.example"


@pytest.fixture
def cloudbuild(accounts: Accounts) -> Iterator[FakeCloudBuild]:
    triggers = [
        TriggerDef("dev-apply", "apply.yaml", APPLY_SA, {"_ENV": "dev"}, approval_required=True),
        TriggerDef("dev-notify", "notify.yaml", PLAN_SA),
    ]
    with FakeCloudBuild(accounts, project_id="p", location="us-central1", triggers=triggers,
                        approvers=[APPROVER]) as fake:
        yield fake


def cb_call(fake: FakeCloudBuild, accounts: Accounts, principal: str, method: str, path: str,
            body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {accounts.token(principal)}"}
    r = requests.request(method, f"{fake.url}/v1/projects/p/locations/us-central1/{path}",
                         json=body, headers=headers, timeout=10)
    return r.status_code, r.json()


def discovery() -> dict[str, Any]:
    import googleapiclient

    doc = Path(googleapiclient.__file__).parent / "discovery_cache/documents/cloudbuild.v1.json"
    data: dict[str, Any] = json.loads(doc.read_text())
    return data


def test_cloud_build_run_approve_and_get(cloudbuild: FakeCloudBuild, accounts: Accounts) -> None:
    status, op = cb_call(cloudbuild, accounts, PLAN_SA, "POST", "triggers/dev-apply:run",
                         {"source": {"branchName": "main", "commitSha": SHA,
                                     "substitutions": {"_PLAN": "gs://plans/dev/x"}}})
    assert status == 200 and not op["done"]
    build = op["metadata"]["build"]
    assert (build["status"], build["approval"]["state"]) == ("PENDING", "PENDING")
    assert build["substitutions"]["_ENV"] == "dev" and build["substitutions"]["_PLAN"]
    approve = {"approvalResult": {"decision": "APPROVED", "comment": "plan reviewed"}}
    assert cb_call(cloudbuild, accounts, PLAN_SA, "POST", f"builds/{build['id']}:approve",
                   approve)[0] == 403
    status, op = cb_call(cloudbuild, accounts, APPROVER, "POST", f"builds/{build['id']}:approve",
                         approve)
    assert status == 200
    _, got = cb_call(cloudbuild, accounts, PLAN_SA, "GET", f"builds/{build['id']}")
    assert got["status"] == "QUEUED"
    assert got["approval"]["result"]["approverAccount"] == APPROVER
    assert cb_call(cloudbuild, accounts, APPROVER, "POST", f"builds/{build['id']}:approve",
                   approve)[0] == 400  # approved once
    schema = discovery()["schemas"]
    assert set(got) <= set(schema["Build"]["properties"])
    assert got["status"] in schema["Build"]["properties"]["status"]["enum"]
    assert set(got["approval"]) <= set(schema["BuildApproval"]["properties"])
    assert set(got["approval"]["result"]) <= set(schema["ApprovalResult"]["properties"])


def test_cloud_build_wants_a_known_token(cloudbuild: FakeCloudBuild) -> None:
    r = requests.get(f"{cloudbuild.url}/v1/projects/p/locations/us-central1/builds", timeout=10)
    assert (r.status_code, r.json()["error"]["status"]) == (401, "UNAUTHENTICATED")


def test_a_build_starts_another_trigger_and_drain_runs_the_chain(
    builds: Builds, cloudbuild: FakeCloudBuild, accounts: Accounts
) -> None:
    """notify.yaml runs the dev-apply trigger through the API (google-auth's AuthorizedSession,
    credentials from the metadata server); the test approves it; drain runs it."""
    start = ("import os, google.auth; from google.auth.transport.requests import AuthorizedSession;"
             " s = AuthorizedSession(google.auth.default()[0]); "
             "r = s.post(os.environ['CLOUDBUILD_API_URL'] + '/v1/projects/$PROJECT_ID/locations/"
             "$LOCATION/triggers/dev-apply:run', json={'source': {'commitSha': '$COMMIT_SHA'}}); "
             "r.raise_for_status(); print(r.json()['metadata']['build']['id'])")
    src = builds.source(config(py_step(start)), {
        "apply.yaml": config(py_step("print('applying $_ENV at $SHORT_SHA as "
                                     "$SERVICE_ACCOUNT_EMAIL')")),
    })
    src.joinpath("notify.yaml").write_text(src.joinpath("cloudbuild.yaml").read_text())
    env = {"CLOUDBUILD_API_URL": cloudbuild.url}

    def execute(record: Any) -> BuildResult:
        return run_build(src / record.trigger.filename, substitutions=record.substitutions,
                         workspace=builds.root / f"ws-{record.id}", source=src,
                         images=default_images(python=PY), trigger=record.runner_trigger(),
                         service_account=record.trigger.service_account, accounts=accounts,
                         build_id=record.id, project_id="p", env=env)

    notify = cloudbuild.run_trigger("dev-notify", branch="main", commit_sha=SHA)
    assert [b.trigger.name for b in cloudbuild.drain(execute)] == ["dev-notify"]
    assert notify.status == "SUCCESS", notify.result and notify.result.log
    apply_id = notify.result.steps[0].log.strip() if notify.result else ""
    pending = cloudbuild.build(apply_id)
    assert (pending.status, pending.requested_by, pending.commit_sha) == ("PENDING", PLAN_SA, SHA)
    assert cloudbuild.drain(execute) == []  # waits for its approval
    cloudbuild.decide(apply_id, APPROVER, approve=True)
    assert [b.id for b in cloudbuild.drain(execute)] == [apply_id]
    assert pending.status == "SUCCESS"
    assert pending.result is not None
    assert pending.result.steps[0].log.strip() == f"applying dev at {SHA[:7]} as {APPLY_SA}"


def test_a_rejected_build_never_runs(cloudbuild: FakeCloudBuild, accounts: Accounts) -> None:
    record = cloudbuild.run_trigger("dev-apply", commit_sha=SHA)
    cloudbuild.decide(record.id, APPROVER, approve=False, comment="no")
    assert record.status == "CANCELLED" and record.approval is not None
    assert record.approval["state"] == "REJECTED"
    assert cloudbuild.drain(lambda r: pytest.fail("must not run")) == []


# -- what the client repo's builds lean on ------------------------------------------------------

@pytest.mark.terraform
def test_a_binary_a_step_copies_into_the_workspace_is_on_path(builds: Builds) -> None:
    """The client builds copy the terraform image's binary into /workspace for mlopsgen in the
    python image: a workspace directory the step puts on PATH comes before the shims."""
    copy = {"name": "hashicorp/terraform:1.11.4", "entrypoint": "sh",
            "args": ["-c", 'mkdir -p /workspace/bin && cp "$$(command -v terraform)" '
                           "/workspace/bin/"]}
    run = ("import shutil, subprocess; print(subprocess.run([shutil.which('terraform'), "
           "'version'], capture_output=True, text=True).stdout.splitlines()[0])")
    with_path = py_step(run, env=["PATH=/workspace/bin:/usr/local/bin:/usr/bin:/bin"])
    result = builds.run(config(copy, with_path, py_step("import shutil; print(shutil.which("
                                                        "'terraform'))")))
    assert result.ok, result.log
    assert lines(result, 1)[0].startswith("Terraform v")
    assert "/shims/" in lines(result, 2)[0]  # without it, the image has none


def test_gcs_grants_whose_condition_admits_listing_a_prefix(gcs: FakeGcs,
                                                            accounts: Accounts) -> None:
    gcs.create_bucket("state")
    gcs.grant("plan@p", "roles/storage.objectViewer", "state", prefix="envs/dev/",
              list_prefix="envs/dev/")
    gcs.put("state", "envs/dev/default.tfstate", b"{}")
    gcs.put("state", "envs/prod/default.tfstate", b"{}")
    reader = client(gcs, accounts, "plan@p")
    assert [b.name for b in reader.list_blobs("state", prefix="envs/dev/")] == [
        "envs/dev/default.tfstate"]
    with pytest.raises(Exception, match=r"storage\.objects\.list"):
        list(reader.list_blobs("state", prefix="envs/"))
    with pytest.raises(Exception, match="403"):
        reader.bucket("state").blob("envs/prod/default.tfstate").download_as_bytes()


def test_the_docker_fake_runs_as_a_script(tmp_path: Path) -> None:
    env = {"CLOUDBUILD_LOCAL_DOCKER_DAEMON": str(tmp_path / "d.json"),
           "CLOUDBUILD_LOCAL_REGISTRY": str(tmp_path / "r.json"), "PATH": "/usr/bin:/bin"}
    script = Path(__file__).parent / "cloudbuild_local" / "docker_fake.py"
    out = subprocess.run(["/usr/bin/env", "-i", *[f"{k}={v}" for k, v in env.items()],
                          sys.executable, str(script), "run", "x"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1 and "'docker run' is not modeled" in out.stderr
