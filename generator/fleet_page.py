"""The fleet status page: one self-contained static HTML file (inline CSS and SVG, no script,
no external asset; a Content-Security-Policy that forbids both anyway).

Pure: `render_html(report) -> str`. Every value from a repo, its answers or the GitHub API
reaches the page through `escape` (the one escaping function), by way of `el`, which
escapes every attribute and every child that is not already `Markup`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from generator.fleet_status import HEADERS, FleetReport, RepoStatus, release_base, table_rows

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
BAR_COLOURS = {"latest": "#2e7d32", "release": "#f9a825", "other": "#9e9e9e"}
_BAR_HEIGHT, _BAR_GAP, _LABEL_W, _BAR_W, _TOP = 24, 10, 170, 380, 30


class Markup(str):
    """Text that is already HTML (built by `el` or `escape`)."""


def escape(value: object) -> Markup:
    """The one escaping function: text and attribute values (quotes included)."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def _attr(name: str, value: object) -> str:
    key = name.rstrip("_").replace("_", "-")
    return f" {key}" if value is True else f' {key}="{escape(value)}"'


def el(tag: str, *children: object, **attrs: object) -> Markup:
    """`<tag attrs>children</tag>`; attributes set to None or False are left out."""
    shown = "".join(_attr(k, v) for k, v in attrs.items() if v is not None and v is not False)
    inner = "".join(escape(c) for c in children)
    return Markup(f"<{tag}{shown}>{inner}</{tag}>")


def join(parts: Sequence[object]) -> Markup:
    return Markup("".join(escape(p) for p in parts))


# --------------------------------------------------------------------------- chart


def _bar_kind(version: str, latest: set[str]) -> str:
    if version in latest:
        return "latest"
    return "release" if release_base(version) is not None else "other"


def version_chart(report: FleetReport) -> Markup:
    """Clients per template version: one horizontal bar each, its count beside it."""
    counts = report.by_version()
    most = max((n for _v, n in counts), default=1)
    latest = report.latest_versions()
    height = _TOP + len(counts) * (_BAR_HEIGHT + _BAR_GAP) + 10
    width = _LABEL_W + _BAR_W + 60
    bars = []
    for i, (version, count) in enumerate(counts):
        y = _TOP + i * (_BAR_HEIGHT + _BAR_GAP)
        length = max(2, round(_BAR_W * count / most))
        kind = _bar_kind(version, latest)
        bars.append(el(
            "g",
            el("title", f"{version}: {count} client{'s' if count != 1 else ''}"),
            el("text", version, x=_LABEL_W - 8, y=y + 17, text_anchor="end", class_="label"),
            el("rect", x=_LABEL_W, y=y, width=length, height=_BAR_HEIGHT, rx=3,
               fill=BAR_COLOURS[kind]),
            el("text", count, x=_LABEL_W + length + 6, y=y + 17, class_="count"),
            class_=f"bar bar-{kind}", data_version=version, data_count=count,
        ))
    return el(
        "svg",
        el("text", "clients per template version", x=0, y=16, class_="axis"),
        *bars,
        id="versions-chart", xmlns="http://www.w3.org/2000/svg", role="img",
        aria_label="Clients per template version", width=width, height=height,
        viewBox=f"0 0 {width} {height}",
    )


# --------------------------------------------------------------------------- table


def _safe_url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def _update_cell(r: RepoStatus, text: str) -> Markup:
    url = _safe_url(r.update.url) if r.update else None
    return el("a", text, href=url) if url else escape(text)


def _details(r: RepoStatus) -> Markup:
    parts: list[Markup] = []
    if r.error:
        parts.append(el("div", r.error, class_="error"))
    if r.update and r.update.conflicted_files:
        parts.append(el("div", "conflicts: " + ", ".join(r.update.conflicted_files),
                        class_="conflicts"))
    if r.update and r.update.others:
        parts.append(el("div", "more open updates: " + ", ".join(r.update.others)))
    if r.validation and r.validation.summary:
        parts.append(el("details", el("summary", f"validation ({r.validation.source})"),
                        el("pre", r.validation.summary)))
    return join(parts)


def fleet_table(report: FleetReport) -> Markup:
    head = el("thead", el("tr", *(el("th", h, scope="col") for h in (*HEADERS, "details"))))
    rows = []
    for r, cells in zip(report.repos, table_rows(report), strict=True):
        tds = [el("td", c, class_=f"col-{h}") for h, c in zip(HEADERS, cells, strict=True)]
        tds[HEADERS.index("update")] = el("td", _update_cell(r, cells[HEADERS.index("update")]),
                                          class_="col-update")
        tds[HEADERS.index("state")] = el("td", el("span", r.state, class_="badge"),
                                         class_="col-state")
        rows.append(el("tr", *tds, el("td", _details(r), class_="col-details"),
                       class_=f"state-{r.state}", data_repo=r.repo, data_state=r.state,
                       data_attention="yes" if r.needs_attention else "no"))
    return el("table", head, el("tbody", *rows), id="fleet")


# --------------------------------------------------------------------------- page


STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem;
       color: #1f2328; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
.meta { color: #59636e; margin: 0 0 1rem; }
.cards { display: flex; gap: .75rem; flex-wrap: wrap; margin: 1rem 0; padding: 0; }
.cards li { list-style: none; border: 1px solid #d1d9e0; border-radius: 6px; padding: .5rem 1rem; }
.cards b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d1d9e0;
         vertical-align: top; }
th { background: #f6f8fa; }
td { white-space: nowrap; }
td.col-details { white-space: normal; min-width: 16em; overflow-wrap: anywhere; }
td.col-repo { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; white-space: normal;
              overflow-wrap: anywhere; min-width: 14em; max-width: 28em; }
.badge { border-radius: 1em; padding: .1em .6em; background: #eaeef2; white-space: nowrap; }
tr.state-current .badge { background: #dafbe1; }
tr.state-update-open .badge { background: #ddf4ff; }
tr.state-behind .badge, tr.state-unknown .badge { background: #fff8c5; }
tr.state-conflicts .badge, tr.state-invalid .badge, tr.state-error .badge {
  background: #ffebe9; color: #82071e; }
.error { color: #82071e; }
pre { white-space: pre-wrap; margin: .25rem 0; font-size: 12px; }
svg text { font: 13px system-ui, sans-serif; fill: #1f2328; }
svg text.axis { fill: #59636e; }
"""


def render_html(report: FleetReport) -> str:
    states = report.by_state()
    cards = el("ul",
               el("li", el("b", len(report.repos)), "repos"),
               el("li", el("b", report.needs_attention), "need attention"),
               *(el("li", el("b", n), s) for s, n in states.items()),
               class_="cards")
    body = el(
        "body",
        el("h1", "Fleet status"),
        el("p", f"generated {report.generated_at} by mlopsgen fleet status", class_="meta"),
        cards,
        el("h2", "Template versions"),
        version_chart(report),
        el("h2", "Repos"),
        fleet_table(report),
    )
    head = el(
        "head",
        Markup('<meta charset="utf-8">'),
        Markup(f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">'),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        el("title", "mlopsgen fleet status"),
        el("style", Markup(STYLE)),
    )
    return "<!DOCTYPE html>\n" + el("html", head, body, lang="en") + "\n"
