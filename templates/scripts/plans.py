"""The plans bucket of the CI/CD project: where the CI builds keep the plans they make.

Layout (one prefix per environment; every build writes its own objects, once):

    gs://<plans bucket>/<env>/pr/<head commit>/<build id>/     a pull request's plan: made by
        the pull request's own code, shown for review, never applied
    gs://<plans bucket>/<env>/merge/<commit>/<build id>/       the merged tree's plan: made by
        the trusted merge build; the only kind an apply build applies

each holding `tfplan` (the saved plan; absent when the policy gate refused it), `plan.json`
(`terraform show -json`), `summary.json` (mlopsgen's record: summary, gate verdict,
configuration hash, state serial) and `summary.txt` (mlopsgen's table and gate, as printed).
Objects are created with ifGenerationMatch=0, so a plan once written is never replaced.

Cloud Storage is reached with Google's client and Application Default Credentials (the build's
service account); STORAGE_API_URL points it elsewhere (tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PLAN_FILES = ("tfplan", "plan.json", "summary.json", "summary.txt")
KINDS = ("pr", "merge")
_URI = re.compile(r"^gs://([a-z0-9][-a-z0-9_.]{1,61}[a-z0-9])/((?:[^/]+/)+)$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")


class PlansError(RuntimeError):
    pass


def plan_prefix(env: str, kind: str, commit: str, build_id: str) -> str:
    """Where one build's plan of `env` lives in the bucket (pure)."""
    if kind not in KINDS:
        raise PlansError(f"plan kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not _COMMIT.match(commit):
        raise PlansError(f"commit must be a lowercase hex sha, not {commit!r}")
    if not build_id or "/" in build_id:
        raise PlansError(f"build id {build_id!r} is not one")
    return f"{env}/{kind}/{commit}/{build_id}/"


def plan_uri(bucket: str, prefix: str) -> str:
    return f"gs://{bucket}/{prefix}"


def parse_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix) of a plan's gs:// URI (pure)."""
    match = _URI.match(uri)
    if not match:
        raise PlansError(f"{uri!r} is not a plan location (gs://<bucket>/<prefix>/)")
    return match.group(1), match.group(2)


def check_kind(uri: str, env: str, kind: str) -> None:
    """Refuse a plan of another environment or kind (an apply build applies merge plans of its
    own environment only)."""
    _bucket, prefix = parse_uri(uri)
    if not prefix.startswith(f"{env}/{kind}/"):
        raise PlansError(f"{uri} is not a {kind} plan of {env!r} ({env}/{kind}/...)")


def _client() -> Any:
    from google.cloud import storage

    endpoint = os.environ.get("STORAGE_API_URL")
    options = {"api_endpoint": endpoint} if endpoint else None
    return storage.Client(client_options=options)


def upload(bucket: str, prefix: str, directory: Path, metadata: dict[str, str],
           files: Iterable[str] = PLAN_FILES) -> list[str]:
    """Create the objects of the files present in `directory` under `prefix` (never replacing
    one); returns their names."""
    target = _client().bucket(bucket)
    names = []
    for name in files:
        path = directory / name
        if not path.is_file():
            continue
        blob = target.blob(prefix + name)
        blob.metadata = metadata
        kind = "application/json" if name.endswith(".json") else "application/octet-stream"
        if name.endswith(".txt"):
            kind = "text/plain; charset=utf-8"
        blob.upload_from_filename(str(path), content_type=kind, if_generation_match=0)
        names.append(blob.name)
    return names


def download(bucket: str, prefix: str, directory: Path, files: Iterable[str] = PLAN_FILES,
             required: Iterable[str] = ()) -> list[str]:
    """Download the plan files under `prefix` into `directory`; a missing required one is an
    error (the plan expired or never existed)."""
    from google.api_core import exceptions

    source = _client().bucket(bucket)
    directory.mkdir(parents=True, exist_ok=True)
    got = []
    for name in files:
        try:
            source.blob(prefix + name).download_to_filename(str(directory / name))
            got.append(name)
        except exceptions.NotFound:
            (directory / name).unlink(missing_ok=True)
            if name in required:
                raise PlansError(f"gs://{bucket}/{prefix}{name} does not exist (plans are kept "
                                 "for a limited time: plan again)") from None
    return got


def read_text(bucket: str, name: str) -> str | None:
    """One object's text, None when it does not exist."""
    from google.api_core import exceptions

    try:
        data: bytes = _client().bucket(bucket).blob(name).download_as_bytes()
    except exceptions.NotFound:
        return None
    return data.decode("utf-8", errors="replace")
