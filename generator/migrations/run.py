"""Run one migration module: `python run.py <module name>` with the client repo as cwd.

copier calls this (see `copier_entries`); it runs from the template clone of the version being
updated to, so it imports the migration by path and needs nothing installed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: run.py <migration module name>", file=sys.stderr)
        return 2
    name = argv[0]
    path = HERE / f"{name}.py"
    if not path.is_file():
        print(f"migration {name}: no file {path}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(HERE))  # so a migration can `import ops`
    spec = importlib.util.spec_from_file_location(f"mlopsgen_migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    done = module.migrate(Path.cwd())
    for line in done or ["nothing to do"]:
        print(f"migration {name}: {line}", file=sys.stderr)  # stdout may carry JSON
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
