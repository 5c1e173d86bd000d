"""Fixtures for the CI script tests: the scripts' directory on sys.path and a local fake of the
GitHub, Cloud Storage and Vertex AI REST APIs (http.server on 127.0.0.1)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cicd_fakeapi import FakeApi  # noqa: E402


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    fake = FakeApi()
    fake.start()
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("STORAGE_API_URL", fake.url)
    monkeypatch.setenv("VERTEX_API_URL", fake.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "test-gcp-token")
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def scripts_dir() -> Path:
    return SCRIPTS
