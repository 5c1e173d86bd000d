from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines.sql import CUSTOM_FEATURES, TARGET_COLUMN
from pipelines.trainer import model


def test_synthetic_sales_is_deterministic_and_in_source_schema():
    a = model.synthetic_sales(n_items=3, n_days=60, seed=4)
    b = model.synthetic_sales(n_items=3, n_days=60, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["date", "item_id", "units_sold", "price", "on_promotion"]
    assert len(a) == 180 and (a[TARGET_COLUMN] >= 0).all()
    assert not a.equals(model.synthetic_sales(n_items=3, n_days=60, seed=5))


def test_add_features_matches_the_sql_definitions():
    sales = pd.DataFrame({
        "date": pd.date_range("2024-01-07", periods=20, freq="D").date,  # 2024-01-07 is a Sunday
        "item_id": "a",
        "units_sold": [float(i) for i in range(20)],
        "price": 1.0,
        "on_promotion": False,
    })
    f = model.add_features(sales)
    assert len(f) == 20 - 14  # the first 14 days lack lag_14
    first = f.iloc[0]  # day index 14
    assert first["lag_7"] == 7 and first["lag_14"] == 0
    assert first["mean_7_lag_7"] == pytest.approx(sum(range(1, 8)) / 7)  # days 1..7
    assert first["day_of_week"] == 1  # BigQuery DAYOFWEEK: Sunday = 1
    assert set(CUSTOM_FEATURES) <= set(f.columns)


def test_add_features_names_missing_columns():
    with pytest.raises(ValueError, match="price"):
        model.add_features(pd.DataFrame({"date": [], "item_id": [], "units_sold": [],
                                         "on_promotion": []}))


def test_regression_metrics():
    perfect = model.regression_metrics([1, 2, 3], [1, 2, 3])
    assert perfect == {"r_squared": 1.0, "rmse": 0.0, "mae": 0.0, "mape": 0.0}
    m = model.regression_metrics([2, 4], [1, 5])
    assert m["rmse"] == 1.0 and m["mae"] == 1.0 and m["mape"] == pytest.approx(0.375)
    assert m["r_squared"] == 0.0  # no better than the mean
    half = model.regression_metrics([1, 2, 3], [1, 2, 4])
    assert half["r_squared"] == pytest.approx(0.5) and half["mape"] == pytest.approx(1 / 9)
    with pytest.raises(ValueError):
        model.regression_metrics([], [])


def test_train_and_evaluate_learns_the_synthetic_signal():
    sales = model.synthetic_sales(n_items=4, n_days=90, seed=1)
    params = model.TrainParams(n_estimators=50)
    fitted, metrics = model.train_and_evaluate(sales, params)
    assert metrics["r_squared"] > 0.5
    assert metrics["test_rows"] == 4 * 14
    assert model.passes(metrics, 0.5) and not model.passes(metrics, 1.01)
    assert fitted.n_features_in_ == len(CUSTOM_FEATURES)


def test_holdout_longer_than_history_is_refused():
    sales = model.synthetic_sales(n_items=1, n_days=30, seed=0)
    with pytest.raises(ValueError, match="empty train or test"):
        model.train_and_evaluate(sales, model.TrainParams(holdout_days=30))


def test_train_params_validation_and_round_trip():
    with pytest.raises(ValueError):
        model.TrainParams(learning_rate=0)
    p = model.TrainParams.from_mapping({"n_estimators": "10", "unknown": 1})
    assert p.n_estimators == 10 and model.TrainParams.from_mapping(p.as_dict()) == p


def test_training_container_writes_what_the_pipeline_reads(tmp_path):
    import joblib

    from pipelines.trainer import task

    args = task._parse(["--project", "p", "--train-table", "p.d.t", "--params",
                        '{"n_estimators": 20}', "--model-dir", str(tmp_path / "model"),
                        "--model-uri", "gs://bucket/run/model", "--model-uri-output",
                        str(tmp_path / "out" / "uri"), "--metrics-output",
                        str(tmp_path / "out" / "metrics")])
    sales = model.synthetic_sales(n_items=2, n_days=60, seed=3)
    metrics = task.train_and_write(
        sales, model.TrainParams.from_mapping({"n_estimators": 20}), model_dir=args.model_dir,
        model_uri=args.model_uri, model_uri_output=args.model_uri_output,
        metrics_output=args.metrics_output)
    assert (tmp_path / "out" / "uri").read_text() == "gs://bucket/run/model"
    written = json.loads((tmp_path / "out" / "metrics").read_text())
    assert written["r_squared"] == metrics["r_squared"] and written["n_estimators"] == 20
    # the file the prebuilt scikit-learn serving image loads, predicting from the feature order
    loaded = joblib.load(tmp_path / "model" / "model.joblib")
    rows = model.add_features(sales)[list(CUSTOM_FEATURES)].to_numpy(dtype=float)
    assert loaded.predict(rows[:3]).shape == (3,)


def test_the_champion_is_scored_on_the_new_models_holdout(tmp_path):
    """A champion from an earlier run is loaded from its artifact directory and scored on the
    same holdout rows with the same metrics as the new model (what the gate compares)."""
    from pipelines.trainer import task

    params = model.TrainParams.from_mapping({"n_estimators": 20})
    old_sales = model.synthetic_sales(n_items=2, n_days=60, seed=3)
    task.train_and_write(old_sales, params, model_dir=str(tmp_path / "champion"),
                         model_uri="gs://b/old", model_uri_output=str(tmp_path / "u0"),
                         metrics_output=str(tmp_path / "m0"))
    sales = model.synthetic_sales(n_items=2, n_days=80, seed=4)
    metrics = task.train_and_write(
        sales, params, model_dir=str(tmp_path / "new"), model_uri="gs://b/new",
        model_uri_output=str(tmp_path / "u1"), metrics_output=str(tmp_path / "m1"),
        champion_uri=str(tmp_path / "champion"),
        champion_metrics_output=str(tmp_path / "out" / "champion"))
    champion = json.loads((tmp_path / "out" / "champion").read_text())
    assert set(champion) == {"r_squared", "rmse", "mae", "mape", "test_rows"}
    assert champion["test_rows"] == metrics["test_rows"]
    assert champion != {k: metrics[k] for k in champion}
    # no champion yet: an empty record, the gate then judges the new model alone
    task.train_and_write(sales, params, model_dir=str(tmp_path / "n2"), model_uri="gs://b/n2",
                         model_uri_output=str(tmp_path / "u2"), metrics_output=str(tmp_path / "m2"),
                         champion_metrics_output=str(tmp_path / "none"))
    assert json.loads((tmp_path / "none").read_text()) == {}
    assert task.fuse_path("gs://bucket/runs/x") == "/gcs/bucket/runs/x"
    assert task.fuse_path("/local/dir") == "/local/dir"
