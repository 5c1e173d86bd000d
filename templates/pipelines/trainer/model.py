"""Features, training and metrics of the custom demand-forecasting model.

The same feature definitions as `pipelines/sql.py` (BigQuery side), in pandas, so the notebook's
local mode, the unit tests and the training container agree. Pure functions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor

from pipelines.sql import (
    CUSTOM_FEATURES,
    LAGS,
    MEAN_WINDOW,
    SERIES_COLUMN,
    TARGET_COLUMN,
    TIME_COLUMN,
)


@dataclass(frozen=True)
class TrainParams:
    n_estimators: int = 200
    learning_rate: float = 0.05
    max_depth: int = 3
    holdout_days: int = 14
    random_state: int = 7

    def __post_init__(self) -> None:
        if self.n_estimators < 1 or self.max_depth < 1 or self.holdout_days < 1:
            raise ValueError(f"n_estimators, max_depth and holdout_days must be >= 1: {self}")
        if not 0 < self.learning_rate <= 1:
            raise ValueError(f"learning_rate must be in (0, 1], got {self.learning_rate}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TrainParams:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        types = {"n_estimators": int, "max_depth": int, "holdout_days": int, "random_state": int,
                 "learning_rate": float}
        return cls(**{k: types[k](v) for k, v in known.items()})


def synthetic_sales(n_items: int = 5, n_days: int = 120, seed: int = 0,
                    start: str = "2024-01-01") -> pd.DataFrame:
    """A small, deterministic sales history in the source-table schema (for local runs/tests):
    weekly seasonality, a per-item level, price elasticity, promotion uplift and noise."""
    if n_items < 1 or n_days < 30:
        raise ValueError("need at least 1 item and 30 days of history")
    rng = np.random.default_rng(seed)
    dates = pd.date_range(start, periods=n_days, freq="D")
    frames = []
    for i in range(n_items):
        level = rng.uniform(20, 80)
        price = np.round(rng.uniform(2, 10) * (1 + 0.05 * rng.standard_normal(n_days)), 2)
        promo = rng.random(n_days) < 0.1
        weekly = 1 + 0.3 * np.sin(2 * np.pi * dates.dayofweek.to_numpy() / 7)
        units = level * weekly * (1 + 0.5 * promo) * (price.mean() / price) ** 0.8
        units = np.maximum(0, units + rng.normal(0, level * 0.05, n_days)).round()
        frames.append(pd.DataFrame({
            TIME_COLUMN: dates.date, SERIES_COLUMN: f"item-{i:03d}",
            TARGET_COLUMN: units, "price": price, "on_promotion": promo,
        }))
    return pd.concat(frames, ignore_index=True)


def add_features(sales: pd.DataFrame) -> pd.DataFrame:
    """Rows with complete features (mirrors sql.training_query(lag_features=True))."""
    missing = {TIME_COLUMN, SERIES_COLUMN, TARGET_COLUMN, "price", "on_promotion"} - set(sales)
    if missing:
        raise ValueError(f"sales data lacks columns {sorted(missing)}")
    df = sales.copy()
    df[TIME_COLUMN] = pd.to_datetime(df[TIME_COLUMN])
    df = df.dropna(subset=[TARGET_COLUMN]).sort_values([SERIES_COLUMN, TIME_COLUMN])
    df[TARGET_COLUMN] = df[TARGET_COLUMN].astype(float)
    df["price"] = df["price"].astype(float)
    df["on_promotion"] = df["on_promotion"].astype(int)
    # BigQuery's DAYOFWEEK: Sunday = 1 .. Saturday = 7
    df["day_of_week"] = (df[TIME_COLUMN].dt.dayofweek + 1) % 7 + 1
    grouped = df.groupby(SERIES_COLUMN)[TARGET_COLUMN]
    for lag in LAGS:
        df[f"lag_{lag}"] = grouped.shift(lag)
    low, high = MEAN_WINDOW
    df["mean_7_lag_7"] = grouped.transform(
        lambda s: s.shift(low).rolling(high - low + 1, min_periods=1).mean()
    )
    return df.dropna(subset=[f"lag_{LAGS[-1]}"]).reset_index(drop=True)


def split_by_time(features: pd.DataFrame, holdout_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on everything before the last `holdout_days` days, evaluate on those days."""
    cutoff = features[TIME_COLUMN].max() - pd.Timedelta(days=holdout_days)
    train = features[features[TIME_COLUMN] <= cutoff]
    test = features[features[TIME_COLUMN] > cutoff]
    if train.empty or test.empty:
        raise ValueError(
            f"holdout of {holdout_days} days leaves an empty train or test set "
            f"({len(train)} / {len(test)} rows); use more history or a shorter holdout"
        )
    return train, test


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """r_squared, rmse, mae and mape (over non-zero actuals) of a forecast."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.size == 0:
        raise ValueError(f"need equally long, non-empty arrays, got {t.shape} and {p.shape}")
    err = t - p
    ss_res = float(np.sum(err**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    nonzero = t != 0
    return {
        "r_squared": 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0,
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "mape": float(np.mean(np.abs(err[nonzero] / t[nonzero]))) if nonzero.any() else 0.0,
    }


def fit(features: pd.DataFrame, params: TrainParams) -> GradientBoostingRegressor:
    model = GradientBoostingRegressor(
        n_estimators=params.n_estimators, learning_rate=params.learning_rate,
        max_depth=params.max_depth, random_state=params.random_state,
    )
    model.fit(features[list(CUSTOM_FEATURES)].to_numpy(dtype=float),
              features[TARGET_COLUMN].to_numpy(dtype=float))
    return model


def score(model: Any, test: pd.DataFrame) -> dict[str, float]:
    """Holdout metrics of any fitted model with `predict` (the candidate or the champion)."""
    predicted = model.predict(test[list(CUSTOM_FEATURES)].to_numpy(dtype=float))
    return regression_metrics(test[TARGET_COLUMN], predicted)


def train_and_evaluate(
    sales: pd.DataFrame, params: TrainParams
) -> tuple[GradientBoostingRegressor, dict[str, float]]:
    """Fit on the history minus the holdout, score the holdout, refit on everything."""
    features = add_features(sales)
    train, test = split_by_time(features, params.holdout_days)
    metrics = score(fit(train, params), test)
    metrics["train_rows"] = float(len(train))
    metrics["test_rows"] = float(len(test))
    return fit(features, params), metrics


def champion_metrics(champion: Any, sales: pd.DataFrame, params: TrainParams) -> dict[str, float]:
    """The champion (the model serving now) scored on exactly the holdout rows and with the
    metrics `train_and_evaluate` scores the new model on: what the gate compares."""
    _, test = split_by_time(add_features(sales), params.holdout_days)
    return {**score(champion, test), "test_rows": float(len(test))}


def passes(metrics: Mapping[str, float], min_r_squared: float) -> bool:
    """The evaluation gate: is the model good enough to register and use?"""
    value = metrics.get("r_squared")
    if value is None:
        raise ValueError(f"metrics lack r_squared: {sorted(metrics)}")
    return float(value) >= min_r_squared
