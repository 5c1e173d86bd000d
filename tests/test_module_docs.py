"""Module READMEs (tools/module_docs.py): the generated reference is current, the scanner and the
Markdown it writes are right, and every tagged usage example plans offline with the module and
resource counts its `# tftest` comment states (the way Fabric keeps its README examples honest).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.offline import offline_providers
from generator.plan_summary import iter_changes
from generator.tfrunner import PlanOptions, Terraform

ROOT = Path(__file__).resolve().parent.parent


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("module_docs", ROOT / "tools" / "module_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


docs = _load_tool()
MODULES: Path = docs.MODULES
EXAMPLES = [
    example
    for module in docs.module_dirs()
    for example in docs.examples(module.name, (module / "README.md").read_text(encoding="utf-8"))
]


# -- the READMEs in this repo -----------------------------------------------------------------


def test_every_module_readme_is_current() -> None:
    assert docs.stale_modules() == [], f"module READMEs are stale; run: {docs.TOOL}"


def test_every_module_readme_has_a_planned_example() -> None:
    with_examples = {example.module for example in EXAMPLES}
    missing = [m.name for m in docs.module_dirs() if m.name not in with_examples]
    assert missing == [], "add a usage example tagged `# tftest modules=N resources=M`"


# -- the tool on a module of its own ----------------------------------------------------------

VARIABLES = '''\
variable "name" {
  description = "Bucket name | pipes, <html> and *stars* stay literal; `code` stays code."
  type        = string
}

variable "rules" {
  # a comment with { braces ( and "quotes"
  description = <<-EOT
    Rules as {key => {action, condition}}:
    "${literal}" here.
  EOT
  type = map(object({
    action    = string # inline comment }
    condition = optional(string, "}")
  }))
  default  = {}
  nullable = false
}

variable "startup" {
  description = "A heredoc default."
  type        = string
  default     = <<-EOT
    #!/bin/sh
    echo "${HOME}"
  EOT
}

variable "pattern" {
  description = "A default with a pipe and backticks."
  type        = string
  default     = "a|b`c``d"
  sensitive   = true
}
'''

OUTPUTS = '''\
output "id" {
  description = "Bucket id (projects/<p>/buckets/<name>)."
  value       = "x"
}

output "secret" {
  description = "Not shown."
  value       = "y"
  sensitive   = true
}
'''

VERSIONS = '''\
terraform {
  required_providers {
    github = { source = "integrations/github", version = "~> 6.13" } # inline, then multi-line
    google = {
      version = ">= 8.7.0, < 9.0.0"
      source  = "hashicorp/google"
    }
  }
  required_version = ">= 1.10"
}
'''


@pytest.fixture
def module_root(tmp_path: Path) -> Path:
    module = tmp_path / "bucket"
    module.mkdir()
    (module / "variables.tf").write_text(VARIABLES)
    (module / "outputs.tf").write_text(OUTPUTS)
    (module / "versions.tf").write_text(VERSIONS)
    readme = f"# Bucket\n\nProse stays.\n\n{docs.BEGIN}\n{docs.END}\n\nEnd.\n"
    (module / "README.md").write_text(readme)
    return tmp_path


def test_reads_names_types_defaults_and_flags_as_written(module_root: Path) -> None:
    doc = docs.read_module(module_root / "bucket")
    by_name = {v.name: v for v in doc.variables}
    assert list(by_name) == ["name", "rules", "startup", "pattern"]
    assert by_name["name"].default is None
    assert by_name["rules"].description == (
        'Rules as {key => {action, condition}}:\n"${literal}" here.'
    )
    assert by_name["rules"].type == (
        'map(object({\n    action    = string # inline comment }\n'
        '    condition = optional(string, "}")\n  }))'
    )
    assert by_name["rules"].default == "{}"
    assert by_name["pattern"].sensitive and by_name["pattern"].default == '"a|b`c``d"'
    assert [(o.name, o.sensitive) for o in doc.outputs] == [("id", False), ("secret", True)]
    assert [(r.name, r.constraint) for r in doc.requirements] == [
        ("terraform", ">= 1.10"),
        ("integrations/github", "~> 6.13"),
        ("hashicorp/google", ">= 8.7.0, < 9.0.0"),
    ]


def test_writes_tables_keeps_prose_and_check_notices_a_change(
    module_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--root", str(module_root)]
    assert docs.main(["--check", *root]) == 1
    assert "bucket" in capsys.readouterr().err
    assert docs.main(root) == 0
    readme = (module_root / "bucket" / "README.md").read_text()
    assert readme.startswith("# Bucket\n\nProse stays.\n\n") and readme.endswith("\n\nEnd.\n")
    assert docs.main(["--check", *root]) == 0

    with (module_root / "bucket" / "variables.tf").open("a") as f:
        f.write('\nvariable "extra" {\n  description = "New."\n  type        = bool\n}\n')
    assert docs.main(["--check", *root]) == 1
    assert "stale module READMEs: bucket" in capsys.readouterr().err


def test_markdown_shows_every_value_literally(module_root: Path) -> None:
    assert docs.main(["--root", str(module_root)]) == 0
    readme = (module_root / "bucket" / "README.md").read_text()
    rows = {line.split(" | ")[0]: line for line in readme.splitlines() if line.startswith("| `")}
    # pipes split table cells unless escaped, also inside code spans; no raw HTML, no emphasis
    assert rows["| `name`"] == (
        "| `name` | Bucket name \\| pipes, &lt;html&gt; and \\*stars\\* stay literal; `code` stays"
        " code. | `string` |  | yes |"
    )
    # a code span holding a run of two backticks needs a fence of three
    assert rows["| `pattern` (sensitive)"].split(" | ")[3] == '```"a\\|b`c``d"```'
    assert rows["| `id`"] == "| `id` | Bucket id (projects/&lt;p&gt;/buckets/&lt;name&gt;). | no |"
    assert "| `secret` | Not shown. | yes |" in readme
    # the long type: abbreviated in the table, in full (comments too) below it
    assert "[`map(object({…}))`](#rules-type)" in rows["| `rules`"]
    full = "#### `rules` type\n\n```hcl\nmap(object({\n  action    = string # inline comment }"
    assert full in readme
    assert "[`<<-EOT…`](#startup-default)" in rows["| `startup`"]
    heredoc = '#### `startup` default\n\n```hcl\n<<-EOT\n  #!/bin/sh\n  echo "${HOME}"\nEOT\n```'
    assert heredoc in readme
    assert "| `integrations/github` | `~> 6.13` |" in readme


def test_a_readme_without_markers_is_refused(module_root: Path) -> None:
    (module_root / "bucket" / "README.md").write_text("# Bucket\n")
    with pytest.raises(docs.ReadmeError, match="markers"):
        docs.updated_readme(module_root / "bucket")
    assert docs.main(["--root", str(module_root)]) == 2


@pytest.mark.parametrize(
    ("source", "flat"),
    [
        ("object({\n  a = string\n  b = optional(bool, false)\n})",
         "object({ a = string, b = optional(bool, false) })"),
        ('[\n  "x",\n  "y",\n]', '["x", "y"]'),
        ('{\n  plan = [\n    "a",\n  ]\n  apply = []\n}', '{ plan = ["a"], apply = [] }'),
        ('map(object({\n  k = string # why\n}))', "map(object({ k = string }))"),
        ('"keeps  spaces, and # inside"', '"keeps  spaces, and # inside"'),
        ("{}", "{}"),
    ],
)
def test_collapse_puts_hcl_on_one_line(source: str, flat: str) -> None:
    assert docs.collapse(source) == flat


@pytest.mark.parametrize(
    ("text", "span"),
    [("a", "`a`"), ("a`b", "``a`b``"), ("`a", "`` `a ``"), ("x``y`", "``` x``y` ```")],
)
def test_code_spans_are_fenced_longer_than_their_backticks(text: str, span: str) -> None:
    assert docs.code_span(text) == span


def test_scanner_errors_name_the_file_and_line(tmp_path: Path) -> None:
    module = tmp_path / "broken"
    module.mkdir()
    (module / "variables.tf").write_text('variable "a" {\n  type = map(string\n}\n')
    where = r"broken/variables\.tf: line 3: '}' closes the '\(' of line 2"
    with pytest.raises(docs.HclError, match=where):
        docs.read_module(module)


def test_examples_are_read_from_tagged_hcl_blocks_outside_the_generated_part() -> None:
    readme = (
        "```hcl\nmodule \"a\" {}\n# tftest modules=1 resources=2\n```\n"
        "```hcl\nuntagged = true\n```\n"
        "````hcl\n# tftest modules=3 resources=4\n```\nnested fence\n````\n"
        f"{docs.BEGIN}\n```hcl\n# tftest modules=9 resources=9\n```\n{docs.END}\n"
    )
    found = docs.examples("m", readme)
    assert [(e.id, e.expected) for e in found] == [
        ("m-1", {"modules": "1", "resources": "2"}),
        ("m-2", {"modules": "3", "resources": "4"}),
    ]


# -- the README examples, planned offline -----------------------------------------------------


@pytest.fixture(scope="session")
def offline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One stand-in provider server for all examples of this worker."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH (CI has terraform 1.11)")
    with offline_providers(tmp_path_factory.mktemp("module-docs"), reattach=True) as env:
        yield env


def planned_counts(plan: Mapping[str, Any]) -> dict[str, int]:
    """Module instances (with resources) and managed resource instances a plan creates."""
    modules = 0
    pending = list(plan.get("planned_values", {}).get("root_module", {}).get("child_modules", []))
    while pending:
        modules += 1
        pending += pending.pop().get("child_modules", [])
    creates = [c for c in iter_changes(plan) if c.kind == "create"]
    return {"modules": modules, "resources": len(creates)}


def _module_sources(code: str) -> list[str]:
    sources = []
    for item in docs.parse_body(code):
        if isinstance(item, docs.Block) and item.type == "module":
            attrs = {a.name: a.expr for a in docs.parse_body(item.body)
                     if isinstance(a, docs.Attribute)}
            sources.append(docs.string_value(attrs["source"]))
    return sources


@pytest.mark.terraform
@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_readme_example_plans_offline(
    example: Any, offline_env: dict[str, str], tmp_path: Path
) -> None:
    # the example as a client repo holds it: a root in terraform/envs/<env>/ calling
    # ../../modules/<name>, here this repo's modules
    assert f"../../modules/{example.module}" in _module_sources(example.code), (
        f'the example should call its module with source = "../../modules/{example.module}"'
    )
    assert set(example.expected) >= {"modules", "resources"}, "tftest needs modules= resources="
    (tmp_path / "terraform").mkdir()
    (tmp_path / "terraform" / "modules").symlink_to(MODULES, target_is_directory=True)
    root = tmp_path / "terraform" / "envs" / "example"
    root.mkdir(parents=True)
    (root / "main.tf").write_text(example.code, encoding="utf-8")

    tf = Terraform(root, env=offline_env, isolated=True)
    assert tf.fmt_check() == [], "the example is not `terraform fmt` formatted"
    tf.init(backend=False)
    plan = tf.plan(root / "example.tfplan", PlanOptions(refresh=False, lock=False)).plan_json

    expected = {key: int(example.expected[key]) for key in ("modules", "resources")}
    counts = planned_counts(plan)
    assert counts == expected, (
        f"terraform/modules/{example.module}/README.md example {example.index} plans "
        f"`# tftest modules={counts['modules']} resources={counts['resources']}`"
    )
