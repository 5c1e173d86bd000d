"""A client name full of HCL, YAML, shell and Markdown syntax renders into files that parse,
and reads back exactly from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from generator import render as render_mod

from .conftest import load_example

HOSTILE_NAMES = [
    'Ac"me \\ ${x} %{ if true }y%{ endif } <<EOF : # — Zürich 東京',
    "O'Brien & Sons: `rm -rf /` $(whoami) *bold* [x](y) <script>",
]


def _hcl_unescape(raw: str) -> str:
    """Read back the value of a quoted HCL string literal as python-hcl2 returns it."""
    body = raw[1:-1] if raw.startswith('"') and raw.endswith('"') else raw
    body = body.replace("$${", "${").replace("%%{", "%{")
    out, i = [], 0
    escapes = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u":
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(escapes[nxt])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


@pytest.fixture(scope="module", params=HOSTILE_NAMES, ids=["hcl-yaml", "shell-markdown"])
def hostile(request: pytest.FixtureRequest, render_repo: Any) -> tuple[str, Path]:
    name = request.param
    answers = {**load_example("full"), "client_name": name, "client_slug": "acme"}
    return name, render_repo(answers)


def test_hcl_files_parse_and_hold_the_exact_name(hostile: tuple[str, Path]) -> None:
    name, repo = hostile
    found = 0
    for path in sorted(repo.rglob("*.tf")) + sorted(repo.rglob("*.tfvars")):
        parsed = hcl2.loads(path.read_text())
        for raw in _strings(parsed):
            if "Zürich" in raw or "O'Brien" in raw:
                value = _hcl_unescape(raw)
                assert name in value, f"{path}: {raw!r} reads back as {value!r}"
                found += 1
    assert found, "the client name lands in no Terraform file"


def test_yaml_files_parse_and_hold_the_exact_name(hostile: tuple[str, Path]) -> None:
    name, repo = hostile
    for path in sorted(repo.rglob("*.yaml")) + sorted(repo.rglob("*.yml")):
        data = yaml.safe_load(path.read_text())
        for value in _strings(data):
            if "Zürich" in value or "O'Brien" in value:
                assert name in value, f"{path}: {value!r}"
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert answers["client_name"] == name


def test_markdown_shows_the_name_without_markup(hostile: tuple[str, Path]) -> None:
    _, repo = hostile
    readme = (repo / "README.md").read_text()
    assert "<script>" not in readme
    assert "&lt;script&gt;" in readme or "${x}" in readme


@pytest.mark.terraform
def test_hostile_render_is_formatted(hostile: tuple[str, Path]) -> None:
    _, repo = hostile
    assert render_mod.terraform_fmt_check(repo) == []


def test_readme_links_point_at_rendered_files(hostile: tuple[str, Path]) -> None:
    _, repo = hostile
    for doc in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        for target in re.findall(r"(?<!\\)\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
