"""Start a Cloud Build trigger from a build (projects.locations.triggers.run).

The merge build starts the apply trigger with the plan it made; the first environment's apply
build starts its ML pipeline trigger once applied; an apply build that finds its plan stale
starts the merge build again. Credentials: Application Default Credentials (the build's service
account, through google-auth); CLOUDBUILD_API_URL points the calls elsewhere (tests).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_API = "https://cloudbuild.googleapis.com"


class CloudBuildError(RuntimeError):
    pass


@dataclass(frozen=True)
class Started:
    build_id: str
    log_url: str


def run_request(commit: str, branch: str, substitutions: Mapping[str, str]) -> dict[str, Any]:
    """The RunBuildTriggerRequest body: the commit to build and the substitutions (pure)."""
    source: dict[str, Any] = {"commitSha": commit}
    if branch:
        source["branchName"] = branch
    if substitutions:
        source["substitutions"] = dict(substitutions)
    return {"source": source}


def console_url(project: str, location: str, build_id: str) -> str:
    return (f"https://console.cloud.google.com/cloud-build/builds;region={location}/{build_id}"
            f"?project={project}")


def run_trigger(project: str, location: str, trigger: str, *, commit: str, branch: str = "",
                substitutions: Mapping[str, str] | None = None) -> Started:
    """Run `trigger` (name or id) for `commit`; returns the build it created (which may wait
    for approval)."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    root = os.environ.get("CLOUDBUILD_API_URL", DEFAULT_API).rstrip("/")
    q = urllib.parse.quote
    url = (f"{root}/v1/projects/{q(project, safe='')}/locations/{q(location, safe='')}/"
           f"triggers/{q(trigger, safe='')}:run")
    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    response = AuthorizedSession(credentials).post(  # type: ignore[no-untyped-call]
        url, json=run_request(commit, branch, substitutions or {}), timeout=60)
    if response.status_code != 200:
        raise CloudBuildError(f"running trigger {trigger} failed with HTTP "
                              f"{response.status_code}: {response.text[:500]}")
    build = (response.json().get("metadata") or {}).get("build") or {}
    build_id = str(build.get("id") or "")
    if not build_id:
        raise CloudBuildError(f"running trigger {trigger} returned no build: {response.text[:300]}")
    return Started(build_id, str(build.get("logUrl") or console_url(project, location, build_id)))
