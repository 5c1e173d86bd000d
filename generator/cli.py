"""The `mlopsgen` command line. Each command lives in `generator/commands/<name>.py`.

Commands parse options, call the library and print; they return an `ExitCode`. Errors are
mapped to exit codes here, once for every command (the table is in generator/errors.py and the
README): an `MlopsgenError` exits with its type's code, a click usage error with 1 (so that 2
only ever means "the plan has changes").
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from generator import __version__
from generator.errors import ExitCode, MlopsgenError

# command name -> module under generator.commands exporting a click command named `command`
COMMANDS: dict[str, str] = {
    "new": "new",
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "preflight": "preflight",
    "update": "update",
    "fleet": "fleet",
    "enable": "enable",
    "disable": "disable",
    "template-update": "template_update",
}

# ctx.meta key: a command with --json sets a function (message, exit code) -> the JSON document
# to print on stdout when it fails, so scripts reading stdout always get JSON
JSON_ERROR = "mlopsgen.json_error"
JsonError = Callable[[str, ExitCode], dict[str, Any]]


def json_errors(ctx: click.Context, as_json: bool, render: JsonError) -> None:
    """Ask the error handler to print failures as `render` shapes them (when --json)."""
    if as_json:
        ctx.meta[JSON_ERROR] = render


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (keeps `--help` fast), and maps
    what a command returns or raises to the process exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"generator.commands.{module_name}")
        command: click.Command = module.command
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlopsgenError as error:
            raise click.exceptions.Exit(report_error(ctx, error)) from error

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> None:
        extra["standalone_mode"] = False
        try:
            result = super().main(args, prog_name, **extra)
        except click.Abort:
            click.echo("Aborted!", err=True)
            result = ExitCode.ERROR
        except click.ClickException as error:  # usage errors too: 2 means "changes" here
            error.show()
            result = ExitCode.ERROR
        sys.exit(int(result) if isinstance(result, int) else int(ExitCode.OK))


def report_error(ctx: click.Context, error: MlopsgenError) -> int:
    """Print an error (and its JSON document under --json); its exit code."""
    code = error.exit_code
    message = error.message()
    render: JsonError | None = ctx.meta.get(JSON_ERROR)
    if render is not None:
        click.echo(json.dumps(render(message, code), indent=2))
    label = "Refused" if code == ExitCode.REFUSED else "Error"
    click.echo(f"{label}: {message}", err=True)
    return int(code)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="mlopsgen")
def main() -> None:
    """Render, check and operate Google Cloud MLOps client repos."""


if __name__ == "__main__":
    main()
