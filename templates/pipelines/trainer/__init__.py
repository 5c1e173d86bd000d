"""The custom forecasting model: features, training and metrics (pure, shared by the pipeline's
training container, the experiment notebook and the unit tests)."""
