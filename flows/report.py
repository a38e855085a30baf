"""What a run tells a person: the morning summary and the HTML run report.

The summary (counts, the forms quarantined by this run and why, the files that failed and their
messages) goes to the run log and to a Prefect markdown artifact ``jixiao-run-summary``. The
report is one self-contained HTML file per run, ``REPORTS/<run_id>/report.html``, rendered from
the Jinja2 templates in ``flows/templates`` (inline CSS and SVG, a CJK font stack: nothing is
fetched): every form the run quarantined with a link to its page in ``jixiao review``, the forms
landed with warnings, the files without forms and those that failed, breakdowns by department
and year, and charts of executed against budget, scores against weights and failed checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from prefect import get_run_logger

from flows.summary import RunSummary, display_path, review_link, summary_line
from schemas.families import BY_FORM_TYPE
from warehouse import Warehouse

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
SUMMARY_ARTIFACT = "jixiao-run-summary"
QUARANTINE_LIMIT = 50  # rows of quarantined forms and failed files in the Markdown summary
CHART_ROWS = 20  # departments or indicator levels a chart shows (the largest)


def new_quarantines(warehouse: Warehouse, run_id: str) -> list[tuple]:
    """(form_id, name, fiscal_year, reasons, source_file) of each form this run quarantined."""
    return warehouse.connection.execute(
        """
        SELECT q.form_id, q.name, q.fiscal_year, array_to_string(q.reasons, ', '), q.source_file
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
        lines += [
            "",
            f"Review them in the browser after `jixiao review --db {warehouse.path}`:",
            "",
            "| form id | form | year | failed checks | file |",
            "|---|---|---|---|---|",
        ]
        for form_id, name, year, reasons, source in quarantined[:QUARANTINE_LIMIT]:
            lines.append(
                f"| [{form_id}]({review_link(form_id)}) | {name or '?'} | {year or '?'} | "
                f"{reasons} | {display_path(source)} |"
            )
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


@dataclass
class Against:
    """One row of a chart of a part against its whole: executed against budget, score against
    weight."""

    label: str
    whole: float
    part: float
    caption: str

    @property
    def share(self) -> float:
        """The part as a fraction of the whole."""
        return self.part / self.whole if self.whole else 0.0


_RUN_FORMS = """
    SELECT f.form_id, f.name, f.department, f.fiscal_year, f.form_type, f.source_file,
           f.form_ordinal, f.budget_full_year, f.budget_executed, f.total_score,
           CASE WHEN f.status = 'quarantined' AND NOT f.released THEN 'quarantined'
                ELSE 'landed' END AS state,
           l.duplicate_of,
           coalesce(list(DISTINCT c.check_name ORDER BY c.check_name)
                    FILTER (WHERE c.severity = 'error'), []) AS errors,
           coalesce(list(DISTINCT c.check_name ORDER BY c.check_name)
                    FILTER (WHERE c.severity = 'warning'), []) AS warnings
    FROM store.form AS f
    JOIN store.source_file AS s USING (source_file)
    LEFT JOIN forms AS l USING (form_id)
    LEFT JOIN store.check_result AS c USING (form_id)
    WHERE s.run_id = ?
    GROUP BY ALL
    ORDER BY f.department NULLS LAST, f.fiscal_year NULLS LAST, f.source_file, f.form_ordinal
"""


def _run_forms(warehouse: Warehouse, run_id: str) -> list[dict[str, Any]]:
    """Every form the run read (landed or held back), with its failed checks."""
    cursor = warehouse.connection.execute(_RUN_FORMS, [run_id])
    names = [d[0] for d in cursor.description]
    forms = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for form in forms:
        family = BY_FORM_TYPE.get(form["form_type"])
        form["family"] = family.name if family else form["form_type"]
        form["source"] = display_path(form["source_file"])
    return forms


def _money(value: float) -> str:
    """元 in 万元, the unit the forms print most: '1,234.50'."""
    return f"{value / 10000:,.2f}"


def _breakdown(forms: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per department or year: forms landed (each counted once), held back and with warnings,
    budget and executed amounts of the landed forms that print both, and their mean total score."""
    groups: dict[Any, dict[str, Any]] = {}
    for form in forms:
        label = form[key] if form[key] is not None else "(not read)"
        group = groups.setdefault(
            label,
            {
                "label": label,
                "landed": 0,
                "quarantined": 0,
                "warnings": 0,
                "budget": 0.0,
                "executed": 0.0,
                "scores": [],
            },
        )
        if form["state"] == "quarantined":
            group["quarantined"] += 1
            continue
        if form["duplicate_of"] is not None:
            continue
        group["landed"] += 1
        group["warnings"] += bool(form["warnings"])
        if form["budget_full_year"] is not None and form["budget_executed"] is not None:
            group["budget"] += float(form["budget_full_year"])
            group["executed"] += float(form["budget_executed"])
        if form["total_score"] is not None:
            group["scores"].append(form["total_score"])
    rows = sorted(groups.values(), key=lambda g: (-g["budget"], str(g["label"])))
    for group in rows:
        scores = group.pop("scores")
        group["mean_score"] = sum(scores) / len(scores) if scores else None
        group["rate"] = group["executed"] / group["budget"] if group["budget"] else None
    return rows


def _executed_against_budget(by_department: list[dict[str, Any]]) -> list[Against]:
    return [
        Against(
            str(g["label"]),
            g["budget"],
            g["executed"],
            f"{_money(g['executed'])} / {_money(g['budget'])} 万元 ({g['rate']:.0%})",
        )
        for g in by_department[:CHART_ROWS]
        if g["budget"]
    ]


def _scores_against_weights(warehouse: Warehouse, run_id: str) -> list[Against]:
    """Points scored against points available, by 一级 indicator (and the budget line), over the
    landed forms of the run counted once."""
    rows = warehouse.connection.execute(
        """
        WITH landed AS (
            SELECT f.form_id FROM forms AS f JOIN store.source_file AS s USING (source_file)
            WHERE s.run_id = ? AND f.duplicate_of IS NULL
        )
        SELECT coalesce(i.level1, '(no 一级)') AS level, sum(i.weight), sum(i.score)
        FROM store.indicator AS i JOIN landed USING (form_id)
        WHERE i.weight IS NOT NULL AND i.score IS NOT NULL
        GROUP BY ALL
        UNION ALL
        SELECT '预算执行率', sum(f.budget_weight), sum(f.budget_score)
        FROM store.form AS f JOIN landed USING (form_id)
        WHERE f.budget_weight IS NOT NULL AND f.budget_score IS NOT NULL
        HAVING count(*) > 0
        ORDER BY 2 DESC
        """,
        [run_id],
    ).fetchall()
    return [
        Against(level, weight, score, f"{score:g} / {weight:g} ({score / weight:.0%})")
        for level, weight, score in rows[:CHART_ROWS]
        if weight
    ]


def write_report(warehouse: Warehouse, summary: RunSummary, reports: Path) -> Path:
    """Write ``reports/<run_id>/report.html`` for a finished run: one self-contained file."""
    folder = reports / summary.run_id
    folder.mkdir(parents=True, exist_ok=True)
    forms = _run_forms(warehouse, summary.run_id)
    by_department = _breakdown(forms, "department")
    checks = Counter(
        f"{name} ({severity})"
        for form in forms
        for severity, names in (("error", form["errors"]), ("warning", form["warnings"]))
        for name in names
    )
    (awaiting,) = warehouse.connection.execute(
        "SELECT count(*) FROM quarantine WHERE NOT rejected"
    ).fetchone()
    counts = [
        ("files seen", summary.files_seen),
        ("files read (new or changed)", summary.files_new),
        ("files skipped (unchanged or duplicate)", summary.files_skipped),
        ("files failed", summary.files_failed),
        ("forms landed", summary.forms_landed),
        ("forms quarantined", summary.forms_quarantined),
        ("warnings", summary.warnings),
        ("forms awaiting review in the warehouse (this run's and earlier)", awaiting),
    ]
    page = TEMPLATES.get_template("report.html").render(
        summary=summary,
        warehouse=warehouse.path,
        counts=counts,
        review_link=review_link,
        review_root=review_link("").removesuffix("/forms/"),
        quarantined=[f for f in forms if f["state"] == "quarantined"],
        warned=[f for f in forms if f["state"] == "landed" and f["warnings"]],
        no_forms=[
            (display_path(o.path), o.message or "") for o in summary.files if o.status == "no_forms"
        ],
        failed=[
            (display_path(o.path), o.message or "") for o in summary.files if o.status == "failed"
        ],
        by_department=by_department,
        by_year=sorted(_breakdown(forms, "fiscal_year"), key=lambda g: str(g["label"])),
        executed=_executed_against_budget(by_department),
        scored=_scores_against_weights(warehouse, summary.run_id),
        checks=checks.most_common(),
        chart_rows=CHART_ROWS,
        money=_money,
    )
    report = folder / "report.html"
    partial = folder / ".report.html.part"
    partial.write_text(page, encoding="utf-8")
    partial.replace(report)
    return report
