"""generator.cloudbuild on build config files: good configs pass, each broken config is caught.

Trigger-level behaviour (plans) is in tests/test_cloudbuild_triggers.py, the schema snapshot and
its refresh tool in tests/test_cloudbuild_schema.py."""

from __future__ import annotations

import pathlib
import shutil
import textwrap

import pytest

from generator.cloudbuild import Finding, check_build_file, check_repo
from tests.test_cloudbuild_triggers import GOOD_PLANS

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "cloudbuild"
GOOD_REPO = FIXTURES / "good_repo"

# a minimal valid build, to which the cases below add one mistake each
BASE = """\
steps:
  - name: ubuntu
    args: ["echo", "hello"]
"""


def _write(tmp_path: pathlib.Path, text: str, name: str = "cloudbuild/b.yaml") -> pathlib.Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _check(tmp_path: pathlib.Path, text: str, **kw: object) -> list[Finding]:
    path = _write(tmp_path, text)
    return check_build_file(path, repo=tmp_path, **kw)  # type: ignore[arg-type]


def _copy_good_repo(tmp_path: pathlib.Path) -> pathlib.Path:
    repo = tmp_path / "repo"
    shutil.copytree(GOOD_REPO, repo)
    return repo


# --- good configs ---------------------------------------------------------------------------


def test_good_repo_has_no_findings() -> None:
    assert check_repo(GOOD_REPO, GOOD_PLANS) == []


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (GOOD_REPO / "cloudbuild").iterdir() if p.is_file())
)
def test_good_files_need_their_triggers(name: str) -> None:
    """Without the Terraform triggers, the trigger-declared substitutions are undeclared."""
    findings = check_build_file(GOOD_REPO / "cloudbuild" / name, repo=GOOD_REPO)
    assert findings, "the good configs use substitutions only their triggers declare"
    assert all("not declared" in f.message for f in findings), findings
    assert all(f.file == f"cloudbuild/{name}" for f in findings)


def test_declared_argument_declares(tmp_path: pathlib.Path) -> None:
    text = BASE + '    env: ["X=${_FROM_TRIGGER}"]\n'
    assert _check(tmp_path, text)
    assert _check(tmp_path, text, declared=frozenset({"_FROM_TRIGGER"})) == []


def test_valid_variants_pass(tmp_path: pathlib.Path) -> None:
    text = """\
    steps:
      - name: gcr.io/cloud-builders/docker
        args: ["build", "-t", "$_IMG:$SHORT_SHA", "."]
        wait_for: ["-"]
        id: build
      - name: ubuntu
        script: echo $HOME
        allow_failure: true
    substitutions:
      _IMG: europe-docker.pkg.dev/p/r/i
    images: ["${_IMG}:${SHORT_SHA}"]
    options:
      logging: NONE
      machine_type: E2_MEDIUM
      diskSizeGb: "200"
      sourceProvenanceHash: [SHA256]
      pool: {name: "projects/$PROJECT_ID/locations/europe-west1/workerPools/p"}
    serviceAccount: projects/p/serviceAccounts/sa@p.iam.gserviceaccount.com
    """
    assert _check(tmp_path, text) == []


# --- broken configs: (yaml, expected message part, expected line) ----------------------------

CASES: dict[str, tuple[str, str, int]] = {
    "yaml syntax": ("steps:\n  - name: ubuntu\n    args: [a, b\n", "invalid YAML", 4),
    "recursive alias": ("steps: &a\n  - *a\n", "alias refers to a node", 1),
    "date is not a string": (BASE + "tags: [2024-01-01]\n", "not a YAML date", 4),
    "not a mapping": ("- name: ubuntu\n", "must be a mapping", 1),
    "missing steps": ("timeout: 60s\n", "missing the required key 'steps'", 1),
    "empty steps": ("steps: []\n", "steps is empty", 1),
    "unknown top key": (BASE + "timout: 60s\n", "did you mean 'timeout'", 4),
    "output-only key": (BASE + "logUrl: https://x\n", "output-only", 4),
    "source key": (BASE + "source: {}\n", "cannot specify 'source'", 4),
    "unknown step key": (BASE + "    argz: [a]\n", "did you mean 'args'", 4),
    "step name missing": ("steps:\n  - args: [a]\n", "missing the required key 'name'", 2),
    "step name empty": ("steps:\n  - name: ''\n", "name is empty", 2),
    "unknown options key": (
        BASE + "options:\n  loging: CLOUD_LOGGING_ONLY\n",
        "did you mean 'logging'",
        5,
    ),
    "logging enum": (
        BASE + "options:\n  logging: CLOUD_LOGGING\n",
        "did you mean 'CLOUD_LOGGING_ONLY'",
        5,
    ),
    "machine type enum": (BASE + "options:\n  machineType: E2_HUGE\n", "unknown value", 5),
    "substitution option enum": (
        BASE + "options:\n  substitutionOption: LOOSE\n",
        "ALLOW_LOOSE",
        5,
    ),
    "unknown pool key": (BASE + "options:\n  pool:\n    nam: x\n", "did you mean 'name'", 6),
    "build timeout": (BASE + "timeout: 20m\n", "duration in seconds", 4),
    "step timeout": (BASE + "    timeout: 600\n", "duration in seconds", 4),
    "queue ttl": (BASE + "queueTtl: 1h\n", "duration in seconds", 4),
    "bool option": (BASE + "options:\n  dynamicSubstitutions: 'yes'\n", "true or false", 5),
    "args not a list": ("steps:\n  - name: ubuntu\n    args: echo hi\n", "must be a list", 3),
    "arg not a string": (
        "steps:\n  - name: ubuntu\n    args: [serve, --port, 8080]\n",
        "args[2] must be a string",
        3,
    ),
    "env without =": (BASE + "    env: [FOO]\n", "KEY=VALUE", 4),
    "options env without =": (BASE + "options:\n  env: [FOO]\n", "options: env entry", 5),
    "integer field": (BASE + "options:\n  diskSizeGb: big\n", "must be an integer", 5),
    "substitutions not a map": (BASE + "substitutions: [_A]\n", "mapping of names", 4),
    "reserved id": (BASE + "    id: '-'\n", "id '-' is reserved", 4),
    "script with entrypoint": (
        "steps:\n  - name: ubuntu\n    entrypoint: bash\n    script: echo hi\n",
        "cannot also set 'entrypoint'",
        2,
    ),
    "undefined options secretEnv": (
        BASE + "options:\n  secretEnv: [TOKEN]\n",
        "secretEnv 'TOKEN' is not defined",
        5,
    ),
    "script with args": (
        "steps:\n  - name: ubuntu\n    args: [a]\n    script: echo hi\n",
        "cannot also set 'args'",
        2,
    ),
    "duplicate id": (
        "steps:\n  - name: a\n    id: x\n  - name: b\n    id: x\n",
        "ids must be unique",
        5,
    ),
    "unknown waitFor": (BASE + "    waitFor: [biuld]\n", "names no step id", 4),
    "undefined secretEnv": (
        BASE + "    secretEnv: [TOKEN]\n",
        "secretEnv 'TOKEN' is not defined",
        4,
    ),
    "secret manager entry without env": (
        BASE + "availableSecrets:\n  secretManager:\n    - versionName: projects/p/secrets/s/v/1\n",
        "missing the required key 'env'",
        6,
    ),
    "duplicate key": (BASE + "timeout: 60s\ntimeout: 70s\n", "appears twice", 5),
    "invalid substitution key": (BASE + "substitutions:\n  env: dev\n", "is invalid", 5),
    "substitution value not a string": (
        BASE + "substitutions:\n  _N: 3\n",
        "substitutions._N must be a string",
        5,
    ),
    "undeclared user substitution": (
        BASE + "    env: ['X=${_NOPE}']\n",
        "uses _NOPE, which is not declared",
        4,
    ),
    "shell variable not escaped": (
        BASE + "    env: ['X=$HOME']\n",
        "'$HOME' is not a Cloud Build built-in substitution",
        4,
    ),
    "secret used without $$": (
        "steps:\n  - name: ubuntu\n    args: [echo, $TOKEN]\n    secretEnv: [TOKEN]\n"
        "availableSecrets:\n  secretManager:\n    - {versionName: projects/p/secrets/t/versions/1"
        ", env: TOKEN}\n",
        "TOKEN is an environment variable this build sets (env or secretEnv), so write it",
        3,
    ),
    "braced shell variable not escaped": (
        BASE + "    dir: '${WORKDIR}'\n",
        "write it '$${WORKDIR}'",
        4,
    ),
    "bash default expansion": (
        BASE + "    entrypoint: '${SHELL:-bash}'\n",
        "write it '$${SHELL:-bash}'",
        4,
    ),
    "builtin typo": (BASE + "images: ['gcr.io/$PROJECTID/x']\n", "did you mean 'PROJECT_ID'", 4),
    "user substitution typo": (
        BASE + "    env: ['X=$_REGOIN']\nsubstitutions:\n  _REGION: eu\n",
        "did you mean '_REGION'",
        4,
    ),
    "substitution in secret version": (
        BASE
        + "    secretEnv: [T]\navailableSecrets:\n  secretManager:\n"
        + "    - versionName: projects/p/secrets/${_SECRET}/versions/1\n      env: T\n",
        "uses _SECRET",
        7,
    ),
    "dynamic substitution value": (
        BASE + "options:\n  dynamicSubstitutions: true\nsubstitutions:\n  _A: ${_B}-x\n",
        "uses _B",
        7,
    ),
    "sa without logging": (
        BASE + "serviceAccount: projects/p/serviceAccounts/x@p.iam.gserviceaccount.com\n",
        "user-managed service account",
        4,
    ),
    "sa with legacy logging": (
        BASE + "serviceAccount: projects/p/serviceAccounts/x@p.iam.gserviceaccount.com\n"
        "options:\n  logging: LEGACY\n",
        "CLOUD_LOGGING_ONLY",
        6,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_config_is_caught(tmp_path: pathlib.Path, case: str) -> None:
    text, expected, line = CASES[case]
    findings = _check(tmp_path, text)
    matching = [f for f in findings if expected in f.message]
    assert matching, f"{case}: expected {expected!r} in {findings}"
    assert matching[0].line == line, matching
    assert matching[0].file == "cloudbuild/b.yaml"


def test_all_secret_sources_define_secret_env(tmp_path: pathlib.Path) -> None:
    text = """\
    steps:
      - name: ubuntu
        secretEnv: [A, B, C]
    options:
      secretEnv: [D]
    availableSecrets:
      secretManager:
        - {versionName: projects/p/secrets/a/versions/1, env: A}
      inline:
        - {kmsKeyName: projects/p/locations/global/keyRings/r/cryptoKeys/k, envMap: {B: Zm9v}}
    secrets:
      - kmsKeyName: projects/p/locations/global/keyRings/r/cryptoKeys/k
        secretEnv: {C: Zm9v, D: YmFy}
    """
    assert _check(tmp_path, text) == []


def test_regional_logs_bucket_satisfies_service_account(tmp_path: pathlib.Path) -> None:
    text = (
        BASE + "serviceAccount: projects/p/serviceAccounts/x@p.iam.gserviceaccount.com\n"
        "options:\n  defaultLogsBucketBehavior: REGIONAL_USER_OWNED_BUCKET\n"
    )
    assert _check(tmp_path, text) == []


def test_json_syntax_error_has_line(tmp_path: pathlib.Path) -> None:
    path = _write(tmp_path, '{\n  "steps": [\n    {"name": "a",}\n  ]\n}\n', "cloudbuild/b.json")
    findings = check_build_file(path, repo=tmp_path)
    assert len(findings) == 1
    assert findings[0].line == 3 and "invalid JSON" in findings[0].message


def test_json_with_tabs(tmp_path: pathlib.Path) -> None:
    text = '{\n\t"steps": [\n\t\t{"name": "a", "env": ["X=$HOME"]}\n\t]\n}\n'
    path = _write(tmp_path, text, "cloudbuild/b.json")
    findings = check_build_file(path, repo=tmp_path)
    assert [(f.line, "$HOME" in f.message) for f in findings] == [(3, True)]


def test_line_inside_block_scalar(tmp_path: pathlib.Path) -> None:
    text = """\
    steps:
      - name: bash
        args:
          - -c
          - |
            echo one
            echo $$OK
            echo $BAD
    """
    findings = _check(tmp_path, text)
    assert [(f.line, "$BAD" in f.message) for f in findings] == [(8, True)]


def test_escapes_and_non_substitutions_are_left_alone(tmp_path: pathlib.Path) -> None:
    text = (
        BASE + "    env:\n"
        "      - 'A=$$HOME $${HOME:-x} $$$$ $home ${home} $1 $'\n"
        "      - 'B=$$$PROJECT_ID'\n"  # escaped $ followed by a built-in
    )
    assert _check(tmp_path, text) == []


def test_script_fields_are_not_substituted(tmp_path: pathlib.Path) -> None:
    text = "steps:\n  - name: ubuntu\n    script: echo $HOME ${_NOT_DECLARED}\n"
    assert _check(tmp_path, text) == []


def test_substitution_values_unchecked_without_dynamic(tmp_path: pathlib.Path) -> None:
    text = BASE + "substitutions:\n  _A: ${_B}-x\n"
    assert _check(tmp_path, text) == []


def test_snake_case_keys_are_accepted(tmp_path: pathlib.Path) -> None:
    text = (
        BASE + "    wait_for: ['-']\n    allow_exit_codes: [1]\noptions:\n"
        "  default_logs_bucket_behavior: REGIONAL_USER_OWNED_BUCKET\n"
        "  machine_type: E2_STANDARD_2\n"
        "available_secrets:\n  secret_manager: []\n"
    )
    assert _check(tmp_path, text) == []


# --- the discovery document decides (it differs from the old hand-typed schema) -------------

# (yaml, expected message part, expected line): Cloud Build runs these, but they should change
WARNINGS: dict[str, tuple[str, str, int]] = {
    "deprecated logs bucket behavior": (
        BASE + "options:\n  defaultLogsBucketBehavior: LEGACY_BUCKET\n",
        "'LEGACY_BUCKET' is deprecated in the Cloud Build API (Deprecated: Use "
        "`REGIONAL_USER_OWNED_BUCKET` instead.)",
        5,
    ),
    "deprecated machine type": (
        BASE + "options:\n  machine_type: N1_HIGHCPU_8\n",
        "options.machine_type: 'N1_HIGHCPU_8' is deprecated",
        5,
    ),
    "deprecated logging mode": (
        BASE + "options:\n  logging: STACKDRIVER_ONLY\n",
        "'STACKDRIVER_ONLY' is deprecated",
        5,
    ),
    "deprecated field": (
        BASE + "options:\n  workerPool: projects/p/locations/l/workerPools/w\n",
        "'workerPool' is deprecated in the Cloud Build API: This field deprecated; please use "
        "`pool.name` instead.",
        5,
    ),
}


@pytest.mark.parametrize("case", sorted(WARNINGS))
def test_deprecated_values_are_warnings(tmp_path: pathlib.Path, case: str) -> None:
    text, expected, line = WARNINGS[case]
    findings = _check(tmp_path, text)
    assert [(f.severity, f.line) for f in findings] == [("warning", line)], findings
    assert expected in findings[0].message, findings[0].message


def test_errors_are_errors(tmp_path: pathlib.Path) -> None:
    findings = _check(tmp_path, BASE + "timout: 60s\n")
    assert [f.severity for f in findings] == ["error"]


@pytest.mark.parametrize(
    "text",
    [
        # in the discovery document, not in the old hand-typed schema
        BASE + "options:\n  machineType: E2_STANDARD_2\n",
        BASE + "options:\n  sourceProvenanceHash: [DIRSUM_SHA256]\n",
        BASE + "options:\n  rankedMachineSeries: [MACHINE_SERIES_E]\n",
        BASE + "    results: [{name: digest}]\n",
        BASE + "artifacts:\n  oci: [{file: /workspace/i.tar, registryPath: r/i}]\n",
    ],
)
def test_fields_and_values_of_the_discovery_document_pass(
    tmp_path: pathlib.Path, text: str
) -> None:
    assert _check(tmp_path, text) == []


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        # output-only in the discovery document (the old schema took it as an option)
        (BASE + "options:\n  pool:\n    workerRelease: stable\n", "output-only", 6),
        (BASE + "options:\n  rankedMachineSeries: [MACHINE_SERIES_X]\n", "unknown value", 5),
        (BASE + "    results: [{attestationType: x}]\n", "missing the required key 'name'", 4),
        (BASE + "    allowExitCodes: [4294967296]\n", "from -2147483648 to 2147483647", 4),
        (BASE + "    allowExitCodes: [one]\n", "must be an integer", 4),
        (BASE + "artifacts:\n  oci: [{file: x}]\n", "missing the required key 'registryPath'", 5),
    ],
)
def test_schema_of_the_discovery_document_is_enforced(
    tmp_path: pathlib.Path, text: str, expected: str, line: int
) -> None:
    findings = _check(tmp_path, text)
    matching = [f for f in findings if expected in f.message]
    assert matching and matching[0].line == line, findings


def test_stackdriver_only_is_a_log_destination(tmp_path: pathlib.Path) -> None:
    """The discovery document: STACKDRIVER_ONLY 'is the same as CLOUD_LOGGING_ONLY'."""
    text = (
        BASE + "serviceAccount: projects/p/serviceAccounts/x@p.iam.gserviceaccount.com\n"
        "options:\n  logging: STACKDRIVER_ONLY\n"
    )
    findings = _check(tmp_path, text)
    assert [f.severity for f in findings] == ["warning"], findings


def test_messages_name_the_schema_and_list_known_keys(tmp_path: pathlib.Path) -> None:
    (finding,) = _check(tmp_path, BASE + "    argz: [a]\n")
    assert finding.message.startswith("steps[0]: unknown BuildStep key 'argz'; did you mean")
    assert "Known BuildStep keys: allowExitCodes, allowFailure, args," in finding.message
    assert "exitCode" not in finding.message  # output-only keys are not offered


def test_no_hint_still_ends_the_sentence(tmp_path: pathlib.Path) -> None:
    (finding,) = _check(tmp_path, BASE + "zzzz: 1\n")
    assert "unknown Build key 'zzzz'. Known Build keys:" in finding.message


def test_check_repo_without_plans_checks_files_alone(tmp_path: pathlib.Path) -> None:
    repo = _copy_good_repo(tmp_path)
    alone = [
        f
        for name in ("ml-pipeline.yaml", "rollback.json", "terraform-plan.yaml")
        for f in check_build_file(repo / "cloudbuild" / name, repo=repo)
    ]
    assert check_repo(repo, {}) == sorted(alone, key=lambda f: f.file)
