"""`mlopsgen new`: validate answers, render a client repo, commit it, check it."""

from __future__ import annotations

from pathlib import Path

import click

from generator import render
from generator.errors import ExitCode
from generator.validate import check_fmt, format_report, validate_repo


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
@click.option(
    "--template",
    help="Template URL or path (default: this install's template: its checkout, or the release "
    "a wheel carries).",
)
@click.option(
    "--template-url", envvar="MLOPSGEN_TEMPLATE_URL",
    help="With the release a wheel carries: the template repo URL the new repo records (default: "
    "the release's canonical URL). Env: MLOPSGEN_TEMPLATE_URL.",
)
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
    template_url: str | None,
    no_validate: bool,
) -> ExitCode:
    """Render a new client repo into DEST (which must not exist or be empty).

    Every answer is checked before a file is written. DEST becomes a git repo with an initial
    commit, so `mlopsgen update` / `copier update` can bring it to newer template versions.
    Exit codes: 0 rendered and checked, 1 nothing rendered (bad answers, copier failed), 4
    rendered but the checks found problems.
    """
    data = render.load_answers_file(data_file) if data_file else {}
    answers = render.check_answers(data, defaults=defaults)
    render.ensure_empty_destination(dest)

    click.echo(f"Rendering {answers.get('client_name', 'client repo')!s} into {dest} ...")
    render.render(dest, answers, template=template, vcs_ref=vcs_ref, template_url=template_url,
                  defaults=defaults)
    render.git_init_commit(dest, "Initial client repo rendered by mlopsgen")

    # `mlopsgen validate` starts with the fmt check; run it alone only when validate is skipped
    ok = _fmt_only(dest) if no_validate else _validate(dest)
    click.echo(
        "\nNext steps:\n"
        f"  cd {dest}\n"
        "  read README.md: bootstrap (once, with owner rights), then plan/apply per environment\n"
        f"  mlopsgen preflight {dest} --env <env>   # check parent, billing and project ids\n"
        f"  mlopsgen plan {dest} --env <env>        # plan with a summary and a safety gate"
    )
    return ExitCode.OK if ok else ExitCode.ATTENTION


def _fmt_only(dest: Path) -> bool:
    problems = check_fmt(dest)
    if not problems:
        click.echo("ok: terraform fmt -check -recursive")
        return True
    click.echo("terraform fmt -check: these files need formatting:", err=True)
    for problem in problems:
        click.echo(f"  {problem.file or problem.message}", err=True)
    return False


def _validate(dest: Path) -> bool:
    report = validate_repo(dest)
    click.echo(format_report(report))
    return report.ok
