"""Typed records the form parser builds, the checks judge and the warehouse stores (columns as in
SCHEMA.md), and what one file's reading hands to the layers above."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class FundLine:
    """One line of the 项目资金 block. Money in 元."""

    line: str
    budget_initial: Decimal | None = None
    budget_full_year: Decimal | None = None
    budget_executed: Decimal | None = None
    weight: float | None = None
    execution_rate: float | None = None  # fraction
    score: float | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in page points


@dataclass
class Indicator:
    """One 三级指标 row with its recovered 一级/二级 parents."""

    row_ordinal: int
    level1: str | None
    level2: str | None
    level3: str | None
    target_text: str | None = None
    target_op: str | None = None
    target_value: float | None = None
    target_unit: str | None = None
    actual_text: str | None = None
    actual_value: float | None = None
    actual_unit: str | None = None
    weight: float | None = None
    score: float | None = None
    deviation_reason: str | None = None
    page: int | None = None
    hierarchy_inferred: bool = (
        False  # True where the parents were chosen by vocabulary, not geometry
    )
    bbox: tuple[float, float, float, float] | None = None  # its cells on ``page``, as FundLine
    extra: dict[str, str] | None = None  # columns without a known role: header → text as printed
    level1_weight: float | None = None  # a weight printed in the 一级 cell: 产出指标（50分）


@dataclass
class FlaggedCell:
    """A cell whose text is uncertain: low OCR confidence or corrected by a domain rule; or,
    ``unreadable``, text printed where a number belongs that is not one (the value is left empty).
    """

    field: str  # e.g. 'score', 'level2', 'name'
    text: str
    row_ordinal: int | None = None  # None for a header or funds cell
    confidence: float | None = None
    note: str | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    unreadable: bool = False


@dataclass
class Form:
    """One performance form as printed, with money converted to 元."""

    form_type: str
    form_ordinal: int = 0
    form_id: str = ""  # source sha256 prefix + ordinal, set when the file's identity is known
    fiscal_year: int | None = None
    year_source: str | None = None  # 'form', 'page', 'document', 'dates' or 'file_name'
    name: str | None = None
    department: str | None = None
    implementing_unit: str | None = None
    money_unit: str = "元"
    budget_initial: Decimal | None = None
    budget_full_year: Decimal | None = None
    budget_executed: Decimal | None = None
    execution_rate: float | None = None
    execution_rate_decimals: int | None = None  # decimals of percent as printed: '83.50%' → 2
    budget_weight: float | None = None
    budget_score: float | None = None
    total_weight: float | None = None
    total_score: float | None = None
    project_funds_total: Decimal | None = None
    planned_start: date | None = None
    planned_end: date | None = None
    goal_planned: str | None = None
    goal_actual: str | None = None
    goal_overall: str | None = None  # 项目总目标 / 总目标, where the form has one
    # labels printed in the header block or after the table that no column holds (评价结论,
    # 存在问题, 项目负责人, …) → their text as printed
    extra_fields: dict[str, str] = field(default_factory=dict)
    fund_lines: list[FundLine] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    first_page: int | None = None
    last_page: int | None = None
    total_page: int | None = None  # where the 总分 row was printed
    total_bbox: tuple[float, float, float, float] | None = None
    notes: list[str] = field(
        default_factory=list
    )  # parser decisions worth showing (inferred spans)
    flagged_cells: list[FlaggedCell] = field(default_factory=list)


@dataclass
class CheckResult:
    """One failed check (SCHEMA.md check_results)."""

    form_id: str
    check_name: str
    severity: str  # 'error' | 'warning'
    row_ordinal: int | None = None
    observed: str | None = None
    expected: str | None = None
    detail: str | None = None


def form_status(results: list[CheckResult]) -> str:
    """One form's status from its results: 'quarantined' on any error, 'warning', or 'clean'."""
    severities = {result.severity for result in results}
    if "error" in severities:
        return "quarantined"
    return "warning" if "warning" in severities else "clean"


def form_id_for(sha256: str, ordinal: int) -> str:
    """Stable form id: the same file ingested twice gives the same ids."""
    return f"{sha256[:16]}-{ordinal}"


@dataclass
class Extraction:
    """What reading one file produced: its forms, or why it could not be read."""

    forms: list[Form] = field(default_factory=list)
    pages: int | None = None
    extractor: str | None = None
    n_tables: int = 0
    error: str | None = None  # set when the file was unreadable: it is recorded as 'failed'
    reader_version: str | None = None  # the fingerprint of the reader code that read it
    notes: list[str] = field(default_factory=list)  # the reader's and parser's remarks on the file
