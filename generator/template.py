"""Where the template is: this checkout, or the copy an installed wheel carries.

Standard library only: copier_ext loads it by path, to record the release a bundled copy is.

A checkout of the template repo has `copier.yml` next to the `generator/` package. A wheel
(`make dist`) carries the same template files in `generator/_template/` (copier.yml,
templates/, terraform/modules/ and the render-time modules copier loads by path), plus
`RELEASE.json`: the canonical git URL of the template repo and the release tag the wheel was
built from. A repo rendered from the bundled copy records that URL and tag instead of the
install path, so `mlopsgen update` and plain `copier update` find the template where it lives.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import RenderError

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED_DIR = PACKAGE_DIR / "_template"
RELEASE_FILE = "RELEASE.json"
# what a repo records as its template source, when the consultant wants another URL than the
# release's (a fork, a mirror); `mlopsgen new --template-url` sets it per call
URL_ENV = "MLOPSGEN_TEMPLATE_URL"


@dataclass(frozen=True)
class Release:
    """The release a bundled template was built from."""

    url: str  # canonical git URL of the template repo
    version: str  # its release tag, e.g. v0.2.0


def _is_template(path: Path) -> bool:
    return (path / "copier.yml").is_file()


def checkout_root() -> Path | None:
    """The template checkout this package runs from (an editable install), if any."""
    root = PACKAGE_DIR.parent
    return root if _is_template(root) and (root / "templates").is_dir() else None


def bundled_root() -> Path | None:
    """The template copy an installed wheel carries, if any."""
    return BUNDLED_DIR if _is_template(BUNDLED_DIR) else None


def template_root() -> Path:
    """The template this package renders by default: its checkout, else its bundled copy."""
    root = checkout_root() or bundled_root()
    if root is None:
        raise RenderError(
            f"no template next to the generator package ({PACKAGE_DIR}): reinstall mlopsgen "
            "from its wheel (`make dist`) or a checkout (`pip install -e .`), or pass "
            "--template URL"
        )
    return root


def read_release(root: Path) -> Release | None:
    """`RELEASE.json` of a bundled template (None in a checkout: git records the version)."""
    path = root / RELEASE_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return Release(url=str(data["url"]), version=str(data["version"]))


def recorded_release(root: Path, url: str | None = None) -> Release | None:
    """What a repo rendered from `root` records: the release, with the URL a call or the
    environment (MLOPSGEN_TEMPLATE_URL) asks for instead of the release's own."""
    release = read_release(root)
    if release is None:
        return None
    chosen = url or os.environ.get(URL_ENV) or release.url
    return Release(url=chosen, version=release.version)
