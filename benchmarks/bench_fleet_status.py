"""Fleet status benchmark: `mlopsgen fleet status` over N local client repos.

Target (issue 15): 200 repos within 5 s on 2 cores, the whole command (interpreter start,
imports, reading, the table or the HTML page).

    python benchmarks/bench_fleet_status.py [--repos 200] [--target 5] [--keep DIR]

Builds a template repo with three tagged versions (tests/upgrade/builder.py), renders one
client repo at v0.1.0 with examples/minimal.yml, and clones it N times (hard links: git's own
`clone --local`, so each clone is a real repo with a full work tree); a third stays at v0.1.0,
a third is moved to v0.2.0, a third to v0.3.0 (a commit each), and every tenth gets a
`template-update/v0.3.0` branch carrying an update record. Then times, as subprocesses,
`fleet status --json`, `fleet status` (table) and `fleet status --html`, and counts the
processes each starts (none per repo, except to read an update branch's record). Exit 1 when
a run misses the target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator import update_record as rec  # noqa: E402
from tests.fleet_synthetic import add_update_branch  # noqa: E402
from tests.upgrade import builder  # noqa: E402


def make_fleet(base: Path, count: int) -> Path:
    template = builder.build_template_repo(base / "template", versions=3)
    answers = yaml.safe_load((ROOT / "examples" / "minimal.yml").read_text())
    seed = builder.render_client(template, base / "seed", answers)
    clients = base / "clients"
    clients.mkdir()
    for i in range(count):
        repo = clients / f"client-{i:03d}"
        builder.git(base, "clone", "-q", "--local", str(seed), str(repo))
        version = ("v0.1.0", "v0.2.0", "v0.3.0")[i % 3]
        if version != "v0.1.0":
            path = repo / ".copier-answers.yml"
            path.write_text(path.read_text().replace("_commit: v0.1.0", f"_commit: {version}"))
            builder.git(repo, "commit", "-q", "-am", f"at {version}")
        if i % 10 == 1:
            add_update_branch(repo, rec.UpdateRecord(version, "v0.3.0", validation="ok"))
    return clients


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def timed(args: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the command and its children, stdout)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "generator.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 4):
        raise SystemExit(f"fleet status failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, _children_cpu() - cpu, done.stdout


def count_processes(clients: Path) -> int:
    """Processes one in-process `fleet status` starts (mlopsgen starts them with
    subprocess.run)."""
    from generator import fleet, fleet_status
    from generator.github_api import Settings

    started = 0
    real = subprocess.run

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal started
        started += 1
        return real(*args, **kwargs)

    subprocess.run = counting
    try:
        fleet_status.Collector(Settings()).report(fleet.discover_entries([str(clients)]))
    finally:
        subprocess.run = real
    return started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--target", type=float, default=5.0, help="seconds, per run")
    parser.add_argument("--keep", type=Path,
                        help="build the fleet here and keep it (reused when already there)")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-fleet-status-"))
    base.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    clients = base / "clients"
    if clients.is_dir():  # --keep: the fleet built by an earlier run
        args.repos = sum(1 for _ in clients.iterdir())
        print(f"reusing {args.repos} client repos in {clients} ({os.cpu_count()} CPUs)")
    else:
        clients = make_fleet(base, args.repos)
        print(f"built {args.repos} client repos in {time.perf_counter() - started:.1f}s "
              f"({os.cpu_count()} CPUs)")
    env_cwd = base
    runs = {
        "--json": ["fleet", "status", "--repos", str(clients), "--json"],
        "table": ["fleet", "status", "--repos", str(clients)],
        "--html": ["fleet", "status", "--repos", str(clients), "--html", str(base / "p.html")],
    }
    missed = []
    for name, command in runs.items():
        wall, cpu, out = timed(command, env_cwd)
        print(f"fleet status {name:<7} {wall:5.2f}s wall, {cpu:5.2f}s CPU "
              f"({args.repos / wall:.0f} repos/s)")
        if name == "--json":
            summary = json.loads(out)["summary"]
            print(f"  by state: {summary['by_state']}")
        if wall > args.target:
            missed.append(name)
    processes = count_processes(clients)
    update_branches = len(range(1, args.repos, 10))
    print(f"processes started by one run: {processes} (repos with an update branch: "
          f"{update_branches}; the template's tags: 1 ls-remote)")
    if missed:
        print(f"MISSED the {args.target:.1f}s target: {', '.join(missed)}")
        return 1
    print(f"within the {args.target:.1f}s target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
