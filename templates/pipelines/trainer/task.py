"""Entry point of the custom training container (`python -m pipelines.trainer.task`).

Reads the run's training table from BigQuery, trains, writes `model.joblib` (the layout Vertex
AI's prebuilt scikit-learn serving container loads) and the holdout metrics. With
`--champion-model-uri` (the registry's champion, gs://.../ read through GCS FUSE at /gcs/), the
champion is scored on the same holdout rows with the same metrics (the gate compares the two).
All locations are arguments supplied by the pipeline; nothing here names a resource.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import joblib
import pandas as pd

from pipelines.trainer.model import TrainParams, champion_metrics, train_and_evaluate


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--project", required=True)
    p.add_argument("--train-table", required=True, help="project.dataset.table")
    p.add_argument("--params", default="{}", help="JSON object of TrainParams fields")
    p.add_argument("--model-dir", required=True, help="local (GCS FUSE) path of the Model artifact")
    p.add_argument("--model-uri", required=True, help="gs:// URI of the same artifact")
    p.add_argument("--model-uri-output", required=True, help="file to write the model URI to")
    p.add_argument("--metrics-output", required=True, help="file to write the metrics JSON to")
    p.add_argument("--champion-model-uri", default="",
                   help="gs:// directory of the champion's model.joblib ('' = no champion yet)")
    p.add_argument("--champion-metrics-output", default="",
                   help="file to write the champion's holdout metrics JSON to ({} without one)")
    return p.parse_args(argv)


def fuse_path(uri: str) -> str:
    """The GCS FUSE path Vertex AI custom jobs mount a gs:// URI at (local paths unchanged)."""
    return "/gcs/" + uri.removeprefix("gs://") if uri.startswith("gs://") else uri


def load_champion(uri: str) -> Any:
    """The champion's model from its artifact directory, or None without one."""
    if not uri:
        return None
    return joblib.load(os.path.join(fuse_path(uri), "model.joblib"))


def train_and_write(sales: pd.DataFrame, params: TrainParams, *, model_dir: str, model_uri: str,
                    model_uri_output: str, metrics_output: str, champion_uri: str = "",
                    champion_metrics_output: str = "") -> dict[str, float]:
    """Train, save `model.joblib` into `model_dir`, write the URI and metrics files (and the
    champion's metrics on the same holdout)."""
    model, metrics = train_and_evaluate(sales, params)
    champion = load_champion(champion_uri)
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    joblib.dump(model, os.path.join(model_dir, "model.joblib"))
    outputs = [(model_uri_output, model_uri),
               (metrics_output, json.dumps({**metrics, **params.as_dict()}))]
    if champion_metrics_output:
        scored = champion_metrics(champion, sales, params) if champion is not None else {}
        outputs.append((champion_metrics_output, json.dumps(scored)))
    for path, text in outputs:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    return metrics


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    from google.cloud import bigquery  # only in the container; tests use train_and_write

    params = TrainParams.from_mapping(json.loads(args.params))
    table = args.train_table.removeprefix("bq://")
    client = bigquery.Client(project=args.project)
    sales = client.query(f"SELECT * FROM `{table}`").to_dataframe()
    metrics = train_and_write(sales, params, model_dir=args.model_dir, model_uri=args.model_uri,
                              model_uri_output=args.model_uri_output,
                              metrics_output=args.metrics_output,
                              champion_uri=args.champion_model_uri,
                              champion_metrics_output=args.champion_metrics_output)
    print(json.dumps({"train_table": table, "metrics": metrics}))


if __name__ == "__main__":
    main()
