"""What a run tells a person: the morning summary and the HTML run report with GX Data Docs.

The summary (counts, the forms quarantined by this run and why, the files that failed and their
messages) goes to the run log and to a Prefect markdown artifact ``jixiao-run-summary``. The
report is one self-contained HTML file per run, ``REPORTS/<run_id>/report.html``, rendered from
the Jinja2 templates in ``flows/templates``: charts of execution rates, total scores and failed
checks by type (inline SVG, no network needed), the failures, and a link to Great Expectations'
Data Docs of the run's validations beside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from prefect import get_run_logger

from flows.summary import RunSummary, display_path, summary_line
from warehouse import Warehouse

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
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
    """A horizontal bar chart as inline SVG (templates/bar_chart.html)."""
    return str(_TEMPLATES.get_template("bar_chart.html").module.bar_chart(title, rows, color))


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

    counts = [
        ("files seen", summary.files_seen),
        ("files read (new or changed)", summary.files_new),
        ("files skipped (unchanged or duplicate)", summary.files_skipped),
        ("files failed", summary.files_failed),
        ("forms landed", summary.forms_landed),
        ("forms quarantined", summary.forms_quarantined),
        ("warnings", summary.warnings),
    ]
    page = _TEMPLATES.get_template("report.html").render(
        summary=summary,
        warehouse=warehouse.path,
        counts=counts,
        docs=docs.relative_to(folder).as_posix() if docs else None,
        docs_shown=len(gx_log or []),
        docs_dropped=gx_log.dropped if gx_log is not None else 0,
        rates=_histogram(rates, RATE_BINS),
        scores=_histogram(scores, SCORE_BINS),
        checks=[(name, n) for name, n in checks],
        quarantined=[
            (name, year, reasons, display_path(source))
            for name, year, reasons, source in new_quarantines(warehouse, summary.run_id)
        ],
        failed=[
            (display_path(o.path), o.message or "") for o in summary.files if o.status == "failed"
        ],
    )
    report = folder / "report.html"
    partial = folder / ".report.html.part"
    partial.write_text(page, encoding="utf-8")
    partial.replace(report)
    return report
