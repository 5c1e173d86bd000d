"""mlopsgen: render, check and operate Google Cloud MLOps client repos."""

__version__ = "0.2.0"
