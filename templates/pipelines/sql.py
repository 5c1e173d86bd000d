"""BigQuery SQL for extract + preprocess, built at compile time (pure, unit-tested).

The queries are templates with three `str.format` fields filled in by the
`prepare_training_data` component at run time, once it knows the run's table names:
`{source}` (the run's snapshot of the source table), `{train_table}`, `{forecast_table}`.

Source table schema (one row per item and day), in the training dataset:
    date DATE, item_id STRING, units_sold NUMERIC/FLOAT64, price NUMERIC/FLOAT64, on_promotion BOOL
"""

from __future__ import annotations

import re

SOURCE_TABLE = "sales"  # the table in the training dataset the pipeline reads
TIME_COLUMN = "date"
SERIES_COLUMN = "item_id"
TARGET_COLUMN = "units_sold"
KNOWN_COLUMNS = ("price", "on_promotion", "day_of_week")
LAGS = (7, 14)
MEAN_WINDOW = (7, 13)  # mean of the days t-13 .. t-7: known for every day of a <= 7-day horizon
LAG_FEATURES = (*(f"lag_{lag}" for lag in LAGS), "mean_7_lag_7")
CUSTOM_FEATURES = (*KNOWN_COLUMNS, *LAG_FEATURES)
MAX_CUSTOM_HORIZON = min(LAGS[0], MEAN_WINDOW[0])

_TABLE_ID = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
_FIELDS = re.compile(r"\{(\w+)\}")


class SqlError(ValueError):
    """A parameter would produce an invalid or unsafe query."""


def check_horizon(horizon: int, *, lag_features: bool) -> int:
    if not isinstance(horizon, int) or horizon < 1:
        raise SqlError(f"forecast horizon must be a positive number of days, got {horizon!r}")
    if lag_features and horizon > MAX_CUSTOM_HORIZON:
        raise SqlError(
            f"forecast horizon {horizon} exceeds {MAX_CUSTOM_HORIZON} days: the custom model's "
            f"lag features (lags {LAGS}) would be unknown; add longer lags or use AutoML"
        )
    return horizon


def table_id(text: str, prefix: str = "") -> str:
    """A BigQuery table id from free text (run names contain '-', ':' ...)."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", f"{prefix}{text}").strip("_")
    cleaned = re.sub(r"_+", "_", cleaned)
    if not cleaned or not _TABLE_ID.match(cleaned):
        raise SqlError(f"cannot derive a table id from {text!r}")
    return cleaned[:1024]


def fields(template: str) -> set[str]:
    """The str.format fields a query template expects."""
    return set(_FIELDS.findall(template))


def _base_columns() -> str:
    return (
        f"{TIME_COLUMN}, {SERIES_COLUMN}, CAST({TARGET_COLUMN} AS FLOAT64) AS {TARGET_COLUMN}, "
        "CAST(price AS FLOAT64) AS price, CAST(on_promotion AS INT64) AS on_promotion, "
        f"EXTRACT(DAYOFWEEK FROM {TIME_COLUMN}) AS day_of_week"
    )


def training_query(*, lag_features: bool) -> str:
    """CREATE the run's training table from its snapshot.

    With `lag_features` (custom model) rows get lag/rolling features and the first 14 days
    of each series, which lack them, are dropped. AutoML builds its own lags: base columns only.
    """
    if not lag_features:
        return (
            "CREATE OR REPLACE TABLE `{train_table}` AS\n"
            f"SELECT {_base_columns()}\n"
            "FROM `{source}`\n"
            f"WHERE {TARGET_COLUMN} IS NOT NULL"
        )
    lags = ",\n    ".join(
        f"LAG(CAST({TARGET_COLUMN} AS FLOAT64), {lag}) OVER w AS lag_{lag}" for lag in LAGS
    )
    low, high = MEAN_WINDOW
    return (
        "CREATE OR REPLACE TABLE `{train_table}` AS\n"
        "SELECT * FROM (\n"
        f"  SELECT {_base_columns()},\n"
        f"    {lags},\n"
        f"    AVG(CAST({TARGET_COLUMN} AS FLOAT64)) OVER (PARTITION BY {SERIES_COLUMN} "
        f"ORDER BY UNIX_DATE({TIME_COLUMN}) RANGE BETWEEN {high} PRECEDING AND {low} PRECEDING) "
        "AS mean_7_lag_7\n"
        "  FROM `{source}`\n"
        f"  WHERE {TARGET_COLUMN} IS NOT NULL\n"
        f"  WINDOW w AS (PARTITION BY {SERIES_COLUMN} ORDER BY {TIME_COLUMN})\n"
        ")\n"
        f"WHERE lag_{LAGS[-1]} IS NOT NULL"
    )


def forecast_input_query(horizon: int, *, lag_features: bool, context_days: int = 0) -> str:
    """CREATE the batch-prediction input: one row per item and future day (target NULL).

    Future price = the item's last known price; no promotion planned. With `context_days` > 0
    (AutoML) the last `context_days` days of history are included, as AutoML forecasting
    needs the context window in the same table.
    """
    check_horizon(horizon, lag_features=lag_features)
    if context_days < 0:
        raise SqlError(f"context_days must be >= 0, got {context_days}")
    future = (
        "history AS (\n"
        f"  SELECT {_base_columns()} FROM `{{source}}` WHERE {TARGET_COLUMN} IS NOT NULL\n"
        "),\n"
        "last_seen AS (\n"
        f"  SELECT {SERIES_COLUMN}, MAX({TIME_COLUMN}) AS last_date,\n"
        f"    ARRAY_AGG(price ORDER BY {TIME_COLUMN} DESC LIMIT 1)[OFFSET(0)] AS last_price\n"
        f"  FROM history GROUP BY {SERIES_COLUMN}\n"
        "),\n"
        "future AS (\n"
        f"  SELECT d AS {TIME_COLUMN}, l.{SERIES_COLUMN},\n"
        f"    CAST(NULL AS FLOAT64) AS {TARGET_COLUMN},\n"
        "    l.last_price AS price, 0 AS on_promotion, EXTRACT(DAYOFWEEK FROM d) AS day_of_week\n"
        "  FROM last_seen AS l, UNNEST(GENERATE_DATE_ARRAY(DATE_ADD(l.last_date, INTERVAL 1 DAY),\n"
        f"    DATE_ADD(l.last_date, INTERVAL {horizon} DAY))) AS d\n"
        ")"
    )
    if not lag_features:
        parts = ["SELECT * FROM future"]
        if context_days:
            parts.append(
                "SELECT h.* FROM history AS h JOIN last_seen AS l USING "
                f"({SERIES_COLUMN})\n  WHERE h.{TIME_COLUMN} > DATE_SUB(l.last_date, "
                f"INTERVAL {context_days} DAY)"
            )
        body = "\nUNION ALL\n".join(parts)
        return "CREATE OR REPLACE TABLE `{forecast_table}` AS\n" f"WITH {future}\n{body}"
    low, high = MEAN_WINDOW
    joins = "\n".join(
        f"LEFT JOIN history AS h{lag} ON h{lag}.{SERIES_COLUMN} = f.{SERIES_COLUMN} "
        f"AND h{lag}.{TIME_COLUMN} = DATE_SUB(f.{TIME_COLUMN}, INTERVAL {lag} DAY)"
        for lag in LAGS
    )
    lag_cols = ", ".join(f"h{lag}.{TARGET_COLUMN} AS lag_{lag}" for lag in LAGS)
    return (
        "CREATE OR REPLACE TABLE `{forecast_table}` AS\n"
        f"WITH {future},\n"
        "means AS (\n"
        f"  SELECT f.{SERIES_COLUMN}, f.{TIME_COLUMN}, AVG(h.{TARGET_COLUMN}) AS mean_7_lag_7\n"
        "  FROM future AS f JOIN history AS h\n"
        f"    ON h.{SERIES_COLUMN} = f.{SERIES_COLUMN} AND h.{TIME_COLUMN} BETWEEN "
        f"DATE_SUB(f.{TIME_COLUMN}, INTERVAL {high} DAY) AND "
        f"DATE_SUB(f.{TIME_COLUMN}, INTERVAL {low} DAY)\n"
        f"  GROUP BY f.{SERIES_COLUMN}, f.{TIME_COLUMN}\n"
        ")\n"
        f"SELECT f.*, {lag_cols}, m.mean_7_lag_7\n"
        "FROM future AS f\n"
        f"{joins}\n"
        f"LEFT JOIN means AS m ON m.{SERIES_COLUMN} = f.{SERIES_COLUMN} "
        f"AND m.{TIME_COLUMN} = f.{TIME_COLUMN}"
    )


def snapshot_query() -> str:
    """Freeze the source table as of the run's snapshot time (a zero-copy BigQuery snapshot):
    the run's data can be re-read exactly, later, from `{snapshot}`. Fields: {snapshot},
    {table}, {timestamp} (RFC 3339, within BigQuery's time-travel window), {expiration_days}."""
    return (
        "CREATE SNAPSHOT TABLE IF NOT EXISTS `{snapshot}`\n"
        "CLONE `{table}` FOR SYSTEM_TIME AS OF TIMESTAMP '{timestamp}'\n"
        "OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), "
        "INTERVAL {expiration_days} DAY))"
    )


def backtest_input_query(horizon: int, *, context_days: int) -> str:
    """CREATE the champion/challenger backtest input (AutoML): the run's last `horizon` days of
    each series with the target hidden (NULL), after `context_days` days of history, as the
    forecast input would look on the day before that window. Fields: {source},
    {backtest_table}. Both models forecast it; `backtest_metrics_query` scores them."""
    check_horizon(horizon, lag_features=False)
    if context_days < 1:
        raise SqlError(f"context_days must be >= 1, got {context_days}")
    return (
        "CREATE OR REPLACE TABLE `{backtest_table}` AS\n"
        "WITH history AS (\n"
        f"  SELECT {_base_columns()} FROM `{{source}}` WHERE {TARGET_COLUMN} IS NOT NULL\n"
        "),\n"
        "last_seen AS (\n"
        f"  SELECT {SERIES_COLUMN}, MAX({TIME_COLUMN}) AS last_date FROM history "
        f"GROUP BY {SERIES_COLUMN}\n"
        ")\n"
        f"SELECT h.{TIME_COLUMN}, h.{SERIES_COLUMN},\n"
        f"  IF(h.{TIME_COLUMN} > DATE_SUB(l.last_date, INTERVAL {horizon} DAY), "
        f"CAST(NULL AS FLOAT64), h.{TARGET_COLUMN}) AS {TARGET_COLUMN},\n"
        "  h.price, h.on_promotion, h.day_of_week\n"
        f"FROM history AS h JOIN last_seen AS l USING ({SERIES_COLUMN})\n"
        f"WHERE h.{TIME_COLUMN} > DATE_SUB(l.last_date, INTERVAL {horizon + context_days} DAY)"
    )


def backtest_metrics_query(horizon: int) -> str:
    """Score one model's backtest forecast (a batch prediction output table) against the
    actuals of the same window, with the trainer's metrics (pipelines/trainer/model.py
    regression_metrics: mape over non-zero actuals). Fields: {predictions}, {actuals} (the
    run's training table). One row: r_squared, rmse, mae, mape, test_rows."""
    check_horizon(horizon, lag_features=False)
    return (
        "WITH window_end AS (\n"
        f"  SELECT {SERIES_COLUMN}, MAX({TIME_COLUMN}) AS last_date FROM `{{actuals}}` "
        f"GROUP BY {SERIES_COLUMN}\n"
        "),\n"
        "pairs AS (\n"
        f"  SELECT a.{TARGET_COLUMN} AS actual, "
        f"CAST(p.predicted_{TARGET_COLUMN}.value AS FLOAT64) AS predicted\n"
        "  FROM `{predictions}` AS p\n"
        f"  JOIN `{{actuals}}` AS a USING ({SERIES_COLUMN}, {TIME_COLUMN})\n"
        f"  JOIN window_end AS w USING ({SERIES_COLUMN})\n"
        f"  WHERE a.{TIME_COLUMN} > DATE_SUB(w.last_date, INTERVAL {horizon} DAY)\n"
        ")\n"
        "SELECT\n"
        "  IFNULL(1 - SUM(POW(actual - predicted, 2)) / "
        "NULLIF(SUM(POW(actual - mean_actual, 2)), 0), 0) AS r_squared,\n"
        "  SQRT(AVG(POW(actual - predicted, 2))) AS rmse,\n"
        "  AVG(ABS(actual - predicted)) AS mae,\n"
        "  IFNULL(AVG(IF(actual != 0, ABS((actual - predicted) / actual), NULL)), 0) AS mape,\n"
        "  COUNT(*) AS test_rows\n"
        "FROM (SELECT *, AVG(actual) OVER () AS mean_actual FROM pairs)"
    )
