"""The wheel carries every module copier loads by path (setup.py RENDER_MODULES).

copier_ext.py imports the generator directory as a private package and its submodules by
path; a module they import that the wheel's template copy lacks fails every render from an
installed wheel ("cannot import name ... from '_mlopsgen_tpl_...'"). Follows the relative
imports from copier_ext's own list, without building a wheel (tests/test_wheel.py does that).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "generator"


def _render_modules() -> set[str]:
    """setup.py's RENDER_MODULES, read as the literal it is (setup.py is not run)."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    (value,) = [n.value for n in tree.body if isinstance(n, ast.Assign)
                and any(getattr(t, "id", "") == "RENDER_MODULES" for t in n.targets)]
    return set(ast.literal_eval(value))


def _loaded_by_copier_ext() -> set[str]:
    """copier_ext's `for sub in (...)` submodules, then every relative import, transitively."""
    tree = ast.parse((GENERATOR / "copier_ext.py").read_text())
    (loop,) = [n for n in ast.walk(tree) if isinstance(n, ast.For)
               and isinstance(n.iter, ast.Tuple)
               and getattr(n.target, "id", "") == "sub"]
    assert isinstance(loop.iter, ast.Tuple)
    todo = {"__init__", "copier_ext"} | {str(e.value) for e in loop.iter.elts
                                         if isinstance(e, ast.Constant)}
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        seen.add(name)
        for node in ast.walk(ast.parse((GENERATOR / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                todo |= {n.split(".")[0] for n in names if (GENERATOR / f"{n}.py").is_file()} - seen
    return seen


def test_the_wheel_carries_every_module_copier_loads() -> None:
    carried = _render_modules()
    needed = {f"generator/{name}.py" for name in _loaded_by_copier_ext()}
    assert needed <= carried, f"add to setup.py RENDER_MODULES: {sorted(needed - carried)}"
    assert "generator/observability.py" in needed  # the walk reaches model.py's own imports
