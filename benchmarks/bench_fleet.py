"""Fleet benchmark: `mlopsgen fleet update` over N client repos, serial vs parallel.

Target (issue 7): 20 repos at least 1.8x faster than serially, on 2 cores, with the default
--jobs (two processes per CPU: updates wait on git and the disk a third of the time).

    python benchmarks/bench_fleet.py [--repos 20] [--jobs N] [--validate] [--target 1.8]

Builds a template repo with tagged versions (tests/upgrade/builder.py), renders one client
repo at v0.1.0 with examples/minimal.yml, copies it N times per run, and times a full update
to v0.2.0 (copier's three renders, the merge, the migrations) of all N repos: once with
--jobs 1, once with --jobs N. Exit 1 when the speed-up misses the target. Machine load from
other processes skews both runs; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator import fleet  # noqa: E402
from tests.upgrade import builder  # noqa: E402


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling(jobs: int, n: int = 15_000_000) -> float:
    """Speed-up `jobs` processes get on pure CPU work right now: the most any fleet run can
    get on this machine at this moment (other processes, vCPUs that are not real cores)."""
    started = time.perf_counter()
    for _ in range(jobs):
        _burn(n)
    serial = time.perf_counter() - started
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(_burn, [n] * jobs))
    return serial / (time.perf_counter() - started)


def make_fleet(seed: Path, dest: Path, count: int) -> list[Path]:
    dest.mkdir(parents=True)
    repos = []
    for i in range(count):
        repo = dest / f"client-{i:02d}"
        shutil.copytree(seed, repo, symlinks=True)
        repos.append(repo)
    return repos


def _cpu() -> float:
    """CPU seconds of this process and every finished descendant (git, workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(repos: list[Path], jobs: int, options: fleet.FleetOptions) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fleet update."""
    cpu0, started = _cpu(), time.perf_counter()
    results = fleet.run_fleet("update", repos, jobs=jobs, options=options)
    elapsed, cpu = time.perf_counter() - started, _cpu() - cpu0
    bad = [r for r in results if r.status != "updated"]
    if bad:
        raise SystemExit(f"unexpected results with --jobs {jobs}: {bad[:3]}")
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=0, help="default: mlopsgen's default")
    parser.add_argument("--target", type=float, default=1.8)
    parser.add_argument("--validate", action="store_true", help="also run mlopsgen validate")
    args = parser.parse_args()
    args.jobs = args.jobs if args.jobs > 0 else fleet.default_jobs()
    answers = yaml.safe_load((ROOT / "examples" / "minimal.yml").read_text())
    options = fleet.FleetOptions(vcs_ref="v0.2.0", validate=args.validate)
    import copier  # noqa: F401  (imported before timing: both runs start warm)
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        base = Path(tmp)
        template = builder.build_template_repo(base / "template", versions=2)
        seed = builder.render_client(template, base / "seed", answers)
        serial = make_fleet(seed, base / "serial", args.repos)
        parallel = make_fleet(seed, base / "parallel", args.repos)
        ceiling_before = machine_ceiling(args.jobs)
        t_serial, cpu_serial = timed(serial, 1, options)
        t_parallel, cpu_parallel = timed(parallel, args.jobs, options)
        ceiling = min(ceiling_before, machine_ceiling(args.jobs))
    speedup = t_serial / t_parallel
    load = os.getloadavg()[0]
    print(f"cpus={os.cpu_count()} repos={args.repos} validate={args.validate} load={load:.1f}")
    print(f"serial (--jobs 1):   {t_serial:7.1f}s wall {cpu_serial:7.1f}s cpu"
          f"  ({t_serial / args.repos:.1f}s/repo)")
    print(f"parallel (--jobs {args.jobs}): {t_parallel:7.1f}s wall {cpu_parallel:7.1f}s cpu")
    print(f"speed-up: {speedup:.2f}x (target >= {args.target}x); pure-CPU ceiling of "
          f"{args.jobs} processes on this machine now: {ceiling:.2f}x")
    if load > (os.cpu_count() or 1) or ceiling < args.target:
        print("warning: the machine is busy (load above the CPU count, or pure CPU work does "
              "not reach the target either): rerun on an idle machine before trusting the ratio")
    return 0 if speedup >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
