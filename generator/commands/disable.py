"""`mlopsgen disable FEATURE [REPO]`: turn a platform feature off (see `mlopsgen enable`)."""

from __future__ import annotations

from generator.commands.enable import make_command

command = make_command(enable=False)
