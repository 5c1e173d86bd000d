"""Each escaping filter returns text whose value, read back by that language's own reader
(terraform itself for HCL, a YAML parser, /bin/sh), is exactly the input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from generator.filters import hcl, hcl_attributes, hcl_tfvars, md, md_code, sh, yaml

HOSTILE = [
    'say "hi"',
    "back\\slash\\",
    "${x}",
    "$${already}",
    "%{ if true }yes%{ endif }",
    "%%{ not }",
    "<<EOF\nheredoc\nEOF",
    "key: value # comment",
    "- item",
    "tab\tand\r\nnewline",
    "Zürich – 東京 – émoji 🚀",
    "'single' `back` *star* _u_ [l](x) <b>",
    "",
    "trailing $",
    "percent %",
]

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
)


def _terraform_values(values: list[object], tmp: Path) -> list[object]:
    """Apply a config whose only output is the list of values; read it back as JSON."""
    body = "\n".join(f"    {hcl(v, 2)}," for v in values)
    (tmp / "main.tf").write_text(f"output \"v\" {{\n  value = [\n{body}\n  ]\n}}\n")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "TF_IN_AUTOMATION": "1"}
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        run = subprocess.run(["terraform", *args], cwd=tmp, env=env, capture_output=True,
                             text=True, check=False)
        assert run.returncode == 0, run.stderr
    out = subprocess.run(["terraform", "output", "-json", "v"], cwd=tmp, env=env,
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert isinstance(result, list)
    return result


@pytest.mark.terraform
def test_hcl_hostile_strings_round_trip_through_terraform(tmp_path: Path) -> None:
    values: list[object] = [*HOSTILE, {"k\"ey": "v${x}", "plain": ["a", "%{b}"]}, 3, True, None]
    assert _terraform_values(values, tmp_path) == values


@pytest.mark.terraform
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(text, min_size=1, max_size=25))
def test_hcl_any_string_round_trips_through_terraform(tmp_path: Path, values: list[str]) -> None:
    # hypothesis may run the same example twice (replay, shrinking): a fresh directory each time
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    assert _terraform_values(list(values), work) == values


@given(text)
def test_hcl_string_never_interpolates(value: str) -> None:
    rendered = hcl(value)
    inner = rendered[1:-1]
    # every `${` / `%{` in the literal is escaped by doubling the sigil
    assert "${" not in inner.replace("$${", "")
    assert "%{" not in inner.replace("%%{", "")
    assert "\n" not in rendered


@given(st.one_of(text, st.lists(text, max_size=5), st.dictionaries(text, text, max_size=4)))
def test_yaml_round_trips(value: object) -> None:
    assert pyyaml.safe_load(f"key: {yaml(value)}\n") == {"key": value}
    assert pyyaml.safe_load(f"- {yaml(value)}\n") == [value]


@pytest.mark.parametrize("value", HOSTILE)
def test_yaml_hostile(value: str) -> None:
    assert pyyaml.safe_load(f"a:\n  b: {yaml(value)}\n") == {"a": {"b": value}}


@settings(max_examples=60, deadline=None)
@given(text)
def test_sh_round_trips_through_a_real_shell(value: str) -> None:
    shell = shutil.which("sh")
    assert shell
    out = subprocess.run([shell, "-c", f"printf '%s' {sh(value)}"], capture_output=True,
                         check=True)
    assert out.stdout.decode() == value


@given(text)
def test_md_has_no_raw_markup(value: str) -> None:
    rendered = md(value)
    assert "<" not in rendered and ">" not in rendered
    assert "\n" not in rendered
    for special in "`*_[]|~":
        assert rendered.count(special) == rendered.count("\\" + special)


def test_tfvars_body_is_aligned_like_terraform_fmt() -> None:
    body = hcl_tfvars({"a": "x", "longer_name": ["1"], "m": {"k": True}})
    # a multi-line value breaks the alignment run, as in `terraform fmt`
    assert body.splitlines()[0] == 'a = "x"'
    assert hcl_tfvars({"a": "x", "longer_name": 1}).splitlines()[0] == 'a           = "x"'
    with pytest.raises(ValueError):
        hcl_tfvars({"bad name": 1})


def test_attributes_nest_inside_a_block_as_terraform_fmt_writes_them() -> None:
    body = hcl_attributes({"a": "x", "long_name": {"k": [1]}, "bb": True}, 1)
    assert body.splitlines() == [
        '  a = "x"',
        "  long_name = {",
        "    k = [",
        "      1,",
        "    ]",
        "  }",
        "  bb = true",
    ]
    with pytest.raises(ValueError):
        hcl_attributes({"not-an ident": 1})


# --- Markdown code spans: read back by a CommonMark parser (markdown-it-py) ------------------

COMMONMARK = MarkdownIt("commonmark")
GFM_TABLES = MarkdownIt("commonmark").enable("table")
# CommonMark turns line endings inside a paragraph into spaces; NUL becomes U+FFFD
span_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1, max_size=40,
)
backticky = st.text(alphabet="` |\\a\n", min_size=1, max_size=12)


def _shown(value: str) -> str:
    return " ".join(value.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _code_spans(tokens: list[object]) -> list[str]:
    found = []
    for token in tokens:
        for child in getattr(token, "children", None) or []:
            if child.type == "code_inline":
                found.append(child.content)
    return found


@settings(max_examples=400)
@given(st.one_of(span_text, backticky))
def test_md_code_shows_the_value_in_running_text(value: str) -> None:
    source = f"push to {md_code(value)} first\n"
    assert _code_spans(COMMONMARK.parse(source)) == [_shown(value)]


@settings(max_examples=400)
@given(st.one_of(span_text, backticky))
def test_md_code_shows_the_value_in_a_table_cell(value: str) -> None:
    source = f"| a | b |\n| --- | --- |\n| x | push to {md_code(value, table=True)} |\n"
    tokens = GFM_TABLES.parse(source)
    assert [t.type for t in tokens].count("td_open") == 2, "the value split the table cell"
    assert _code_spans(tokens) == [_shown(value)]


def test_md_code_fences_and_pads() -> None:
    assert md_code("main") == "`main`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"
    assert md_code(" x ") == "`  x  `"
    assert md_code("a|b") == "`a|b`" and md_code("a|b", table=True) == "`a\\|b`"
    with pytest.raises(ValueError):
        md_code("")
