"""Benchmark: `mlopsgen validate` on a render of examples/full.yml (bootstrap + 3 environments).

Target (issue 3): <= 10 s on a 2-core machine for the terraform stages (fmt, init, validate,
plan, test of every root), the Cloud Build check and the IAM proof (issue 12). checkov, a
third-party scanner that runs only when installed, is timed separately with --with-checkov (it
alone takes ~20 s).

Run: `python benchmarks/bench_validate.py [--repeat R] [--with-checkov] [--repo DIR]`.
Renders the example with copier into a temp dir (unless --repo), prints each run's wall time
and the per-root times, and exits 1 when the best run is over the target or validation fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.validate import format_report, validate_repo  # noqa: E402

TARGET_S = 10.0


def render(dest: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "generator.cli",
        "new",
        str(dest),
        "--data-file",
        str(ROOT / "examples" / "full.yml"),
        "--no-validate",
        # this checkout's template, not its newest release tag (what a consultant would get)
        "--vcs-ref",
        "HEAD",
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"render failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-checkov", action="store_true")
    ap.add_argument("--repo", type=Path, help="an already rendered repo")
    args = ap.parse_args()
    skip = () if args.with_checkov else ("checkov",)
    with tempfile.TemporaryDirectory() as tmp:
        repo = args.repo or Path(tmp) / "full"
        if args.repo is None:
            render(repo)
        times = []
        report = None
        for i in range(args.repeat):
            start = time.monotonic()
            report = validate_repo(repo, skip)
            times.append(time.monotonic() - start)
            roots = ", ".join(f"{r.root.split('/')[-1]} {r.seconds:.1f}s" for r in report.roots)
            print(f"run {i + 1}: {times[-1]:.2f}s ({roots})")
        assert report is not None
        best = min(times)
        print(f"best {best:.2f}s, target {TARGET_S:.0f}s (skipped: {', '.join(skip) or '-'})")
        if not report.ok:
            print(format_report(report))
            print("validation FAILED (the time above is still meaningful)")
            return 1
        return 0 if best <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
