from __future__ import annotations

import pytest

from pipelines import sql


def test_training_query_fields_and_features():
    custom = sql.training_query(lag_features=True)
    automl = sql.training_query(lag_features=False)
    assert sql.fields(custom) == sql.fields(automl) == {"train_table", "source"}
    for feature in sql.LAG_FEATURES:
        assert f"AS {feature}" in custom
        assert feature not in automl
    assert "RANGE BETWEEN 13 PRECEDING AND 7 PRECEDING" in custom
    assert f"WHERE lag_{sql.LAGS[-1]} IS NOT NULL" in custom


def test_forecast_query_custom_has_features_no_history():
    q = sql.forecast_input_query(7, lag_features=True)
    assert sql.fields(q) == {"forecast_table", "source"}
    for feature in sql.CUSTOM_FEATURES:
        assert feature in q
    assert "UNION ALL" not in q
    assert "INTERVAL 7 DAY))) AS d" in q


def test_forecast_query_automl_includes_context_window():
    q = sql.forecast_input_query(28, lag_features=False, context_days=56)
    assert "UNION ALL" in q and "INTERVAL 56 DAY" in q
    assert "lag_7" not in q
    assert "UNION ALL" not in sql.forecast_input_query(28, lag_features=False)


@pytest.mark.parametrize("horizon", [0, -3, 8])
def test_custom_horizon_is_limited_by_the_shortest_lag(horizon):
    with pytest.raises(sql.SqlError):
        sql.forecast_input_query(horizon, lag_features=True)


def test_automl_horizon_may_exceed_lags():
    assert sql.check_horizon(30, lag_features=False) == 30


def test_snapshot_query_fields():
    assert sql.fields(sql.snapshot_query()) == {"snapshot", "table", "timestamp",
                                                 "expiration_days"}
    rendered = sql.snapshot_query().format(snapshot="p.d.s", table="p.d.t",
                                           timestamp="2024-01-01 00:00:00+00", expiration_days=7)
    assert "CLONE `p.d.t` FOR SYSTEM_TIME AS OF TIMESTAMP '2024-01-01 00:00:00+00'" in rendered


@pytest.mark.parametrize(
    ("text", "expected"),
    [("inventory-forecast-20240101", "inventory_forecast_20240101"),
     ("a:b//c", "a_b_c"), ("__x__", "x")],
)
def test_table_id(text, expected):
    assert sql.table_id(text) == expected


def test_table_id_rejects_empty():
    with pytest.raises(sql.SqlError):
        sql.table_id("---")


def test_backtest_input_hides_the_last_horizon_after_its_context():
    q = sql.backtest_input_query(7, context_days=28)
    assert sql.fields(q) == {"backtest_table", "source"}
    assert "INTERVAL 7 DAY), CAST(NULL AS FLOAT64), h.units_sold) AS units_sold" in q
    assert "INTERVAL 35 DAY)" in q  # context + horizon
    with pytest.raises(sql.SqlError, match="context_days"):
        sql.backtest_input_query(7, context_days=0)


def test_backtest_metrics_score_the_same_window_with_the_trainers_metrics():
    q = sql.backtest_metrics_query(7)
    assert sql.fields(q) == {"predictions", "actuals"}
    for metric in ("r_squared", "rmse", "mae", "mape", "test_rows"):
        assert f"AS {metric}" in q
    assert "predicted_units_sold.value" in q and "INTERVAL 7 DAY)" in q
    assert "IF(actual != 0" in q  # mape over non-zero actuals, as regression_metrics
