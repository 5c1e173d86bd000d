"""`mlopsgen fleet status` over local clones and over GitHub (a fake of its REST API): one row
per repo, the exit code, the records it reads, and that local repos cost no process each."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import fleet, fleet_status
from generator import update_record as rec
from generator.cli import main as cli
from generator.fleet_page import escape, render_html
from generator.github_api import Settings, repo_of_url
from tests.cloudbuild_local.github import FakeGitHub
from tests.fleet_synthetic import (
    add_update_branch,
    answers_text,
    git,
    make_client,
    make_template,
    record_text,
)

TOKEN = "ghs_fleet_reader"
TEMPLATE = "acme/mlops-template"
TEMPLATE_URL = f"https://github.com/{TEMPLATE}.git"


def status(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["fleet", "status", *args, "--json"], env=env)
    return result.exit_code, json.loads(result.stdout)


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(r["repo"]).name if r["kind"] == "local" else r["repo"]: r
            for r in report["repos"]}


# --------------------------------------------------------------------------- local clones


@pytest.fixture(scope="module")
def local_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """behind: v0.1.0 (2 releases behind); current: v0.3.0; conflicted: v0.2.0 with an update
    branch to v0.3.0 whose record lists a conflict; pending: v0.2.0 with a fetched, clean
    update branch; describe: a commit after v0.2.0; bare: an untagged commit id; broken: a
    clone without answers."""
    base = tmp_path_factory.mktemp("local-fleet")
    tpl = str(make_template(base / "template"))
    clients = base / "clients"
    make_client(clients / "behind", tpl, "v0.1.0")
    make_client(clients / "current", tpl, "v0.3.0")
    conflicted = make_client(clients / "conflicted", tpl, "v0.2.0")
    add_update_branch(conflicted, rec.UpdateRecord("v0.2.0", "v0.3.0", ("README.md",)))
    pending = make_client(clients / "pending", tpl, "v0.2.0")
    add_update_branch(pending, rec.UpdateRecord("v0.2.0", "v0.3.0", validation="ok"),
                      remote=True)
    make_client(clients / "describe", tpl, "v0.2.0-3-gabc1234")
    make_client(clients / "bare", tpl, "abc1234")
    broken = clients / "broken"
    broken.mkdir()
    git(broken, "init", "-q")
    return clients


def test_local_fleet_one_row_per_repo(local_fleet: Path) -> None:
    code, report = status("--repos", str(local_fleet))
    assert code == 4, report  # some repos need attention
    by = rows(report)
    assert set(by) == {"behind", "current", "conflicted", "pending", "describe", "bare", "broken"}
    assert (by["behind"]["version"], by["behind"]["latest"], by["behind"]["behind"],
            by["behind"]["state"]) == ("v0.1.0", "v0.3.0", 2, "behind")
    assert (by["current"]["behind"], by["current"]["state"]) == (0, "current")
    assert not by["current"]["needs_attention"]
    conflicted = by["conflicted"]
    assert conflicted["state"] == "conflicts" and conflicted["needs_attention"]
    assert conflicted["update"]["branch"] == "template-update/v0.3.0"
    assert conflicted["update"]["conflicted_files"] == ["README.md"]
    pending = by["pending"]
    assert (pending["state"], pending["update"]["branch"]) == (
        "update-open", "origin/template-update/v0.3.0")
    assert pending["validation"] == {"status": "ok", "source": "update", "stale": False,
                                     "at": "", "summary": ""}
    assert not pending["needs_attention"]
    assert (by["describe"]["behind"], by["describe"]["state"]) == (1, "behind")
    assert by["bare"]["state"] == "unknown" and "not a release" in by["bare"]["error"]
    assert by["broken"]["state"] == "error" and ".copier-answers.yml" in by["broken"]["error"]
    assert report["summary"]["by_version"] == {
        "v0.1.0": 1, "v0.2.0": 2, "v0.2.0-3-gabc1234": 1, "v0.3.0": 1, "abc1234": 1,
        "unreadable": 1}
    assert report["summary"]["needs_attention"] == 5


def test_table_lists_every_repo_and_says_what_needs_attention(local_fleet: Path) -> None:
    result = CliRunner().invoke(cli, ["fleet", "status", "--repos", str(local_fleet)])
    lines = result.stdout.splitlines()
    assert lines[0].split() == list(fleet_status.HEADERS)
    for name, state in (("behind", "behind"), ("current", "current"), ("broken", "error"),
                        ("conflicted", "conflicts"), ("pending", "update-open")):
        row = next(line for line in lines if line.startswith(str(local_fleet / name) + " "))
        assert row.split()[-1] == state
    assert f"{local_fleet / 'conflicted'}: template-update/v0.3.0 has conflicts in README.md" \
        in lines
    assert lines[-1].startswith("7 repos (") and lines[-1].endswith("5 need attention")


def test_all_current_exits_zero(local_fleet: Path) -> None:
    code, report = status("--repos", str(local_fleet / "current"), "--repos",
                          str(local_fleet / "pending"))
    assert code == 0, report
    assert report["summary"] == {"total": 2, "needs_attention": 0,
                                 "by_state": {"update-open": 1, "current": 1},
                                 "by_version": {"v0.2.0": 1, "v0.3.0": 1}}


def test_a_newer_update_branch_wins_and_the_older_is_named(tmp_path: Path) -> None:
    tpl = str(make_template(tmp_path / "t"))
    repo = make_client(tmp_path / "c", tpl, "v0.1.0")
    add_update_branch(repo, rec.UpdateRecord("v0.1.0", "v0.2.0", validation="ok"))
    add_update_branch(repo, rec.UpdateRecord("v0.1.0", "v0.3.0", validation="failed",
                                             summary="terraform/envs/prod: plan failed"))
    _code, report = status("--repos", str(repo))
    row = report["repos"][0]
    assert row["update"]["target"] == "v0.3.0" and row["update"]["others"] == ["v0.2.0"]
    assert row["state"] == "invalid"  # the newest update's validation failed
    assert row["validation"]["summary"] == "terraform/envs/prod: plan failed"


def test_fleet_validate_record_is_shown_until_the_clone_moves_on(tmp_path: Path) -> None:
    tpl = str(make_template(tmp_path / "t"))
    repo = make_client(tmp_path / "c", tpl, "v0.3.0")
    head = git(repo, "rev-parse", "HEAD")
    rec.write_validation_record(repo, rec.ValidationRecord("failed", head, "v0.3.0", "now", "x"))
    assert git(repo, "status", "--porcelain") == ""  # .mlopsgen/ ignores itself
    _code, report = status("--repos", str(repo))
    assert report["repos"][0]["state"] == "invalid"
    assert report["repos"][0]["validation"]["source"] == "local"
    (repo / "fix.txt").write_text("fixed\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fix")
    code, report = status("--repos", str(repo))
    assert report["repos"][0]["validation"]["stale"] is True
    assert (code, report["repos"][0]["state"]) == (0, "current")


def test_unreadable_template_is_the_rows_error_not_the_fleets(tmp_path: Path) -> None:
    tpl = str(make_template(tmp_path / "t"))
    good = make_client(tmp_path / "clients" / "good", tpl, "v0.3.0")
    lost = make_client(tmp_path / "clients" / "lost", str(tmp_path / "moved"), "v0.1.0")
    code, report = status("--repos", str(tmp_path / "clients"))
    by = rows(report)
    assert code == 4
    assert by["good"]["state"] == "current"
    assert by["lost"]["state"] == "error" and "--template" in by["lost"]["error"]
    # --template points every repo at the template's new home
    code, report = status("--repos", str(lost), "--template", tpl)
    assert (code, report["repos"][0]["behind"]) == (4, 2)
    assert good.exists()


def test_local_status_starts_no_process_per_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """20 clones of one template: one `git ls-remote` for the template's tags; git runs
    per repo only to read an update branch's record."""
    tpl = str(make_template(tmp_path / "t"))
    for i in range(20):
        make_client(tmp_path / "clients" / f"c{i:02d}", tpl, ("v0.1.0", "v0.3.0")[i % 2])
    add_update_branch(tmp_path / "clients" / "c00", rec.UpdateRecord("v0.1.0", "v0.3.0"))
    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting(args: Any, *rest: Any, **kw: Any) -> Any:
        calls.append(list(args))
        return real_run(args, *rest, **kw)

    monkeypatch.setattr(subprocess, "run", counting)
    entries = fleet.discover_entries([str(tmp_path / "clients")])
    report = fleet_status.Collector(Settings()).report(entries)
    assert len(report.repos) == 20 and report.by_state() == {"behind": 9, "update-open": 1,
                                                             "current": 10}
    commands = [c[1] for c in calls]
    assert commands.count("ls-remote") == 1 and commands.count("log") == 1, calls
    assert len(calls) <= 3, calls  # and at most the identity look-up of the tag read


# --------------------------------------------------------------------------- GitHub


def _pr_body(record: rec.UpdateRecord) -> str:
    return "Template update, see the CHANGELOG entries below.\n\n" + record_text(record)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    """The template and four clients: behind (v0.1.0), current (v0.3.0), conflicted (v0.2.0,
    a draft update PR to v0.3.0 with a conflicted file; an older PR to v0.2.1 still open),
    drifted (v0.2.0, a clean PR GitHub cannot merge into its base); acme/gone does not exist
    and acme/not-a-client has no answers file."""
    with FakeGitHub() as fake:
        fake.add_token(TOKEN, "fleet-reader", write=False)
        fake.add_repo(TEMPLATE)
        for tag in ("v0.1.0", "v0.2.0", "v0.2.1", "v0.3.0rc1", "v0.3.0"):
            fake.add_tag(TEMPLATE, tag)
        for name, version in (("behind", "v0.1.0"), ("current", "v0.3.0"),
                              ("conflicted", "v0.2.0"), ("drifted", "v0.2.0")):
            fake.add_repo(f"acme/{name}")
            fake.put_file(f"acme/{name}", ".copier-answers.yml", answers_text(version,
                                                                              TEMPLATE_URL))
        fake.add_repo("acme/not-a-client")
        fake.open_pull("acme/conflicted", head="template-update/v0.2.1", base="main",
                       head_sha="1" * 40, body=_pr_body(rec.UpdateRecord("v0.2.0", "v0.2.1")))
        fake.open_pull("acme/conflicted", head="template-update/v0.3.0", base="main",
                       head_sha="2" * 40, draft=True, body=_pr_body(rec.UpdateRecord(
                           "v0.2.0", "v0.3.0", ("README.md", "terraform/envs/prod/main.tf"),
                           "skipped")))
        fake.open_pull("acme/conflicted", head="feature", base="main", head_sha="3" * 40)
        fake.open_pull("acme/drifted", head="template-update/v0.3.0", base="main",
                       head_sha="4" * 40, mergeable=False,
                       body=_pr_body(rec.UpdateRecord("v0.2.0", "v0.3.0", validation="ok")))
        yield fake


def _github_env(fake: FakeGitHub, token: str = TOKEN) -> dict[str, str]:
    return {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": token}


def _listing(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "fleet.txt"
    path.write_text("# the consultancy's clients\n" + "\n".join(lines) + "\n")
    return path


def test_github_fleet(github: FakeGitHub, tmp_path: Path) -> None:
    tpl = str(make_template(tmp_path / "t"))
    make_client(tmp_path / "local-client", tpl, "v0.3.0")
    listing = _listing(tmp_path, "acme/behind", "github:acme/current",
                       "https://github.com/acme/conflicted.git", "acme/drifted", "acme/gone",
                       "acme/not-a-client", "local-client  # a clone on this machine")
    code, report = status("--repos", str(listing), env=_github_env(github))
    assert code == 4
    by = rows(report)
    assert (by["acme/behind"]["behind"], by["acme/behind"]["latest"],
            by["acme/behind"]["state"]) == (3, "v0.3.0", "behind")
    assert by["acme/current"]["state"] == "current" and by["acme/current"]["kind"] == "github"
    conflicted = by["acme/conflicted"]
    assert conflicted["state"] == "conflicts"
    update = conflicted["update"]
    assert (update["kind"], update["target"], update["draft"], update["others"]) == (
        "pull", "v0.3.0", True, ["v0.2.1"])
    assert update["conflicted_files"] == ["README.md", "terraform/envs/prod/main.tf"]
    assert update["url"] == f"https://github.com/acme/conflicted/pull/{update['number']}"
    drifted = by["acme/drifted"]["update"]
    assert (drifted["mergeable"], drifted["conflicts"]) == (False, True)
    assert by["acme/drifted"]["state"] == "conflicts"
    assert by["acme/gone"]["state"] == "error"
    assert "no local directory" in by["acme/gone"]["error"] and "404" in by["acme/gone"]["error"]
    assert "has no .copier-answers.yml" in by["acme/not-a-client"]["error"]
    assert by["local-client"]["state"] == "current"
    # the template's tags were read once for the four GitHub clients
    tag_reads = [r for r in github.requests if r.path.endswith(f"{TEMPLATE}/tags")]
    assert len(tag_reads) == 1
    assert all(r.method == "GET" for r in github.requests)


def test_github_token_refused_is_every_rows_error(github: FakeGitHub, tmp_path: Path) -> None:
    listing = _listing(tmp_path, "acme/behind", "acme/current")
    code, report = status("--repos", str(listing), env=_github_env(github, "wrong"))
    assert code == 4
    assert [r["state"] for r in report["repos"]] == ["error", "error"]
    assert all("401" in r["error"] and "GITHUB_TOKEN" in r["error"] for r in report["repos"])


def test_github_without_token_reads_template_tags_with_git(github: FakeGitHub) -> None:
    settings = Settings(api_url=github.url, token=None)
    ref = fleet_status.template_ref(TEMPLATE_URL, base=None, settings=settings)
    assert ref == fleet_status.TemplateRef("git", TEMPLATE_URL)
    with_token = fleet_status.template_ref(TEMPLATE_URL, base=None,
                                           settings=Settings(token=TOKEN))
    assert with_token == fleet_status.TemplateRef("github", TEMPLATE)


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(("version", "expected"), [
    ("v0.1.0", 2), ("v0.3.0", 0), ("0.2.0", 1), ("v0.2.0-4-g1a2b3c4", 1), ("v0.3.0rc1", 1),
    ("v9.0.0", 0), ("1a2b3c4", None), (None, None),
])
def test_versions_behind(version: str | None, expected: int | None) -> None:
    assert fleet_status.versions_behind(version, ["v0.1.0", "v0.2.0", "v0.3.0"]) == expected


def test_update_record_round_trip_survives_comment_breakers() -> None:
    record = rec.UpdateRecord("v0.1.0", "v0.2.0", ("a.md", "-->.md"), "failed",
                              "x --> <script>alert(1)</script>", "2025-01-01T00:00:00Z")
    text = rec.render_update_record(record)
    assert text.count("-->") == 1  # only the comment's own end
    assert rec.parse_update_record("before\n" + text + "\nafter") == record
    assert rec.parse_update_record("no record") is None
    assert rec.parse_update_record("<!-- mlopsgen:template-update\n{broken\n-->") is None


@pytest.mark.parametrize(("branch", "target"), [
    ("template-update/v0.3.0", "v0.3.0"), ("origin/template-update/v1.0.0", "v1.0.0"),
    ("my-template-update/v1", None), ("template-update/", None), ("main", None),
])
def test_update_branch_targets(branch: str, target: str | None) -> None:
    assert rec.target_of(branch) == target


@pytest.mark.parametrize(("url", "name"), [
    ("https://github.com/acme/tpl.git", "acme/tpl"), ("git@github.com:acme/tpl.git", "acme/tpl"),
    ("gh:acme/tpl", "acme/tpl"), ("ssh://git@github.com/acme/tpl", "acme/tpl"),
    ("git+https://github.com/acme/tpl", "acme/tpl"), ("https://gitlab.com/acme/tpl", None),
    ("/srv/templates/tpl", None), ("https://github.com/acme", None),
])
def test_github_urls(url: str, name: str | None) -> None:
    assert repo_of_url(url) == name


def test_discover_entries(tmp_path: Path) -> None:
    (tmp_path / "acme" / "local").mkdir(parents=True)
    listing = tmp_path / "list.txt"
    listing.write_text("acme/local\nacme/remote\ngithub:acme/local\n# c\n\nacme/remote\n")
    entries = fleet.discover_entries([str(listing), "acme/other"])
    assert [(e.name, e.path, e.github) for e in entries] == [
        (str(tmp_path / "acme" / "local"), tmp_path / "acme" / "local", None),
        ("acme/remote", None, "acme/remote"),
        ("acme/local", None, "acme/local"),
        ("acme/other", None, "acme/other"),
    ]
    assert entries[1].missing_path == tmp_path / "acme" / "remote"
    with pytest.raises(fleet.FleetError, match="nor a GitHub owner/name"):
        fleet.discover_entries([str(tmp_path / "missing" / "x" / "y")])


def test_page_escapes_everything_from_repos() -> None:
    hostile = '<script>alert("x")</script>'
    report = fleet_status.FleetReport((
        fleet_status.RepoStatus(repo=f"acme/{hostile}", kind="github", state="error",
                                error=hostile, version=hostile),
    ), generated_at=hostile)
    page = render_html(report)
    assert "<script" not in page
    assert escape(hostile) in page
    assert 'javascript:' not in render_html(fleet_status.FleetReport((
        fleet_status.RepoStatus(repo="r", kind="github", state="behind",
                                update=fleet_status.Proposal("v1", "template-update/v1",
                                                             kind="pull", number=1,
                                                             url="javascript:alert(1)")),)))


# --------------------------------------------------------------------------- the page, in Chromium

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"  # git-ignored; CI keeps it


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed (make test installs it: "
                    "apt-get install chromium)")
    return found


def headless(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-extensions", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


class _Dom(HTMLParser):
    """Rows and chart bars of the page as Chromium serialized its DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.bars: dict[str, int] = {}
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        if tag == "tr" and "data-repo" in a:
            self.rows[a["data-repo"]] = a["data-state"]
        if tag == "g" and "bar" in a.get("class", "").split():
            self.bars[a["data-version"]] = int(a["data-count"])
        if tag == "a":
            self.links.append(a.get("href", ""))


def test_page_renders_in_chromium(github: FakeGitHub, local_fleet: Path, tmp_path: Path) -> None:
    browser = chromium()
    listing = _listing(tmp_path, "acme/behind", "acme/current", "acme/conflicted", "acme/gone",
                       str(local_fleet / "behind"), str(local_fleet / "broken"))
    page = tmp_path / "site" / "fleet.html"
    result = CliRunner().invoke(cli, ["fleet", "status", "--repos", str(listing), "--html",
                                      str(page)], env=_github_env(github))
    assert result.exit_code == 4, result.output
    assert f"HTML page: {page}" in result.stdout
    dumped = headless(browser, "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = _Dom()
    dom.feed(dumped.stdout)
    assert dom.rows == {
        "acme/behind": "behind", "acme/current": "current", "acme/conflicted": "conflicts",
        "acme/gone": "error", str(local_fleet / "behind"): "behind",
        str(local_fleet / "broken"): "error",
    }
    assert dom.bars == {"v0.1.0": 2, "v0.2.0": 1, "v0.3.0": 1, "unreadable": 2}
    assert "svg" in dom.tags and dom.tags.count("rect") == 4 and "script" not in dom.tags
    assert any(link.startswith("https://github.com/acme/conflicted/pull/") for link in dom.links)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "fleet-status.png"
    shot.unlink(missing_ok=True)
    taken = headless(browser, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1400, 1000)
