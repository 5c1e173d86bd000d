"""What of a step's container does not outlive the step.

On Cloud Build every step is a new container of its image: only /workspace (and declared
volumes, and HOME, /builder/home) carry over to the next step. Here steps are local processes,
so the runner undoes what a step left where the next container would not have it:
- the images' own directories (`LocalImage.image_dirs`: the python image's interpreter's
  site-packages and bin): entries a step added are removed after it (a `pip install` into the
  image is gone; a venv under /workspace stays), except in the interpreter running the tests,
  which is left alone: a step that installs there is refused (NotModeled);
- the temporary directory: every step gets an empty TMPDIR of its own, removed after it (what
  honours TMPDIR, as Python's tempfile does; a literal /tmp is the machine's).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tests.cloudbuild_local.errors import NotModeled

_OURS = Path(sys.prefix)  # the tests' own interpreter: never cleaned, a step may not install there


def _entries(directory: Path) -> frozenset[str]:
    return frozenset(p.name for p in directory.iterdir()) if directory.is_dir() else frozenset()


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ImageFiles:
    """The entries of the images' own directories when the build started."""

    snapshot: dict[Path, frozenset[str]]

    @classmethod
    def of(cls, images: Iterable[object]) -> ImageFiles:
        dirs = {Path(d) for image in images for d in getattr(image, "image_dirs", ())}
        return cls({d: _entries(d) for d in sorted(dirs)})

    def reset(self, step_label: str) -> tuple[str, ...]:
        """Remove what the step added to the images' directories (their paths, for the log);
        NotModeled when it removed or replaced one of the image's entries (an upgrade of a
        package the image has): that cannot be undone here."""
        added: list[str] = []
        for directory, before in self.snapshot.items():
            now = _entries(directory)
            gone = sorted(before - now)
            if gone:
                raise NotModeled(
                    f"{step_label} removed {', '.join(gone)} from the image's {directory}; the "
                    "runner cannot restore an image's own files (on Cloud Build the next step's "
                    "container has them again): give the test an interpreter of its own and "
                    "install into a venv under /workspace"
                )
            new = sorted(now - before)
            if new and directory.is_relative_to(_OURS):
                raise NotModeled(
                    f"{step_label} installed {', '.join(new)} into the image's {directory}, the "
                    "interpreter running the tests, which the runner leaves alone (on Cloud "
                    "Build it is gone in the next step): give the test an interpreter of its own"
                )
            for name in new:
                _remove(directory / name)
                added.append(str(directory / name))
        return tuple(added)


def step_tmp(scratch: Path, index: int) -> Path:
    """The step's own, empty TMPDIR."""
    path = scratch / "tmp" / f"step-{index}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
