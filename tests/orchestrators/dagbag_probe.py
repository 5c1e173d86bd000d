"""Run by an interpreter that has Airflow: load a DAG folder with Airflow's own DagBag and print
its structure as JSON (import errors, schedules, tasks, dependencies, rendered template fields).

    python dagbag_probe.py DAG_FOLDER DS

DS (YYYY-MM-DD) is the logical date used to render the templated fields.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

MARKER = "DAGBAG-JSON:"
FIELDS = ("project_id", "region", "display_name", "template_path", "pipeline_root",
          "parameter_values", "labels", "service_account", "experiment", "enable_caching",
          "dataset_id", "table_id", "partition_id", "bucket", "prefix", "mode", "soft_fail",
          "timeout", "poke_interval", "gcp_conn_id", "google_cloud_conn_id",
          "encryption_spec_key_name")


def main() -> None:
    folder, ds = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")
    try:
        from airflow.models.dagbag import DagBag
    except ImportError:  # newer Airflow
        from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=folder, include_examples=False)
    nodash = ds.replace("-", "")
    context = {"ds": ds, "ds_nodash": nodash, "ts_nodash": f"{nodash}T000000"}
    dags: dict[str, Any] = {}
    for dag_id, dag in bag.dags.items():
        tasks: dict[str, Any] = {}
        for task in dag.tasks:
            fields: dict[str, Any] = {}
            for name in FIELDS:
                if hasattr(task, name):
                    value = getattr(task, name)
                    if name in task.template_fields:
                        value = task.render_template(value, context)
                    fields[name] = value
            tasks[task.task_id] = {
                "class": type(task).__name__,
                "module": type(task).__module__,
                "upstream": sorted(task.upstream_task_ids),
                "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
                "fields": fields,
            }
        dags[dag_id] = {
            "schedule": dag.timetable.summary,
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tags": sorted(dag.tags),
            "tasks": tasks,
        }
    errors = {str(k): str(v) for k, v in bag.import_errors.items()}
    print(MARKER + json.dumps({"import_errors": errors, "dags": dags}, default=str))


if __name__ == "__main__":
    main()
