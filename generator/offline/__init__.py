"""Offline stand-ins for the hashicorp/google, hashicorp/google-beta and integrations/github
Terraform providers, so the real `terraform` binary can init, validate, plan, apply and test a
rendered repo without downloading providers or reaching Google Cloud.

What it is and is not: see docs/decisions/0002-offline-stand-in-provider.md. In short, the
stand-ins serve the providers' real schemas (from a committed snapshot), plan replacements and
check values as the providers' source says (`behaviour.py`, data from
tools/refresh_provider_behaviour.py), and otherwise behave like Terraform's `mock_provider`:
no provider defaults, no ConflictsWith/ExactlyOneOf, invented ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from generator.offline import schema

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent  # the dir holding `generator/`

LIMITS = (
    "The offline stand-in providers serve the real provider schemas and plan replacements and "
    "check enums, patterns, lengths and ranges as the providers' source says, but are not the "
    "providers: no provider defaults (unset optional+computed values stay unknown), no "
    "replacements that depend on a CustomizeDiff's logic, no ConflictsWith/ExactlyOneOf or "
    "API-side checks, no provider functions, and every id, email and number is a fake. Run "
    "`terraform plan` against real projects before applying."
)


class OfflineError(RuntimeError):
    """The stand-in providers could not be set up."""


def terraform_platform() -> str:
    """Terraform's OS_ARCH name for this machine (e.g. linux_amd64)."""
    arch = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386"}.get(arch, arch)
    return f"{platform.system().lower()}_{arch}"


def launcher_script(name: str, python: str = sys.executable) -> str:
    """The tiny executable Terraform starts: our Python running the stand-in for NAME."""
    root = shlex.quote(str(PACKAGE_ROOT))
    return (
        "#!/bin/sh\n"
        "# mlopsgen offline stand-in provider (generated; see generator/offline)\n"
        f'PYTHONPATH={root}"${{PYTHONPATH:+:$PYTHONPATH}}" '
        f"exec {shlex.quote(python)} -m generator.offline plugin {shlex.quote(name)}\n"
    )


def write_mirror(mirror: Path) -> list[str]:
    """Lay out an unpacked filesystem mirror with a launcher per provider; returns addresses."""
    addresses = []
    plat = terraform_platform()
    for ps in schema.providers():
        ptype = ps.address.rsplit("/", 1)[1]
        binary = f"terraform-provider-{ptype}_v{ps.version}"
        target = mirror / ps.address / ps.version / plat / binary
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(launcher_script(ps.name))
        target.chmod(0o755)
        addresses.append(ps.address)
    return addresses


def user_cli_config() -> str:
    """The user's own CLI configuration (credentials, hosts...), to carry over read-only; empty
    when there is none or when it has its own provider_installation, which ours replaces."""
    path = os.environ.get("TF_CLI_CONFIG_FILE") or str(Path.home() / ".terraformrc")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    if re.search(r"^\s*provider_installation\b", text, re.M):
        return ""
    # never let terraform copy the stand-in launchers into the user's real plugin cache
    return re.sub(r"^\s*plugin_cache_[a-z_]*\s*=.*$", "", text, flags=re.M)


def cli_config(mirror: Path, addresses: list[str], user_config: str = "") -> str:
    quoted = ", ".join(json.dumps(a) for a in addresses)
    checkpoint = (
        ""
        if re.search(r"^\s*disable_checkpoint\b", user_config, re.M)
        else ("disable_checkpoint = true\n")
    )
    carried = (
        f"# carried over from the user's CLI configuration\n{user_config}\n" if user_config else ""
    )
    return (
        carried
        + "# written by mlopsgen (generator/offline): stand-in providers, offline\n"
        + checkpoint
        + "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        f"    include = [{quoted}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{quoted}]\n"
        "  }\n"
        "}\n"
    )


@contextlib.contextmanager
def offline_providers(scratch: Path, *, reattach: bool = False) -> Iterator[dict[str, str]]:
    """Yield environment variables that make `terraform` (init/validate/plan/apply/test) use the
    stand-in providers for hashicorp/google, hashicorp/google-beta and integrations/github;
    clean up on exit.

    The variables point Terraform at a CLI config file (TF_CLI_CONFIG_FILE) in SCRATCH whose
    `provider_installation` uses an unpacked filesystem mirror of launchers; the user's own
    Terraform configuration is neither read nor changed. With `reattach=True` one long-lived
    process also serves all three providers and TF_REATTACH_PROVIDERS points Terraform at it,
    so terraform commands start no provider processes (much faster for many commands).

    Run `terraform init` inside the block: the mirror lives in SCRATCH only until it exits.
    Without reattach, a committed `.terraform.lock.hcl` holding the real providers' hashes does
    not match the launchers; init a copy without it (reattached providers are not locked).
    """
    scratch = Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="offline-tf-", dir=scratch))
    server: subprocess.Popen[str] | None = None
    try:
        mirror = base / "mirror"
        addresses = write_mirror(mirror)
        config = base / "terraform.rc"
        config.write_text(cli_config(mirror, addresses, user_cli_config()))
        env = {
            "TF_CLI_CONFIG_FILE": str(config),
            "CHECKPOINT_DISABLE": "1",
            "TF_PLUGIN_CACHE_DIR": "",
            "TF_IN_AUTOMATION": "1",
        }
        if reattach:
            server, env["TF_REATTACH_PROVIDERS"] = start_reattach_server(base / "server.log")
        yield env
    finally:
        if server is not None:
            stop_reattach_server(server)
        shutil.rmtree(base, ignore_errors=True)


def start_reattach_server(log_file: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m generator.offline serve`; returns the process and the reattach JSON."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "generator.offline", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        json.loads(line)
    except ValueError:
        stop_reattach_server(proc)
        err = log_file.read_text(errors="replace")
        raise OfflineError(f"the stand-in provider server did not start: {line}{err}") from None
    return proc, line.strip()


def stop_reattach_server(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()  # EOF on stdin asks the server to stop
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout:
        proc.stdout.close()
