"""What a run tells a person: the morning summary and the HTML run report with GX Data Docs.

The summary (counts, the forms quarantined by this run and why, the files that failed and their
messages) goes to the run log and to a Prefect markdown artifact ``jixiao-run-summary``. The
report is one self-contained HTML file per run, ``REPORTS/<run_id>/report.html``: charts of
execution rates, total scores and failed checks by type (inline SVG, no network needed), the
failures, and a link to Great Expectations' Data Docs of the run's validations beside it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prefect import get_run_logger

from flows.summary import RunSummary, display_path, summary_line
from warehouse import Warehouse

SUMMARY_ARTIFACT = "jixiao-run-summary"
QUARANTINE_LIMIT = 50  # rows of quarantined forms and failed files shown in full
RATE_BINS = [(i / 10, (i + 1) / 10, f"{i * 10}–{(i + 1) * 10}%") for i in range(10)]
SCORE_BINS = [(i * 10, (i + 1) * 10, f"{i * 10}–{(i + 1) * 10}") for i in range(10)]


class ValidationLog(list):
    """GX validation results of a run, kept for its Data Docs: at most ``limit`` of them.

    A long backfill's Data Docs show its first validations; ``dropped`` counts the rest.
    """

    def __init__(self, limit: int = 40) -> None:
        super().__init__()
        self.limit = limit
        self.dropped = 0

    @property
    def full(self) -> bool:
        """Whether it holds ``limit`` results: later ones would only be counted."""
        return len(self) >= self.limit

    def extend(self, pairs: Iterable[Any]) -> None:
        """Keep the first pairs up to the limit; count the others."""
        pairs = list(pairs)
        room = max(0, self.limit - len(self))
        super().extend(pairs[:room])
        self.dropped += len(pairs) - min(room, len(pairs))


def _run_forms(run_id: str) -> tuple[str, list[str]]:
    """SQL over the analyst views: form_id, kind of every form the run loaded (landed or held)."""
    return (
        """
        SELECT form_id, 'landed' AS kind FROM forms JOIN source_files USING (source_file)
        WHERE source_files.run_id = ?
        UNION ALL
        SELECT form_id, 'quarantined' FROM quarantine JOIN source_files USING (source_file)
        WHERE source_files.run_id = ?
        """,
        [run_id, run_id],
    )


def new_quarantines(warehouse: Warehouse, run_id: str) -> list[tuple]:
    """(name, fiscal_year, reasons, source_file) of each form this run quarantined."""
    return warehouse.connection.execute(
        """
        SELECT q.name, q.fiscal_year, array_to_string(q.reasons, ', '), q.source_file
        FROM quarantine q JOIN source_files s USING (source_file)
        WHERE s.run_id = ? ORDER BY q.source_file, q.form_ordinal
        """,
        [run_id],
    ).fetchall()


def summary_markdown(warehouse: Warehouse, summary: RunSummary) -> str:
    """The morning summary of a run, in Markdown."""
    lines = [
        f"## jixiao {summary.flow} run: {summary.status}",
        "",
        f"run `{summary.run_id}`: {summary_line(summary)}",
    ]
    quarantined = new_quarantines(warehouse, summary.run_id)
    lines += ["", f"### New quarantines ({len(quarantined)})"]
    if quarantined:
        lines += ["", "| form | year | failed checks | file |", "|---|---|---|---|"]
        for name, year, reasons, source in quarantined[:QUARANTINE_LIMIT]:
            lines.append(f"| {name or '?'} | {year or '?'} | {reasons} | {display_path(source)} |")
        if len(quarantined) > QUARANTINE_LIMIT:
            lines.append(
                f"\n… and {len(quarantined) - QUARANTINE_LIMIT} more: SELECT * FROM quarantine"
            )
    failed = [outcome for outcome in summary.files if outcome.status == "failed"]
    lines += ["", f"### Failures ({len(failed)})"]
    for outcome in failed[:QUARANTINE_LIMIT]:
        lines.append(f"- {display_path(outcome.path)}: {outcome.message}")
    if len(failed) > QUARANTINE_LIMIT:
        lines.append(f"- … and {len(failed) - QUARANTINE_LIMIT} more: see source_files.error")
    if summary.report:
        lines += ["", f"Report: {summary.report}"]
    return "\n".join(lines) + "\n"


def publish_summary(warehouse: Warehouse, summary: RunSummary) -> str:
    """Log the morning summary and attach it to the flow run as a Prefect artifact."""
    from prefect.artifacts import create_markdown_artifact

    text = summary_markdown(warehouse, summary)
    get_run_logger().info("%s", text)
    create_markdown_artifact(text, key=SUMMARY_ARTIFACT, description="what this run did")
    if summary.report:
        (Path(summary.report).parent / "summary.md").write_text(text, encoding="utf-8")
    return text


def _histogram(values: list[float], bins: list[tuple[float, float, str]]) -> list[tuple[str, int]]:
    counts = [0] * len(bins)
    above = 0
    for value in values:
        for index, (low, high, _) in enumerate(bins):
            last = index == len(bins) - 1
            if low <= value < high or (last and value == high):
                counts[index] += 1
                break
        else:
            above += value > bins[-1][1]
    rows = [(label, count) for (_, _, label), count in zip(bins, counts)]
    if above:
        rows.append((f"> {bins[-1][2].split('–')[1]}", above))
    return rows


def bar_chart(title: str, rows: list[tuple[str, int]], color: str = "#3b6ea5") -> str:
    """A horizontal bar chart as inline SVG."""
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p class=note>nothing to show for this run</p>"
    width, label_width, bar_height = 640, 210, 22
    top = max(count for _, count in rows) or 1
    height = bar_height * len(rows) + 10
    parts = [
        f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">'
    ]
    for index, (label, count) in enumerate(rows):
        y = 5 + index * bar_height
        length = (width - label_width - 60) * count / top
        parts += [
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>',
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{bar_height - 6}" '
            f'fill="{color}"/>',
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}">{count}</text>',
        ]
    parts.append("</svg>")
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def build_data_docs(gx_log: ValidationLog, target: Path) -> Path | None:
    """Render the logged GX validation results as a Data Docs site in ``target``."""
    if not gx_log:
        return None
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        "run",
        {
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(target.resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for key, result in gx_log:
        context.validation_results_store.set(key, result)
    context.build_data_docs(site_names=["run"])
    return target / "index.html"


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.5em} table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} .note{color:#666} svg text{font:12px system-ui,sans-serif}
.counts td:nth-child(2){text-align:right}
"""


def write_report(
    warehouse: Warehouse, summary: RunSummary, reports: Path, gx_log: ValidationLog | None
) -> Path:
    """Write ``reports/<run_id>/report.html`` (and its Data Docs) for a finished run."""
    folder = reports / summary.run_id
    folder.mkdir(parents=True, exist_ok=True)
    con = warehouse.connection
    run_forms, parameters = _run_forms(summary.run_id)
    rates, scores = [], []
    for rate, score in con.execute(
        f"""
        SELECT f.execution_rate, f.total_score FROM forms f
        WHERE f.form_id IN (SELECT form_id FROM ({run_forms}))
        """,
        parameters,
    ).fetchall():
        if rate is not None:
            rates.append(rate)
        if score is not None:
            scores.append(score)
    checks = con.execute(
        f"""
        SELECT check_name || ' (' || severity || ')', count(*) FROM check_results
        WHERE form_id IN (SELECT form_id FROM ({run_forms}))
        GROUP BY ALL ORDER BY 2 DESC, 1
        """,
        parameters,
    ).fetchall()
    docs = build_data_docs(gx_log, folder / "data_docs") if gx_log is not None else None

    esc = html.escape
    counts = [
        ("files seen", summary.files_seen),
        ("files read (new or changed)", summary.files_new),
        ("files skipped (unchanged or duplicate)", summary.files_skipped),
        ("files failed", summary.files_failed),
        ("forms landed", summary.forms_landed),
        ("forms quarantined", summary.forms_quarantined),
        ("warnings", summary.warnings),
    ]
    body = [
        f"<h1>jixiao {esc(summary.flow)} run</h1>",
        f"<p>run <code>{esc(summary.run_id)}</code>, status <b>{esc(summary.status)}</b>, "
        f"warehouse <code>{esc(str(warehouse.path))}</code></p>",
        "<table class=counts>"
        + "".join(f"<tr><td>{esc(k)}</td><td>{v}</td></tr>" for k, v in counts)
        + "</table>",
    ]
    if docs:
        note = f" (the first {len(gx_log)} validations; {gx_log.dropped} more not shown)"
        body.append(
            f'<p><a href="{docs.relative_to(folder).as_posix()}">Great Expectations Data Docs '
            f"for this run</a>{note if gx_log.dropped else ''}</p>"
        )
    else:
        body.append("<p class=note>No form was checked in this run, so there are no Data Docs.</p>")
    body += [
        bar_chart("Execution rate (执行率) of the forms landed", _histogram(rates, RATE_BINS)),
        bar_chart(
            "Total score (总分 得分) of the forms landed", _histogram(scores, SCORE_BINS), "#5a9e6f"
        ),
        bar_chart("Failed checks by type", [(name, n) for name, n in checks], "#c0504d"),
    ]
    quarantined = new_quarantines(warehouse, summary.run_id)
    body.append(f"<h2>Forms quarantined by this run ({len(quarantined)})</h2>")
    if quarantined:
        body.append("<table><tr><th>form</th><th>year</th><th>failed checks</th><th>file</th></tr>")
        body += [
            f"<tr><td>{esc(name or '?')}</td><td>{year or '?'}</td><td>{esc(reasons)}</td>"
            f"<td>{esc(display_path(source))}</td></tr>"
            for name, year, reasons, source in quarantined
        ]
        body.append("</table>")
    failed = [outcome for outcome in summary.files if outcome.status == "failed"]
    body.append(f"<h2>Files that failed ({len(failed)})</h2>")
    if failed:
        body.append("<table><tr><th>file</th><th>what to do</th></tr>")
        body += [
            f"<tr><td>{esc(display_path(o.path))}</td><td>{esc(o.message or '')}</td></tr>"
            for o in failed
        ]
        body.append("</table>")
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>jixiao run {esc(summary.run_id)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
    report = folder / "report.html"
    partial = folder / ".report.html.part"
    partial.write_text(page, encoding="utf-8")
    partial.replace(report)
    return report
