"""Property-based tests of the name-derivation rules, against GCP's rules written out here
independently of the implementation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import model
from generator.answers import AnswersError, derive_suffix, slugify

from .conftest import load_example

# GCP's published rules, restated (not imported) so a wrong rule in the code shows up here
PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
LABEL_VALUE = re.compile(r"^[\w-]{0,63}$")

slugs = st.from_regex(r"\A[a-z][a-z0-9]{0,9}(-[a-z0-9]{1,4}){0,2}\Z").filter(
    lambda s: 3 <= len(s) <= 20 and "google" not in s and not s.startswith("goog")
)
env_names = st.from_regex(r"\A[a-z][a-z0-9]{1,7}\Z").filter(lambda e: e not in ("cicd", "tfstate"))
environments = st.lists(env_names, min_size=1, max_size=5, unique=True)


def _answers(**over: Any) -> dict[str, Any]:
    base = load_example("full")
    base.pop("name_suffix", None)
    base.update(over)
    return base


@given(st.text(max_size=200))
def test_slugify_always_gives_a_usable_slug(text: str) -> None:
    slug = slugify(text)
    assert 3 <= len(slug) <= 20
    assert re.match(r"^[a-z][a-z0-9-]*[a-z0-9]$", slug)
    assert "--" not in slug


@given(st.text(max_size=200))
def test_label_value_is_always_a_valid_label(text: str) -> None:
    value = model.label_value(text)
    assert LABEL_VALUE.match(value)
    assert value == value.lower()


@given(slugs, st.sampled_from(["folders/1", "organizations/2", "folders/123456789"]))
def test_suffix_is_deterministic_and_short(slug: str, parent: str) -> None:
    suffix = derive_suffix(slug, parent)
    assert suffix == derive_suffix(slug, parent)
    assert re.match(r"^[0-9a-f]{4}$", suffix)


@settings(max_examples=300)
@given(slugs, environments, st.sampled_from(["per_environment", "single_project"]))
def test_accepted_answers_give_only_valid_names(slug: str, envs: list[str], layout: str) -> None:
    answers = _answers(client_slug=slug, environments=envs, project_layout=layout)
    try:
        valid = model.validate_answers(answers)
    except AnswersError as error:
        # rejected only for a name that really breaks a rule
        assert all(p.question in ("client_slug", "environments") for p in error.problems)
        longest = max(len(e) for e in envs)
        if layout == "per_environment":
            assert len(slug) + longest + 6 > 30 or len(slug) + 10 > 30
        return
    ctx = model.build_context(valid)
    assert PROJECT_ID.match(ctx["cicd_project"]["id"])
    assert BUCKET.match(ctx["state_bucket"])
    for env in ctx["environments"]:
        assert PROJECT_ID.match(env["project_id"]), env["project_id"]
        for bucket in env["buckets"].values():
            assert BUCKET.match(bucket) and "google" not in bucket
        for dataset in env["datasets"].values():
            assert DATASET.match(dataset)
        for account in env["service_accounts"].values():
            assert SERVICE_ACCOUNT_ID.match(account)
        for value in env["labels"].values():
            assert LABEL_VALUE.match(value)
    # names are unique where GCP needs them unique
    buckets = [b for e in ctx["environments"] for b in e["buckets"].values()]
    assert len(set(buckets)) == len(buckets)
    if layout == "single_project":
        accounts = [a for e in ctx["environments"] for a in e["service_accounts"].values()]
        assert len(set(accounts)) == len(accounts)
    else:
        projects = [e["project_id"] for e in ctx["environments"]]
        assert len(set(projects)) == len(projects)


@given(slugs, environments)
def test_too_long_project_ids_are_rejected_naming_the_slug(slug: str, envs: list[str]) -> None:
    answers = _answers(client_slug=slug, environments=envs, project_layout="per_environment")
    too_long = any(len(slug) + len(e) + 6 > 30 for e in envs)
    if too_long:
        with pytest.raises(AnswersError) as caught:
            model.validate_answers(answers)
        assert "client_slug" in {p.question for p in caught.value.problems}
    else:
        model.validate_answers(answers)


def test_default_branches_and_promotion_order() -> None:
    ctx = model.build_context(model.validate_answers(_answers()))
    envs = ctx["environments"]
    assert [e["branch"] for e in envs] == ["dev", "staging", "main"]
    assert [e["approval_required"] for e in envs] == [False, True, True]
    # the first environment's pipeline build promotes; the middle ones' apply builds do
    assert [e["run_pipeline"] for e in envs] == [True, False, False]
    assert [e["promote_after_pipeline"] for e in envs] == [True, False, False]
    assert [e["promote_after_apply"] for e in envs] == [False, True, False]
    assert [e["force_destroy"] for e in envs] == [True, False, False]
    assert envs[-1]["deletion_policy"] == "PREVENT"
    assert envs[0]["next_branch"] == "staging" and envs[-1]["next"] is None


def test_single_environment_is_never_disposable() -> None:
    ctx = model.build_context(model.validate_answers(load_example("minimal")))
    (env,) = ctx["environments"]
    assert env["force_destroy"] is False and env["deletion_protection"] is True
    assert env["project_id"] == ctx["cicd_project"]["id"]


def test_the_model_reads_no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """build_context is pure: what lives on disk (the template's modules) comes in as an
    argument, read by copier_ext."""
    import builtins
    import os
    import pathlib

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the model touched the disk: {args!r}")

    answers = model.validate_answers(_answers())
    for owner, name in [(builtins, "open"), (os, "scandir"), (os, "listdir"), (os, "stat"),
                        (pathlib.Path, "iterdir"), (pathlib.Path, "stat"),
                        (pathlib.Path, "read_text")]:
        monkeypatch.setattr(owner, name, refuse)
    bare = model.build_context(answers)
    named = model.build_context(answers, template_ref="v1.2.3", module_names=["gcs", "kms"])
    monkeypatch.undo()
    assert bare["module_sources"] == {"env": {}, "bootstrap": {}}
    assert named["module_sources"]["env"] == {
        "gcs": "../../modules/gcs", "kms": "../../modules/kms"
    }
    assert named["module_sources"]["bootstrap"]["kms"] == "../modules/kms"
    assert {k: v for k, v in bare.items() if k not in ("module_sources", "template_ref")} == {
        k: v for k, v in named.items() if k not in ("module_sources", "template_ref")
    }
