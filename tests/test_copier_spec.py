"""copier.yml is generated from the answers model; copier and the CLI cannot disagree."""

from __future__ import annotations

from pathlib import Path

import yaml

from generator import copier_spec
from generator.answers import QUESTIONS

ROOT = Path(__file__).resolve().parent.parent


def test_committed_copier_yml_is_generated_from_the_model() -> None:
    committed = (ROOT / "copier.yml").read_text()
    assert committed == copier_spec.render(), (
        "copier.yml is stale: run `python -m generator.copier_spec copier.yml`"
    )


def test_every_question_has_help_default_and_validator() -> None:
    spec = yaml.safe_load((ROOT / "copier.yml").read_text())
    for q in QUESTIONS:
        entry = spec[q.name]
        assert entry["help"]
        assert "default" in entry
        assert entry["validator"] == f"{{{{ mlopsgen_check('{q.name}') }}}}"
    assert spec["_subdirectory"] == "templates"
    assert spec["_answers_file"] == ".copier-answers.yml"
    assert "_min_copier_version" in spec


def test_choices_agree_with_rules() -> None:
    for q in QUESTIONS:
        for choice in q.choices:
            value = [choice] if q.multiselect else choice
            assert q.rule(value, {}) is None, (q.name, choice)
        if q.choices and not q.multiselect:
            assert q.rule("not-a-choice", {}) is not None
