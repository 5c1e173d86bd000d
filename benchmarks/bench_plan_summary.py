"""Benchmark: plan summary + policy gate over a generated 10,000-resource plan JSON.

Target (issue 5): <= 1 s for parsing the `terraform show -json` document, summarising it and
running the gate. Run: `python benchmarks/bench_plan_summary.py [--resources N] [--repeat R]`.
Prints the best wall time of R runs; exits 1 when it is over the target.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator import plan_policy, plan_summary

TARGET_S = 1.0
TYPES = (
    "google_storage_bucket",
    "google_bigquery_table",
    "google_pubsub_topic",
    "google_service_account",
    "google_project_iam_member",
    "google_storage_bucket_iam_member",
    "google_project_iam_policy",
    "google_vertex_ai_endpoint",
    "google_kms_crypto_key",
    "google_artifact_registry_repository",
)
ACTIONS = (["create"], ["update"], ["no-op"], ["delete", "create"], ["delete"], ["create"])


def _values(rtype: str, i: int) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": f"acme-dev-{rtype[7:]}-{i}",
        "project": "acme-dev-x1",
        "labels": {"client": "acme", "environment": "dev", "managed-by": "mlopsgen"},
        "location": "europe-west4",
        "description": "x" * 120,
    }
    if rtype.endswith("_iam_member"):
        base.update(role="roles/storage.objectViewer", member=f"serviceAccount:sa{i}@x.com")
    if rtype.endswith("_iam_policy"):
        base["policy_data"] = json.dumps({"bindings": [
            {"role": "roles/aiplatform.user", "members": [f"group:g{i}@x.com"]},
            {"role": "roles/bigquery.dataViewer", "members": [f"user:u{i}@x.com"]},
        ]})
    return base


def generate_plan(n: int) -> dict[str, Any]:
    changes = []
    for i in range(n):
        rtype = TYPES[i % len(TYPES)]
        actions = ACTIONS[(i // len(TYPES)) % len(ACTIONS)]
        values = _values(rtype, i)
        changes.append({
            "address": f'module.platform.{rtype}.r["{i}"]',
            "module_address": "module.platform",
            "mode": "managed",
            "type": rtype,
            "name": "r",
            "index": str(i),
            "provider_name": "registry.terraform.io/hashicorp/google",
            "change": {
                "actions": actions,
                "before": None if actions == ["create"] else values,
                "after": None if actions == ["delete"] else values,
                "after_unknown": {"id": True} if actions != ["delete"] else {},
                "before_sensitive": {},
                "after_sensitive": {},
            },
        })
    return {"format_version": "1.2", "terraform_version": "1.11.4",
            "resource_changes": changes, "output_changes": {}}


def run_once(text: str) -> tuple[float, plan_summary.PlanSummary, plan_policy.PolicyResult]:
    started = time.perf_counter()
    plan = json.loads(text)
    summary = plan_summary.summarize(plan)
    policy = plan_policy.evaluate(plan, allow_destroy=['google_storage_bucket.r["0"]'],
                                  state_bucket="acme-tfstate-x1")
    plan_summary.render_table(summary)
    plan_policy.render(policy)
    return time.perf_counter() - started, summary, policy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    text = json.dumps(generate_plan(args.resources))
    times = []
    summary = policy = None
    for _ in range(args.repeat):
        elapsed, summary, policy = run_once(text)
        times.append(elapsed)
    assert summary is not None and policy is not None
    best = min(times)
    print(f"plan JSON: {args.resources} resources, {len(text) / 1e6:.1f} MB")
    print(f"totals: {summary.totals}; gate violations: {len(policy.violations)}")
    print(f"summary + policy gate: best {best:.3f}s of {args.repeat} (target <= {TARGET_S:.1f}s)")
    return 0 if best <= TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
