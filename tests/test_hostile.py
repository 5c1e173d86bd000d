"""A client name full of HCL, YAML, shell and Markdown syntax renders into files that parse,
and reads back exactly from them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from generator import validate as validate_mod

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
    assert validate_mod.check_fmt(repo) == []


def test_readme_links_point_at_rendered_files(hostile: tuple[str, Path]) -> None:
    _, repo = hostile
    for doc in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        for target in re.findall(r"(?<!\\)\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


# An address the answers accept (RFC 5322 atext) full of HCL, Markdown and shell syntax: it
# lands in HCL (tfvars), YAML (config/<env>.yaml) and Markdown, as text and in code spans.
HOSTILE_EMAIL = "`${x}%{y}'*_|~`@example.com"


@pytest.fixture(scope="module")
def hostile_email(render_repo: Any) -> Path:
    answers = {**load_example("full"), "client_slug": "acme",
               "notification_email": HOSTILE_EMAIL}
    return render_repo(answers)


def test_the_notification_email_reads_back_exactly_everywhere(hostile_email: Path) -> None:
    from markdown_it import MarkdownIt

    repo = hostile_email
    for tfvars in sorted((repo / "terraform" / "envs").glob("*/terraform.tfvars")):
        raw = hcl2.loads(tfvars.read_text())["notification_email"]
        assert _hcl_unescape(raw) == HOSTILE_EMAIL, tfvars
    for config in sorted((repo / "config").glob("*.yaml")):
        assert yaml.safe_load(config.read_text())["notification_email"] == HOSTILE_EMAIL
    parser = MarkdownIt("commonmark").enable("table")
    shown = 0
    for doc in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        for block in parser.parse(doc.read_text()):
            children = block.children or []
            code = [c.content for c in children if c.type == "code_inline"]
            text = "".join(c.content for c in children if c.type in ("text", "code_inline"))
            if "example.com" in text:
                # in a code span exactly, or as plain text between its own delimiters
                assert HOSTILE_EMAIL in code or f"({HOSTILE_EMAIL})" in text, (doc.name, text)
                shown += 1
    assert shown >= 3, "README, docs/terraform.md and docs/ml-workload.md name the address"


# The filter of each language a template writes (by the rendered file's extension); comments in
# HCL, YAML and Python end at the line's end, which no answer holds, so they need none.
LANGUAGE_FILTERS = {
    ".md": {"md", "md_code", "sh"},
    ".tf": {"hcl", "hcl_attributes"},
    ".tfvars": {"hcl_tfvars"},
    ".yaml": {"yaml"},
    ".py": {"yaml"},
}


def _literal(node: Any) -> bool:
    from jinja2 import nodes

    if isinstance(node, nodes.Const):
        return True
    if isinstance(node, nodes.CondExpr):
        return _literal(node.expr1) and (node.expr2 is None or _literal(node.expr2))
    return False


def test_templates_escape_every_interpolation_for_their_language() -> None:
    """Every `{{ ... }}` of a Markdown, HCL, YAML or Python template goes through the filter
    of the file's language (a literal needs none), so no answer lands unescaped and no code
    span is built around a value by hand (md_code builds the fence the value needs)."""
    from copier._jinja_ext import YieldExtension
    from jinja2 import Environment, nodes

    root = Path(__file__).resolve().parent.parent / "templates"
    env = Environment(extensions=[YieldExtension])
    checked, offenders, md_sources = 0, [], []
    for path in sorted(root.rglob("*.jinja")):
        name = re.sub(r"\{%-? endif -?%\}$", "", path.name.removesuffix(".jinja"))
        ext = next((e for e in LANGUAGE_FILTERS if name.endswith(e)), None)
        if ext is None:
            continue
        source = path.read_text()
        lines = source.splitlines()
        if ext == ".md":
            md_sources.append(source)
        for output in env.parse(source).find_all(nodes.Output):
            for node in output.nodes:
                if isinstance(node, nodes.TemplateData) or _literal(node):
                    continue
                line = lines[node.lineno - 1].lstrip()
                if ext != ".md" and line.startswith(("#", "//")):
                    continue
                checked += 1
                if not (isinstance(node, nodes.Filter) and node.name in LANGUAGE_FILTERS[ext]):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}: {line[:80]}")
    assert checked > 100
    assert offenders == []
    hand_made = [line for source in md_sources for line in _interpolated_code_spans(source)]
    assert hand_made == [], "code spans built around a value by hand instead of md_code"


def _interpolated_code_spans(source: str) -> list[str]:
    """Lines of a Markdown template with a `{{ ... }}` inside a code span of the template text
    (fenced code blocks are shell, not Markdown)."""
    found, fenced = [], False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        open_run = 0
        for piece in re.findall(r"`+|\{\{.*?\}\}", line) if not fenced else []:
            if piece.startswith("`"):
                open_run = 0 if len(piece) == open_run else open_run or len(piece)
            elif open_run:
                found.append(line)
                break
    return found
