"""The python image of the client repo's CI builds, for the local Cloud Build runner.

The image's interpreter is a venv of its own, as bare as python:3.11.11-slim (pip; no mlopsgen,
none of the CI scripts' packages), whose site-packages and bin the runner restores after every
step (tests/cloudbuild_local/isolation.py): a config that pip-installs into the image's Python
in one step and uses the packages in a later one fails here as on Cloud Build.

The builds install into the CI venv scripts/ci_tools.py makes under the workspace
(`.mlopsgen/ci/venv`). There is no package index to reach (the pins name this checkout's
version), so that venv, and only a venv at that path, sees this checkout's packages: a
sitecustomize on PYTHONPATH adds them (`CI_VENV_ENV`), and its pinned install finds them
installed already, as if pip had fetched them. pip installs no `mlopsgen` script for an installed
requirement, so the image's bin has one that runs `python` from PATH: the CI venv's where the
config puts that venv's bin first, the bare image's otherwise (which then fails).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

CI_VENV = "/.mlopsgen/ci/venv"  # scripts/ci_tools.py VENV, under the workspace

_SITECUSTOMIZE = """\
import site
import sys

if sys.prefix.endswith({suffix!r}):  # the CI venv of a build (tests/ci_python.py)
    site.addsitedir({ours!r})
"""

_MLOPSGEN = """\
#!/bin/sh
exec python -c 'import sys; from generator.cli import main; sys.argv[0] = "mlopsgen"; main()' "$@"
"""


def build_python(dest: Path) -> tuple[Path, dict[str, str]]:
    """The image's interpreter in `dest`, and the environment the builds need for its CI venv
    (pass it in run_build's `env`)."""
    venv = dest / "image-python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    hook = dest / "ci-venv-site"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        _SITECUSTOMIZE.format(suffix=CI_VENV, ours=sysconfig.get_paths()["purelib"]))
    script = venv / "bin" / "mlopsgen"
    script.write_text(_MLOPSGEN)
    script.chmod(0o755)
    return venv / "bin" / "python", {"PYTHONPATH": str(hook)}
