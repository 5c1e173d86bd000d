"""`mlopsgen new`: validate answers, render a client repo, commit it, check it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from generator import render
from generator.answers import AnswersError


@click.command("new")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--data-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of answers (see examples/).",
)
@click.option(
    "--defaults/--ask",
    default=True,
    show_default=True,
    help="Use defaults for questions the answers file leaves out, or ask for them.",
)
@click.option("--vcs-ref", help="Template git ref (tag, branch, commit); default: latest tag.")
@click.option("--template", help="Template URL or path (default: the checkout this runs from).")
@click.option(
    "--no-validate",
    is_flag=True,
    help="Skip `mlopsgen validate` after rendering (only `terraform fmt -check` runs).",
)
def command(
    dest: Path,
    data_file: Path | None,
    defaults: bool,
    vcs_ref: str | None,
    template: str | None,
    no_validate: bool,
) -> None:
    """Render a new client repo into DEST (which must not exist or be empty).

    Every answer is checked before a file is written. DEST becomes a git repo with an initial
    commit, so `mlopsgen update` / `copier update` can bring it to newer template versions.
    """
    try:
        data = render.load_answers_file(data_file) if data_file else {}
        answers = render.check_answers(data, defaults=defaults)
        render.ensure_empty_destination(dest)
    except AnswersError as error:
        click.echo("Invalid answers; nothing was written:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)
    except render.RenderError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)

    click.echo(f"Rendering {answers.get('client_name', 'client repo')!s} into {dest} ...")
    try:
        render.render(dest, answers, template=template, vcs_ref=vcs_ref, defaults=defaults)
        render.git_init_commit(dest, "Initial client repo rendered by mlopsgen")
    except render.RenderError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)

    # `mlopsgen validate` starts with the fmt check; run it alone only when validate is skipped
    failed = _run_validate(dest) if not no_validate else _run_fmt_check(dest)
    click.echo(
        "\nNext steps:\n"
        f"  cd {dest}\n"
        "  read README.md: bootstrap (once, with owner rights), then plan/apply per environment\n"
        f"  mlopsgen preflight {dest} --env <env>   # check parent, billing and project ids\n"
        f"  mlopsgen plan {dest} --env <env>        # plan with a summary and a safety gate"
    )
    sys.exit(1 if failed else 0)


def _run_fmt_check(dest: Path) -> bool:
    """`terraform fmt -check -recursive`; True when files need formatting."""
    if shutil.which("terraform") is None:
        click.echo("skip: terraform fmt check (terraform is not on PATH)")
        return False
    unformatted = render.terraform_fmt_check(dest)
    if not unformatted:
        click.echo("ok: terraform fmt -check -recursive")
        return False
    click.echo("terraform fmt -check: these files need formatting:", err=True)
    for name in unformatted:
        click.echo(f"  {name}", err=True)
    return True


def _run_validate(dest: Path) -> bool:
    """Run the offline validation; True when it failed."""
    try:
        from generator import validate as validate_mod
    except ImportError:  # pragma: no cover - validate ships with the package
        click.echo("skip: mlopsgen validate is not available in this install")
        return False
    report = validate_mod.validate_repo(dest)
    click.echo(validate_mod.format_report(report))
    return not report.ok
