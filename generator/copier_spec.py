"""Generate `copier.yml` from the answers model: `python -m generator.copier_spec > copier.yml`.

The questions, defaults, choices and validators all come from `generator.answers`; a test
keeps the committed copier.yml equal to this output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from generator import migrations
from generator.answers import QUESTIONS, Question

HEADER = """\
# GENERATED from generator/answers.py by `python -m generator.copier_spec > copier.yml`.
# Do not edit by hand: change the answers model and regenerate (tests/test_copier_spec.py checks).
"""

SETTINGS: dict[str, Any] = {
    "_min_copier_version": "9.5.0",
    "_subdirectory": "templates",
    "_answers_file": ".copier-answers.yml",
    "_templates_suffix": ".jinja",
    "_jinja_extensions": [
        "copier_template_extensions.TemplateExtensionLoader",
        "generator/copier_ext.py:MlopsgenFilters",
        "generator/copier_ext.py:MlopsgenContext",
    ],
    "_message_after_copy": (
        "Rendered the MLOps platform repo for {{ client_name }}.\n"
        "Next: read README.md (bootstrap, plan, apply, promote), then run\n"
        "  mlopsgen validate {{ _copier_conf.dst_path }}\n"
    ),
    # Updates (docs/decisions/0003-upgrades.md): files the client owns after the first render
    # (never overwritten; delete one to get the template's current version back) ...
    "_skip_if_exists": [
        "terraform/envs/*/client.auto.tfvars",
        "notebooks/*.ipynb",
        "pipelines/trainer/model.py",
        "pipelines/sql.py",
    ],
    # ... no tasks: copier runs tasks three times per update (old render, new render, the repo),
    # and nothing the repo needs after rendering is worth that risk ...
    "_tasks": [],
    # ... and version-gated, idempotent migrations from generator/migrations/.
    "_migrations": migrations.copier_entries(),
}


def question_spec(q: Question) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "str" if q.multiselect else q.type, "help": q.help}
    if q.choices:
        spec["choices"] = list(q.choices)
    if q.multiselect:
        spec["multiselect"] = True
    spec["default"] = q.default
    if q.when is not None:
        spec["when"] = q.when
    spec["validator"] = f"{{{{ mlopsgen_check('{q.name}') }}}}"
    return spec


def render() -> str:
    body: dict[str, Any] = dict(SETTINGS)
    for q in QUESTIONS:
        body[q.name] = question_spec(q)
    return HEADER + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    text = render()
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
