"""Upload a compiled template to the environment's KFP Artifact Registry repo and start a run:
`python -m pipelines.submit --env ENV --commit SHA --template build/pipeline.yaml [--dry-run]`.
`--upload-only` publishes the template (tags `commit-<sha>`, `<env>-latest`) without a run: what
an environment's apply build does, so scheduled retraining there finds `<env>-latest`.

The run executes as the pipeline service account, keeps artifacts under
gs://<pipeline_root bucket>/runs/<commit>, carries commit/environment labels, is encrypted with
the environment's Cloud KMS key when `cmek` is on (config `vertex_ai_kms_key`) and is recorded
in the environment's Vertex AI Experiment. `--dry-run` prints the plan and makes no cloud call.
With `--wait --gate-output build/metrics.json`, the champion/challenger gate's record (both
models' holdout metrics and the verdict, pipelines/lifecycle.py champion_gate) is merged into
that file under `gate`: the promotion step reads it (scripts/promote.py).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines import config, sql, tracking


@dataclass(frozen=True)
class SubmitPlan:
    project: str
    location: str
    registry_host: str
    template: str
    template_tags: list[str]
    display_name: str
    job_id: str
    pipeline_root: str
    service_account: str
    experiment: str
    labels: dict[str, str]
    encryption_spec_key_name: str | None = None
    parameter_values: dict[str, Any] = field(default_factory=dict)


def plan(cfg: config.EnvConfig, *, commit: str, template: str, now: datetime.datetime,
         parameters: dict[str, Any] | None = None) -> SubmitPlan:
    """Everything the submission will do, decided without any cloud call (pure)."""
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%d%H%M%S")
    values: dict[str, Any] = {
        "commit": commit, "project": cfg.project_id, "location": cfg.region,
        "environment": cfg.environment, "predictions_dataset": cfg.predictions_dataset,
        "runs_dataset": cfg.runs_dataset,
        "source_table": f"{cfg.project_id}.{cfg.training_dataset}.{sql.SOURCE_TABLE}",
    }
    values.update(parameters or {})
    return SubmitPlan(
        project=cfg.project_id,
        location=cfg.region,
        registry_host=cfg.kfp_repo,
        template=template,
        template_tags=tracking.template_tags(commit, cfg.environment),
        display_name=f"{tracking.PIPELINE_NAME}-{cfg.environment}",
        job_id=tracking.job_id(cfg.environment, commit, stamp),
        pipeline_root=cfg.pipeline_root(commit),
        service_account=cfg.pipeline_service_account,
        experiment=tracking.experiment_name(cfg.environment),
        labels=tracking.run_labels(commit, cfg.environment),
        encryption_spec_key_name=cfg.vertex_ai_kms_key,
        parameter_values=values,
    )


def compiled_environment(spec: Any) -> str | None:
    """The environment a compiled template was built for (its `environment` default)."""
    try:
        params = spec["root"]["inputDefinitions"]["parameters"]
        return str(params["environment"]["defaultValue"])
    except (KeyError, TypeError):
        return None


def check_template(spec: Any, environment: str) -> None:
    """Refuse a template compiled for another environment: its trainer image, service account,
    endpoint and recipients are fixed at compile time."""
    built_for = compiled_environment(spec)
    if built_for is None:
        raise ValueError("the template is not a compiled inventory-forecast pipeline spec")
    if built_for != environment:
        raise ValueError(
            f"the template was compiled for {built_for!r}, not {environment!r}: run "
            f"`python -m pipelines.compile --env {environment} --output <file>` first"
        )


GATE_TASK = "champion-gate"


def gate_record(task_details: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The gate's record from a finished run's task details (PipelineTaskDetail as dicts):
    the metadata of the champion-gate task's `gate` artifact; None if the gate did not run."""
    for task in task_details:
        if task.get("task_name") != GATE_TASK:
            continue
        artifacts = (task.get("outputs") or {}).get("gate", {}).get("artifacts") or []
        if artifacts and artifacts[0].get("metadata"):
            return dict(artifacts[0]["metadata"])
    return None


def merge_gate_record(path: Path, record: dict[str, Any] | None) -> dict[str, Any]:
    """Write `record` under `gate` into the JSON file at `path` (kept or created); a run whose
    gate never decided is recorded as verdict 'none'."""
    data: dict[str, Any] = {}
    if path.is_file():
        loaded = json.loads(path.read_text(encoding="utf-8"))
        data = loaded if isinstance(loaded, dict) else {}
    data["gate"] = record or {"verdict": "none",
                              "reason": f"the run finished without a {GATE_TASK} record"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    return dict(data["gate"])


def upload(p: SubmitPlan) -> tuple[str, str]:
    """Upload the template to the KFP repo with its tags; returns (package, version)."""
    from kfp.registry import RegistryClient

    client = RegistryClient(host=p.registry_host)
    package, version = client.upload_pipeline(
        file_name=p.template, tags=p.template_tags,
        extra_headers={"description": f"{p.display_name} at commit {p.labels['commit']}"},
    )
    return str(package), str(version)


def execute(p: SubmitPlan, *, wait: bool, gate_output: Path | None = None) -> str:
    """Upload the template, create the PipelineJob; returns the job's resource name. Waiting,
    with `gate_output`, records the gate's verdict there."""
    from google.cloud import aiplatform

    package, version = upload(p)
    # the key also encrypts the experiment's metadata store when this call creates it
    aiplatform.init(project=p.project, location=p.location, experiment=p.experiment,
                    encryption_spec_key_name=p.encryption_spec_key_name)
    job = aiplatform.PipelineJob(
        display_name=p.display_name,
        template_path=f"{p.registry_host}/{package}/{version}",
        job_id=p.job_id,
        pipeline_root=p.pipeline_root,
        parameter_values=p.parameter_values,
        labels=p.labels,
        encryption_spec_key_name=p.encryption_spec_key_name,
        enable_caching=False,
        project=p.project,
        location=p.location,
    )
    job.submit(service_account=p.service_account, experiment=p.experiment)
    if wait:
        job.wait()
        if gate_output is not None:
            details = [type(t).to_dict(t) for t in job.task_details]
            gate = merge_gate_record(gate_output, gate_record(details))
            print(f"champion/challenger gate: {gate.get('verdict')}: {gate.get('reason')}")
    return str(job.resource_name)


def _parameters(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"error: --param expects NAME=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.submit", description=__doc__)
    parser.add_argument("--env", required=True)
    parser.add_argument("--commit", required=True, help="the commit the template was built from")
    parser.add_argument("--template", required=True, type=Path)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a pipeline parameter (JSON value or string)")
    parser.add_argument("--wait", action="store_true", help="block until the run finishes")
    parser.add_argument("--gate-output", type=Path,
                        help="with --wait: merge the gate's record into this JSON file")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; no cloud calls")
    parser.add_argument("--upload-only", action="store_true",
                        help="publish the template to the KFP repo; start no run")
    args = parser.parse_args(argv)
    try:
        cfg = config.load(args.env)
        p = plan(cfg, commit=args.commit, template=str(args.template),
                 now=datetime.datetime.now(datetime.UTC), parameters=_parameters(args.param))
    except (config.ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.template.is_file():
        print(f"error: no compiled template at {args.template}; run `python -m pipelines.compile "
              f"--output {args.template} --env {args.env}` first", file=sys.stderr)
        return 2
    try:
        check_template(yaml.safe_load(args.template.read_text(encoding="utf-8")), cfg.environment)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps({"dry_run": True, "upload_only": args.upload_only, **asdict(p)}, indent=2))
        return 0
    if args.upload_only:
        package, version = upload(p)
        print(f"uploaded {p.registry_host}/{package}/{version} tags={','.join(p.template_tags)}")
        return 0
    print(f"submitted {execute(p, wait=args.wait, gate_output=args.gate_output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
