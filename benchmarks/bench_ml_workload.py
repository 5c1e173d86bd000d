"""Benchmark: the ML workload commands of a rendered client repo (issue 6's CI budget).

Target: compile + notebook-local + the client's unit tests of one render in <= 90 s (the
tests/ml suite runs these for four renders inside the 20-minute CI run).

    MLOPSGEN_ML_PYTHON=.venv-ml/bin/python python benchmarks/bench_ml_workload.py \
        [--example full] [--target 90]

Renders the example with copier (not timed), then times `make compile`, `make notebook-local`
and `make test` in the render with the ML interpreter. Exit 1 over the target. Load from
other processes skews the result; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _copier() -> str:
    beside = Path(sys.executable).with_name("copier")
    return str(beside) if beside.exists() else shutil.which("copier") or "copier"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--example", default="full")
    parser.add_argument("--target", type=float, default=90.0)
    args = parser.parse_args()
    python = os.environ.get("MLOPSGEN_ML_PYTHON")
    if not python:
        print("set MLOPSGEN_ML_PYTHON to a venv from tests/ml/requirements.txt", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run([_copier(), "copy", "--trust", "--defaults", "--quiet", "--data-file",
                        str(ROOT / "examples" / f"{args.example}.yml"), str(ROOT), str(repo)],
                       check=True, capture_output=True)
        total = 0.0
        for target in ("compile", "notebook-local", "test"):
            start = time.perf_counter()
            subprocess.run(["make", target, f"PYTHON={python}"], cwd=repo, check=True,
                           capture_output=True)
            took = time.perf_counter() - start
            total += took
            print(f"make {target:<15} {took:6.1f} s")
    print(f"total                {total:6.1f} s (target {args.target:.0f} s)")
    return 0 if total <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
