"""The `mlopsgen` command line. Each command lives in `generator/commands/<name>.py`."""

from __future__ import annotations

import importlib

import click

from generator import __version__

# command name -> module under generator.commands exporting a click command named `command`
COMMANDS: dict[str, str] = {
    "new": "new",
    "validate": "validate",
    "plan": "plan",
    "apply": "apply",
    "preflight": "preflight",
    "update": "update",
    "fleet": "fleet",
}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (keeps `--help` fast)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"generator.commands.{module_name}")
        command: click.Command = module.command
        return command


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="mlopsgen")
def main() -> None:
    """Render, check and operate Google Cloud MLOps client repos."""


if __name__ == "__main__":
    main()
