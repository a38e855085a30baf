"""The one form parser: grids from any reader → typed forms (schemas.records).

It reads the document as one stream of rows, finds every form (a title or a new 项目名称 starts
one; in a long table of project blocks, each block's project cell), reads the header, funds and
goal blocks by their labels, maps each indicator-table column to its role by what its header says
(schemas.vocabulary; other columns are kept as the row's extra), and recovers the 一级/二级/三级
hierarchy: from the merged-cell geometry where the reader saw it, by vocabulary-guided span
inference where it did not (flat text). The family comes from the title (schemas.families), the
year from the best evidence printed (Form.year_source).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from extractors.hierarchy import infer_spans
from extractors.project_lists import read_project_lists
from extractors.values import (
    Value,
    compact,
    is_blank,
    normalize_text,
    parse_date,
    parse_money,
    parse_number,
    parse_points,
    parse_rate,
    parse_value,
    rate_decimals,
)
from schemas.families import (
    BY_FORM_TYPE,
    DECLARATION_FAMILY,
    DEFAULT_FAMILY,
    family_of_marks,
    family_of_title,
)
from schemas.grid import Cell, Document
from schemas.records import FlaggedCell, Form, FundLine, Indicator
from schemas.vocabulary import (
    BLOCK_ROLES,
    COLUMN_ROLES,
    FORM_EXTRA_LABELS,
    FUND_COLUMNS,
    FUND_LINES,
    GOAL_ACTUAL,
    GOAL_GROUPS,
    GOAL_OVERALL,
    GOAL_PLANNED,
    HEADER_LABELS,
    INDICATOR_PREFIX,
    LEVEL1,
    LEVEL2,
    LEVEL2_PARENT,
    LEVEL_WEIGHT,
    OPERATORS,
    PACKAGE_HEADING,
    PACKAGE_TITLE,
    TITLE_PREFIX,
    TOTAL_WORDS,
    YEAR_ANYWHERE,
    YEAR_IN_PARENS,
    YEAR_OF_TITLE,
    canonical_level,
    level2_affinity,
)

N = TypeVar("N", float, Decimal)  # a number read from a cell

PLACEHOLDER = re.compile(r"[-—－/／*]+")  # printed in a cell that holds nothing
ELLIPSIS = re.compile(r"[…⋯.。·]+")  # a template's 'more rows here' line ('……')
NUMBERED_ONLY = re.compile(r"指标\s*\d+")  # a template's '指标2：' whose colon a scan lost
STRICT_LEVEL2 = frozenset({"服务对象满意度指标", "满意度指标", "时效指标"})
VALUE_ROLES = ("target", "actual")


# ---------------------------------------------------------------- the row stream


@dataclass
class Row:
    """One grid row: the text of each column slot and whether its cell starts on this row."""

    texts: list[str]
    starts: list[bool]  # the slot's cell starts on this row (False: continues from above)
    lefts: list[bool]  # the slot is its cell's first column
    page: int | None
    block: int
    spans_known: bool
    cells: list[Cell | None]
    in_table: bool = True  # False for free text lines outside any table
    spans_inferred: bool = False  # the grid's spans were rebuilt from text, not seen
    row_spans_seen: bool = True  # False: rules cross every row, a merged cell's rows unseen

    def items(self) -> list[tuple[int, str]]:
        """(column, text) of each distinct non-empty cell that starts on this row."""
        return [(c, t) for c, t in enumerate(self.texts) if t and self.starts[c] and self.lefts[c]]

    def joined(self) -> str:
        return "".join(t for _, t in self.items())

    def bbox(self) -> tuple[float, float, float, float] | None:
        """Union of the boxes of the cells starting on this row on its page, when known."""
        boxes = {
            id(c): c.bbox
            for c, starts in zip(self.cells, self.starts, strict=True)
            if c is not None and starts and c.bbox is not None and c.page == self.page
        }
        if not boxes:
            return None
        x0s, tops, x1s, bottoms = zip(*boxes.values(), strict=True)
        return min(x0s), min(tops), max(x1s), max(bottoms)


def document_rows(doc: Document) -> list[Row]:
    """Every row of every grid, in document order, with merged cells expanded to their slots."""
    rows: list[Row] = []
    for block, grid in enumerate(doc.grids):
        texts = {id(c): normalize_text(c.text) for c in grid.cells}
        for r, line in enumerate(grid.slots()):
            rows.append(
                Row(
                    texts=[texts[id(c)] if c else "" for c in line],
                    starts=[c is None or c.row == r for c in line],
                    lefts=[c is None or c.col == col for col, c in enumerate(line)],
                    page=grid.page_of_row(r),
                    block=block,
                    spans_known=grid.spans_known,
                    cells=line,
                    in_table=grid.is_table,
                    spans_inferred=grid.spans_inferred,
                    row_spans_seen=grid.row_spans_seen,
                )
            )
    return rows


# ---------------------------------------------------------------- the parser


@dataclass
class Layout:
    """Columns of the indicator table, from its header row."""

    roles: dict[str, list[int]]  # role → columns
    n_cols: int
    extra: dict[int, str] = field(default_factory=dict)  # column → header, of no known role
    blocks: dict[str, int] = field(default_factory=dict)  # project block column roles (labels.py)
    header_cells: set[int] = field(default_factory=set)  # ids of the header row's cells

    def first(self, role: str) -> int | None:
        cols = self.roles.get(role)
        return cols[0] if cols else None

    @property
    def scored(self) -> bool:
        return "weight" in self.roles and "score" in self.roles


@dataclass
class RawIndicator:
    """An indicator row before its hierarchy is settled."""

    l1: str
    l2: str
    l3: str
    target: str
    actual: str
    weight: str
    score: str
    reason: str
    unit: str
    page: int | None
    block: int
    spans_known: bool
    label_only: bool = False  # a 二级 row printed with no 三级 under it
    levels_inferred: bool = False  # its 一级/二级 cell's span over it was inferred, not seen
    op: str = ""  # an operator column's text (指标值类型: ≥, 定性, …)
    extra: dict[str, str] = field(default_factory=dict)  # header → text of unknown columns
    bbox: tuple[float, float, float, float] | None = None
    uncertain: list[tuple[str, Cell]] = field(default_factory=list)  # (field, OCR cell to flag)
    level_cells: dict[str, int] = field(default_factory=dict)  # l1/l2 → id of the covering cell


@dataclass
class FormBuilder:
    """A form being read."""

    form: Form
    title_seen: bool = False
    titled: bool = False  # the family is a title's: its own or the one over the forms before it
    money_multiplier: int = 1
    fund_columns: dict[str, int] | None = None
    fund_spans: dict[str, list[int]] = field(default_factory=dict)  # role → its header's columns
    goal_columns: dict[str, int] | None = None
    annual_col: int | None = None
    layout: Layout | None = None
    raw: list[RawIndicator] = field(default_factory=list)
    table_done: bool = False
    pending_fragment: str = ""
    pending_block: int = -1
    labels: set[str] = field(default_factory=set)  # cell texts read, for the family without title
    unit_name: str | None = None  # 部门名称 / 单位名称: the department, or a department form's name
    project: tuple[Cell, str] | None = None  # a project block's name cell and its block's key
    previous_layout: Layout | None = None  # the previous form's table, for one printing no header
    fund_labels: dict[str, str] = field(default_factory=dict)  # fund line → label read from

    def parse_money(self, text: str | None) -> Decimal | None:
        """An amount printed in this form's unit, in 元."""
        return parse_money(text, self.money_multiplier)


@dataclass
class Title:
    """A form title line: the family it names and the year it prints, if any."""

    form_type: str
    year: int | None


@dataclass
class PackageEvidence:
    """What a package prints outside its forms: the years in page headings and in its own title,
    and the issuer its title names."""

    pages: dict[int | None, int]
    document: int | None
    file_name: int | None
    issuer: str | None = None


def parse_forms(doc: Document) -> list[Form]:
    """Find and read every performance form in a document; pages without one yield nothing.

    A table printed with no values (a blank template) is not a form: it is noted in
    ``doc.notes``. Lists of one project a row are read by ``read_project_lists`` first.
    """
    listed = read_project_lists(doc)
    doc = listed.rest
    rows = document_rows(doc)
    evidence = _package_evidence(rows, doc.source_name)
    forms: list[Form] = []
    blank_pages: list[int | None] = []
    builder: FormBuilder | None = None
    last_title: Title | None = None  # the title over the forms that follow it
    pending_year: int | None = None  # a year line printed before the form's first label
    previous_free_text = ""  # a line of one cell not read as a title (a title's first half?)
    repeated_title: Title | None = None  # a title over a form's next page, or over a new form
    last_layout: Layout | None = None

    def finish() -> None:
        nonlocal builder, last_layout
        if builder is not None:
            last_layout = builder.layout or last_layout
            form = _finish(builder, evidence)
            if form is not None:
                form.form_ordinal = len(forms) + 1
                forms.append(form)
            elif _is_blank_template(builder):
                blank_pages.append(builder.form.first_page)
        builder = None

    def start(row: Row, title: Title | None = None) -> FormBuilder:
        """A new form from ``row``: its own title's family and year, else the last title's."""
        nonlocal pending_year
        finish()
        inherited = title or last_title
        form = Form(
            form_type=inherited.form_type if inherited else DEFAULT_FAMILY.form_type,
            first_page=None if title else row.page,  # a title may end the previous page
        )
        year = (title.year if title else None) or pending_year
        form.fiscal_year, form.year_source = year, "form" if year else None
        pending_year = None
        return FormBuilder(
            form=form,
            title_seen=title is not None,
            titled=inherited is not None,
            previous_layout=last_layout,
        )

    for row in rows:
        items = row.items()
        if not items:
            continue
        joined = compact(row.joined())
        title = _title(row)
        if title is None and len(items) == 1 and previous_free_text:
            title = _title_text(previous_free_text + joined)  # a title wrapped over two lines
        previous_free_text = joined if len(items) == 1 and title is None else ""
        if title is not None:
            last_title = title
            if builder is not None and not builder.form.name and not builder.raw:
                builder.title_seen = builder.titled = True  # a title before anything was read
                builder.form.first_page = None
                builder.form.form_type = title.form_type
                if builder.form.fiscal_year is None and title.year:
                    builder.form.fiscal_year, builder.form.year_source = title.year, "form"
            elif builder is None or not _same_title_repeated(builder, title):
                builder = start(row, title)
            else:  # the title printed again on the form's next page, or a new form's
                repeated_title = title
            continue
        year = _year_line(joined)
        if year is not None and len(items) <= 2:
            if builder is not None:
                _read_money_unit(builder, joined)  # '（2027年度）   单位：万元'
            if repeated_title is not None:
                pending_year = year
            elif builder is not None and not builder.raw:
                if builder.form.fiscal_year is None:
                    builder.form.fiscal_year, builder.form.year_source = year, "form"
            elif builder is None or builder.table_done:
                pending_year = year
            continue

        layout = _indicator_layout(row)
        header = _header_fields(row) if layout is None else {}
        if "name" in header and (
            builder is None or (header["name"][1] and (builder.form.name or builder.table_done))
        ):
            builder = start(row, repeated_title)  # a header over no value starts nothing
        elif repeated_title is not None:
            pending_year = None  # the repeated title's year line: the current form's
        repeated_title = None
        if builder is None:
            if row.in_table:
                pending_year = None  # a year line over some other table
            continue
        if builder.layout is not None and builder.layout.blocks and row.in_table:
            project = _project_cell(row, builder.layout)
            if project is not None and _starts_project(builder, project, row):
                builder = _next_project(builder, start(row), project, row)
        if row.in_table or builder.layout is None:  # not the prose after a form's table
            builder.form.last_page = row.page or builder.form.last_page
        if not builder.table_done:
            builder.labels.update(_label_key(text) for _, text in items)
        if builder.layout is None or _is_total(row.texts):
            _flag_cells(builder.form, row, "total" if builder.layout else "header")
        builder.form.first_page = builder.form.first_page or row.page
        for note in doc.grids[row.block].notes:  # what the reader could not place in the block
            if note not in builder.form.notes:
                builder.form.notes.append(note)
        _read_money_unit(builder, joined)
        if layout is None and _read_form_extra(builder, row) and not header:
            continue  # a row of labels the form's columns do not hold, and their texts
        if header:
            _apply_header(builder, header, row)
            if header.keys() & {"name", "unit_name", "department", "implementing_unit"}:
                _read_fund_row(builder, row)  # '主管部门 | X | 年度资金总额 | 300' on one row
                continue
        _read_row(builder, row, joined, layout)
    finish()
    if blank_pages:
        pages = ", ".join(str(p) for p in blank_pages if p is not None)
        doc.notes.append(
            f"{len(blank_pages)} blank template(s) (a form's table printed with no values, "
            f"not a form) on page(s) {pages}"
        )
    for form in listed.forms:
        _settle_year(form, evidence)  # a list's title without a year: the page, the document…
    return listed.with_forms(forms)


def _label_key(text: str) -> str:
    """A cell's text as labels are matched: no spaces, ASCII parentheses, no trailing colon."""
    return compact(text).replace("（", "(").replace("）", ")").rstrip(":：")


def _title(row: Row) -> Title | None:
    if len(row.items()) > 2:
        return None
    return _title_text(compact(row.joined()))


def _title_text(text: str) -> Title | None:
    """A title line, after any table number or unit code printed before it."""
    text = TITLE_PREFIX.sub("", text)
    family = family_of_title(text) if len(text) <= 50 else None
    if family is None:
        return None
    year = YEAR_IN_PARENS.search(text) or YEAR_OF_TITLE.search(text)
    return Title(family.form_type, int(year.group(1)) if year else None)


def _same_title_repeated(builder: FormBuilder, title: Title) -> bool:
    """A title reprinted on the next page of a form whose table is still being read."""
    return (
        builder.title_seen
        and not builder.table_done
        and title.form_type == builder.form.form_type
        and (title.year is None or title.year == builder.form.fiscal_year)
    )


def _year_line(text: str) -> int | None:
    match = YEAR_IN_PARENS.search(text) or re.fullmatch(r"(\d{4})年度?", text)
    if match and len(text) <= 16:
        return int(match.group(1))
    if text.startswith(("评价时段", "年度:", "年度：", "评价年度")):
        match = YEAR_ANYWHERE.search(text) or re.search(r"(\d{4})", text)
        return int(match.group(1)) if match else None
    return None


DOCUMENT_TITLE_PAGES = 3  # the pages where a package prints its own title (cover, contents)
HEADING_LENGTH = 40  # a line longer than this is prose, not a heading


def _package_evidence(rows: list[Row], source_name: str) -> PackageEvidence:
    """Years printed in page headings and in the document's title, the file name's, and the
    issuer the title on the first page names."""
    pages: dict[int | None, int] = {}
    first_page = next((r.page for r in rows if r.page is not None), None)
    opening: dict[int | None, str] = {}  # the first pages' headings, a title over several lines
    for row in rows:
        if row.in_table:
            continue
        text = compact(row.joined())
        if len(text) > HEADING_LENGTH:
            continue
        near_start = row.page is None or first_page is None or row.page < first_page + 3
        if near_start:
            opening[row.page] = opening.get(row.page, "") + text
        match = PACKAGE_HEADING.search(text)
        if match is not None:
            pages.setdefault(row.page, int(match.group(1)))
    titles = (PACKAGE_HEADING.search(text) for text in opening.values())
    document = next((int(match.group(1)) for match in titles if match), None)
    named = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", source_name)
    cover = PACKAGE_TITLE.match(next(iter(opening.values()), ""))
    return PackageEvidence(
        pages,
        document,
        int(named.group(0)) if named else None,
        cover.group("issuer") if cover else None,
    )


def _settle_year(form: Form, evidence: PackageEvidence) -> None:
    """The year from the best evidence where the form prints none (Form.year_source)."""
    if form.fiscal_year is not None:
        return
    candidates = (
        ("page", evidence.pages.get(form.first_page)),
        ("document", evidence.document),
        ("dates", form.planned_start.year if form.planned_start else None),
        ("file_name", evidence.file_name),
    )
    for source, year in candidates:
        if year is not None:
            form.fiscal_year, form.year_source = year, source
            return


_INLINE_LABEL = re.compile(
    "(" + "|".join(pattern.pattern for pattern, _ in HEADER_LABELS) + r")\s*[:：]"
)
_MONEY_UNIT = re.compile(r"(金额)?单位[:：]\s*(万元|元)\s*$")


def _split_inline_labels(items: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """'项目名称：X 主管部门：Y' printed as one line → one item per label; '单位：万元' dropped."""
    out: list[tuple[int, str]] = []
    for col, text in items:
        text = _MONEY_UNIT.sub("", text.strip()) or text
        same_length = text.replace("（", "(").replace("）", ")")
        starts = [m.start() for m in _INLINE_LABEL.finditer(same_length)]
        if len(starts) < 2:
            out.append((col, text))
            continue
        bounds = [*starts, len(text)]
        out.extend((col, text[a:b].strip()) for a, b in zip(bounds, bounds[1:]))
    return out


def _label_field(text: str) -> str | None:
    """The header field a label names ('项目名称', '主管部门及代码：', '实施单位（盖章）'), or None."""
    key = re.sub(r"\((盖章|签章|公章)\)$", "", _label_key(text))
    return next((name for pattern, name in HEADER_LABELS if pattern.fullmatch(key)), None)


def _header_fields(row: Row) -> dict[str, tuple[int, str]]:
    """Field → (label column, value) for header labels on this row ('项目名称 | X')."""
    found: dict[str, tuple[int, str]] = {}
    items = _split_inline_labels(row.items())
    for k, (col, text) in enumerate(items):
        label, _, inline = re.sub("：", ":", text).partition(":")
        field_name = _label_field(label)
        if field_name is None and len(items) == 1 and row.in_table:
            field_name, inline = _label_run_on(text)  # '专项（项目）名称伯乐奖': one cell
        if field_name is None:
            continue
        value = inline.strip()
        if not value and k + 1 < len(items) and not _is_label(items[k + 1][1]):
            value = items[k + 1][1]
        if field_name not in found:
            found[field_name] = (col, value)
    return found


_RUN_ON_LABEL = re.compile(
    "(" + "|".join(pattern.pattern for pattern, name in HEADER_LABELS if name == "name") + ")"
)


def _label_run_on(text: str) -> tuple[str | None, str]:
    """A name label with its value run on in the same cell, no colon between them."""
    same_length = text.replace("（", "(").replace("）", ")")
    match = _RUN_ON_LABEL.match(same_length)
    if match is None or match.end() == len(text):
        return None, ""
    return "name", text[match.end() :]


def _is_label(text: str) -> bool:
    key = _label_key(text)
    return (
        _label_field(key) is not None
        or _fund_line_name(key) is not None
        or any(pattern.match(key) for pattern, _ in FUND_COLUMNS)
    )


def _extra_label(text: str) -> str | None:
    """The forms.extra_fields label a cell prints ('评价结论', '2.项目实施内容及过程概述'), or None."""
    key = re.sub(r"^\d{1,2}\s*[.、．]", "", _label_key(text))
    return key if key in FORM_EXTRA_LABELS else None


def _read_form_extra(builder: FormBuilder, row: Row) -> bool:
    """Keep 'label | text' (or 'label：text') pairs of FORM_EXTRA_LABELS in ``form.extra_fields``;
    returns whether the row held nothing else."""
    items = row.items()
    read = False
    consumed: set[int] = set()
    for k, (_, text) in enumerate(items):
        label, colon, inline = re.sub("：", ":", text).partition(":")
        name = _extra_label(label if colon else text)
        if name is None:
            continue
        read = True
        consumed.add(k)
        value = inline.strip()
        if not value and k + 1 < len(items) and _extra_label(items[k + 1][1]) is None:
            value = items[k + 1][1]
            consumed.add(k + 1)
        if value and name not in builder.form.extra_fields:
            builder.form.extra_fields[name] = value
    return read and len(consumed) == len(items)


def _apply_header(builder: FormBuilder, header: dict[str, tuple[int, str]], row: Row) -> None:
    form = builder.form
    for name, (col, value) in header.items():
        if name in ("name", "department", "implementing_unit"):
            if value and not getattr(form, name):
                setattr(form, name, value)
        elif name == "unit_name":
            builder.unit_name = builder.unit_name or value or None
        elif name == "planned_start":
            form.planned_start = parse_date(value)
        elif name == "planned_end":
            form.planned_end = parse_date(value, end=True)
        elif name == "policy_dates":
            parts = re.split(r"至|到|—|~|－", value)
            form.planned_start = parse_date(parts[0]) if parts else None
            form.planned_end = parse_date(parts[-1], end=True) if len(parts) > 1 else None
        elif name == "project_funds_total":
            form.project_funds_total = _read_number(form, name, value, builder.parse_money)
        elif name == "annual_request":
            builder.annual_col = col
            amount = _read_number(form, "budget_full_year", value, builder.parse_money)
            form.budget_full_year = amount
            _fund_line(form, "年度资金总额").budget_full_year = amount
    if form.department is None and form.form_type.startswith("department_") and form.name:
        form.department = form.name


def _fund_line(form: Form, name: str) -> FundLine:
    for line in form.fund_lines:
        if line.line == name:
            return line
    line = FundLine(line=name)
    form.fund_lines.append(line)
    return line


def _prints_levels_like(layout: Layout | None, row: Row) -> bool:
    """A table row of the same width printing a 一级 name where the layout has its 一级 column."""
    if layout is None or not row.in_table or len(row.texts) != layout.n_cols:
        return False
    col = layout.first("l1")
    return col is not None and canonical_level(LEVEL_WEIGHT.sub("", row.texts[col])) in LEVEL1


def _read_money_unit(builder: FormBuilder, joined: str) -> None:
    """'单位：万元' above the table or '（万元）' in a funds label: amounts are in 万元."""
    if re.search(r"[(（]\s*万元\s*[)）]|单位[:：]\s*万元", joined) and not builder.raw:
        builder.money_multiplier = 10000
        builder.form.money_unit = "万元"


def _read_row(builder: FormBuilder, row: Row, joined: str, layout: Layout | None) -> None:
    """Dispatch a row of a form to the block it belongs to (``layout``: it is a table header)."""
    if layout is not None:
        builder.layout = layout
        builder.goal_columns = None
        return
    if builder.table_done:
        return
    if builder.layout is None and _prints_levels_like(builder.previous_layout, row):
        builder.layout = builder.previous_layout  # the template's table, its header not reprinted
    if builder.layout is not None:
        if row.in_table:  # free text after the table (填表人, a note) holds no indicator
            _read_indicator_row(builder, row)
        return
    fund_columns = _fund_header(row)
    if fund_columns:
        builder.fund_columns = fund_columns
        builder.fund_spans = {role: _header_columns(row, col) for role, col in fund_columns.items()}
        return
    if _read_fund_row(builder, row):
        return
    _read_goal_row(builder, row)


LOW_CONFIDENCE = 0.85  # OCR confidence below which a cell is flagged for review


def _uncertain(cell: Cell) -> bool:
    return cell.note is not None or (
        cell.confidence is not None and cell.confidence < LOW_CONFIDENCE
    )


def _flag_cells(form: Form, row: Row, field_name: str, ordinal: int | None = None) -> None:
    """Record OCR cells of a header or total row that were corrected or read with low confidence."""
    for col, _ in row.items():
        cell = row.cells[col]
        if cell is not None and _uncertain(cell):
            form.flagged_cells.append(_flag(field_name, cell, ordinal))


def _read_number(
    form: Form,
    field_name: str,
    text: str | None,
    parse: Callable[[str | None], N | None],
    ordinal: int | None = None,
    page: int | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> N | None:
    """``parse(text)``; text that is neither blank nor a number is flagged as unreadable."""
    value = parse(text)
    if value is None and not is_blank(text):
        form.flagged_cells.append(
            FlaggedCell(
                field_name, normalize_text(text), ordinal, page=page, bbox=bbox, unreadable=True
            )
        )
    return value


def _flag(field_name: str, cell: Cell, ordinal: int | None) -> FlaggedCell:
    return FlaggedCell(
        field=field_name,
        text=normalize_text(cell.text),
        row_ordinal=ordinal,
        confidence=cell.confidence,
        note=cell.note,
        page=cell.page,
        bbox=cell.bbox,
    )


# ---------------------------------------------------------------- funds block


def _fund_header(row: Row) -> dict[str, int] | None:
    """Columns of the funds block: 年初预算数 … 得分, or 子项目名称 | 预算金额 on a policy form."""
    keys = {compact(t): c for c, t in row.items()}
    sub = next((c for k, c in keys.items() if k.startswith("子项目名称")), None)
    amount = next((c for k, c in keys.items() if k.startswith("预算金额")), None)
    if sub is not None and amount is not None:
        return {"subproject": sub, "budget_full_year": amount}
    columns: dict[str, int] = {}
    for col, text in row.items():
        key = _label_key(text)
        role = next((role for pattern, role in FUND_COLUMNS if pattern.match(key)), None)
        if role is not None and role not in columns:
            columns[role] = col
    money = {"budget_initial", "budget_full_year", "budget_executed"}
    return columns if len(money & set(columns)) >= 2 else None


def _fund_line_label(text: str) -> str:
    """A funds line's label as printed, without '其中：' and its money unit."""
    key = re.sub(r"^其中[:：]?", "", _label_key(text))
    return re.sub(r"\((万?元)\)$", "", key).rstrip(":：")


def _fund_line_name(text: str) -> str | None:
    return FUND_LINES.get(_fund_line_label(text))


def _column_fund_line(builder: FormBuilder, name: str, label: str) -> str:
    """The line a printed label fills: its canonical line, unless the block already filled that
    line from another label (Sichuan prints 单位资金 and 其他资金): then each keeps its own label."""
    first = builder.fund_labels.setdefault(name, label)
    if first == label or name == "年度资金总额":
        return name
    if label == name:  # the canonical word comes second: the line read first keeps its own label
        _fund_line(builder.form, name).line = first
        builder.fund_labels[first] = first
        builder.fund_labels[name] = label
        return name
    builder.fund_labels[label] = label
    return label


def _read_fund_row(builder: FormBuilder, row: Row) -> bool:
    """A 年度资金总额 / 当年财政拨款 / … line; returns whether the row was one."""
    form = builder.form
    items = row.items()
    columns = builder.fund_columns or {}
    if "subproject" in columns:
        name = row.texts[columns["subproject"]] if columns["subproject"] < len(row.texts) else ""
        amount_col = columns["budget_full_year"]
        amount = row.texts[amount_col] if amount_col < len(row.texts) else ""
        money = parse_money(amount, builder.money_multiplier)
        if name and money is not None:
            _fund_line(form, name).budget_full_year = money
            return True
    names = [_fund_line_name(text) for _, text in items]
    if sum(name is not None for name in names) > 1 and not any(
        parse_number(text) is not None for _, text in items
    ):
        return True  # a sub-header naming lines as columns ('总额 | 财政拨款 | 其他资金')
    matched = False
    for k, ((col, text), name) in enumerate(zip(items, names, strict=True)):
        if name is None:
            continue
        matched = True
        if builder.fund_columns is not None and "subproject" not in builder.fund_columns:
            line = _column_fund_line(builder, name, _fund_line_label(text))
            _read_fund_columns(builder, row, line, row.cells[col])
            return True
        # target declarations: 'label | amount' pairs, the year's block right of 年度资金申请总额
        if builder.annual_col is not None and col < builder.annual_col:
            continue
        value = items[k + 1][1] if k + 1 < len(items) else ""
        amount = parse_money(value, builder.money_multiplier)
        if amount is not None:
            _fund_line(form, name).budget_full_year = amount
    return matched


def _read_fund_columns(
    builder: FormBuilder, row: Row, name: str, label: Cell | None = None
) -> None:
    """A funds line's values, each from the cell under its header: the one starting in the
    header's column, or in another column the header spans (a value printed off its header's
    centre where the page rules no columns), never the line's own label."""
    columns = builder.fund_columns or {}

    def cell(role: str) -> str:
        col = columns.get(role)
        if col is None or col >= len(row.texts):
            return ""
        if row.starts[col] and row.cells[col] is not label:
            return row.texts[col]
        for other in builder.fund_spans.get(role, []):
            if other < len(row.texts) and row.starts[other] and row.lefts[other]:
                if row.texts[other] and row.cells[other] is not label:
                    return row.texts[other]
        return ""

    line = _fund_line(builder.form, name)
    line.page, line.bbox = row.page, row.bbox()

    def read(role: str, parse: Callable[[str | None], N | None]) -> N | None:
        field_name = f"{role} ({name})"
        return _read_number(builder.form, field_name, cell(role), parse, None, row.page, line.bbox)

    line.budget_initial = read("budget_initial", builder.parse_money)
    line.budget_full_year = read("budget_full_year", builder.parse_money)
    line.budget_executed = read("budget_executed", builder.parse_money)
    line.weight = read("weight", parse_points)
    line.execution_rate = read("execution_rate", parse_rate)
    line.score = read("score", parse_points)
    if name == "年度资金总额":
        form = builder.form
        form.budget_initial = line.budget_initial
        form.budget_full_year = line.budget_full_year
        form.budget_executed = line.budget_executed
        form.execution_rate = line.execution_rate
        form.execution_rate_decimals = rate_decimals(cell("execution_rate"))
        form.budget_weight = line.weight
        form.budget_score = line.score


# ---------------------------------------------------------------- goal block


def _read_goal_row(builder: FormBuilder, row: Row) -> None:
    form = builder.form
    items = row.items()
    keys = [compact(t) for _, t in items]
    planned = [c for (c, _), k in zip(items, keys, strict=True) if k in GOAL_PLANNED]
    actual = [c for (c, _), k in zip(items, keys, strict=True) if k in GOAL_ACTUAL]
    overall = [c for (c, _), k in zip(items, keys, strict=True) if k in GOAL_OVERALL]
    texts = [(c, t) for (c, t), k in zip(items, keys, strict=True) if not _is_goal_label(k)]
    if (planned and (actual or overall)) or (overall and planned):
        builder.goal_columns = {"planned": planned[-1]}
        if actual:
            builder.goal_columns["actual"] = actual[0]
        if overall:
            builder.goal_columns["overall"] = overall[0]
        if not texts:
            return
    if builder.goal_columns and texts:
        bounds = sorted(builder.goal_columns.items(), key=lambda kv: kv[1])
        for col, text in texts:
            cell = row.cells[col]
            span = cell.colspan if cell is not None and row.spans_known else 1
            role = next((name for name, start in bounds if col <= start < col + span), None)
            for name, start in bounds if role is None else []:
                if col >= start:
                    role = name
            if role is None:
                continue
            attr = {"planned": "goal_planned", "actual": "goal_actual", "overall": "goal_overall"}
            if not getattr(form, attr[role]):
                setattr(form, attr[role], text)
        return
    # 'label | text' pairs: 总目标 | …, 年度总体目标 | …
    for k, (_, text) in enumerate(items[:-1]):
        key = compact(text)
        value = items[k + 1][1]
        if key in GOAL_OVERALL and not form.goal_overall:
            form.goal_overall = value
        elif key in GOAL_PLANNED and not form.goal_planned and not _is_goal_label(compact(value)):
            form.goal_planned = value


def _is_goal_label(key: str) -> bool:
    return key in GOAL_PLANNED or key in GOAL_ACTUAL or key in GOAL_OVERALL or key in GOAL_GROUPS


# ---------------------------------------------------------------- indicator table


def _indicator_layout(row: Row) -> Layout | None:
    """The indicator table's columns from its header row, each by what its header says."""
    roles: dict[str, list[int]] = {}
    blocks: dict[str, int] = {}
    unknown: dict[int, str] = {}
    repeated: dict[str, int] = {}  # a level header printed again in its own cell: its column
    for col, text in enumerate(row.texts):
        if not text or not row.lefts[col]:
            continue
        key = _label_key(text)
        block = next((name for name, pattern in BLOCK_ROLES if pattern.search(key)), None)
        if block is not None and block not in blocks:
            blocks[block] = col
            continue
        role = next((name for name, pattern in COLUMN_ROLES if pattern.search(key)), None)
        if role is None:
            unknown[col] = compact(text)
        elif role not in roles:
            roles[role] = _header_columns(row, col)
        else:
            repeated.setdefault(role, col)
    _next_level_misread(roles, repeated)
    _level_of_lost_ordinal(roles, unknown, row)
    levels = "l1" in roles and ("l3" in roles or "l2" in roles)
    no_levels = "l3" in roles and bool(roles.keys() & {"target", "actual", "weight"})
    if not (levels or no_levels):
        return None
    if "outer" in roles and "l1" in roles and roles["outer"][0] > roles["l1"][0]:
        del roles["outer"]
    if "project_name" not in blocks:
        blocks = {}  # a 绩效目标 column without project columns is the outer label
    else:  # columns left of the indicators belong to the project block (its amounts)
        first = min(c for cols in roles.values() for c in cols)
        unknown = {c: h for c, h in unknown.items() if c > first}
    header_cells = {id(cell) for cell in row.cells if cell is not None}
    return Layout(roles, len(row.texts), unknown, blocks, header_cells)


def _next_level_misread(roles: dict[str, list[int]], repeated: dict[str, int]) -> None:
    """A table heads its level columns 一级, 二级, 三级 once each, left to right: a 一级 (二级)
    header printed again right after its own column, where no 二级 (三级) header stands, is the
    next level's with its numeral misread (二 is 一 with one more stroke, 三 is 二)."""
    for level, following in (("l1", "l2"), ("l2", "l3")):
        col = repeated.get(level)
        if col is not None and following not in roles and col == roles[level][-1] + 1:
            roles[following] = [col]


_ORDINAL_LOST = re.compile(r"^级(指标|目标)$")
_LEVELS = ("l1", "l2", "l3")


def _level_of_lost_ordinal(roles: dict[str, list[int]], unknown: dict[int, str], row: Row) -> None:
    """A level header read without its ordinal ('级指标': 一 is one thin stroke, the glyph a scan
    loses in a narrow cell printed a character a line) is the one level the header lacks, when
    its column sits where that level prints (一级 left of 二级 left of 三级)."""
    lost = [col for col, text in unknown.items() if _ORDINAL_LOST.match(_label_key(text))]
    missing = [level for level in _LEVELS if level not in roles]
    if len(lost) != 1 or len(missing) != 1:
        return
    col, level = lost[0], missing[0]
    order = [
        col if name == level else roles[name][0]
        for name in _LEVELS
        if name in roles or name == level
    ]
    if order != sorted(order):
        return
    roles[level] = _header_columns(row, col)
    del unknown[col]


def _header_columns(row: Row, col: int) -> list[int]:
    """The columns a header cell starting at ``col`` heads (its span, where spans are known)."""
    cell = row.cells[col]
    span = cell.colspan if cell is not None and row.spans_known else 1
    return list(range(col, col + span))


def _project_cell(row: Row, layout: Layout) -> tuple[Cell, str] | None:
    """A project block's name cell on this row, and the block's key (code, name, amount)."""
    col = layout.blocks["project_name"]
    cell = row.cells[col] if col < len(row.cells) else None
    if cell is None or not row.texts[col] or id(cell) in layout.header_cells:
        return None
    if any(pattern.search(_label_key(row.texts[col])) for _, pattern in BLOCK_ROLES):
        return None  # the table's header printed again on its next page
    key = "|".join(
        compact(row.texts[c]) if c < len(row.texts) else ""
        for role, c in layout.blocks.items()
        if role != "project_goal"  # a goal cut by the page break reads differently
    )
    return cell, key


def _starts_project(builder: FormBuilder, project: tuple[Cell, str], row: Row) -> bool:
    """A new project block; the same block's cell printed again on its next page continues it."""
    if builder.project is None:
        return True
    cell, key = project
    current_cell, current_key = builder.project
    if cell is current_cell:
        return False
    if key == current_key and cell.page != current_cell.page:
        builder.project = project
        return False
    return True


def _next_project(
    previous: FormBuilder, builder: FormBuilder, project: tuple[Cell, str], row: Row
) -> FormBuilder:
    """A form for the next project block: the table's header carries over, the block's cells
    give its name, 资金总额 and goal."""
    layout = previous.layout
    assert layout is not None
    form, before = builder.form, previous.form
    form.form_type, form.department = before.form_type, before.department
    form.fiscal_year, form.year_source = before.fiscal_year, before.year_source
    form.implementing_unit, form.money_unit = before.implementing_unit, before.money_unit
    builder.money_multiplier, builder.unit_name = previous.money_multiplier, previous.unit_name
    builder.title_seen, builder.labels, builder.layout = (
        previous.title_seen,
        previous.labels,
        layout,
    )
    builder.project = project
    form.name = row.texts[layout.blocks["project_name"]]

    def block_text(role: str) -> str:
        col = layout.blocks.get(role)
        return row.texts[col] if col is not None and col < len(row.texts) else ""

    amount = _read_number(
        form, "budget_full_year", block_text("project_funds"), builder.parse_money
    )
    if amount is not None:
        form.budget_full_year = amount
        _fund_line(form, "年度资金总额").budget_full_year = amount
    form.goal_planned = block_text("project_goal") or None
    return builder


def _is_total(texts: list[str]) -> bool:
    return any(compact(t) in TOTAL_WORDS for t in texts if t)


def _read_indicator_row(builder: FormBuilder, row: Row) -> None:
    layout = builder.layout
    assert layout is not None
    texts = row.texts
    if layout.blocks and not any(
        texts[c] for cols in layout.roles.values() for c in cols if c < len(texts)
    ):
        return  # a list's total or unit line: project columns only, no indicator
    if _is_total(texts):
        numbers = [parse_points(t) for t in texts if parse_points(t) is not None]
        weight = _role_text(row, layout, "weight") if row.spans_known else ""
        score = _role_text(row, layout, "score") if row.spans_known else ""
        w, s = parse_points(weight), parse_points(score)
        if w is None and s is None and numbers:
            w = numbers[0] if len(numbers) > 1 else None
            s = numbers[-1]
        builder.form.total_weight, builder.form.total_score = w, s
        builder.form.total_page, builder.form.total_bbox = row.page, row.bbox()
        builder.table_done = True
        return
    raw = _row_by_geometry(row, layout) if row.spans_known else _row_by_content(row, layout)
    if raw is None:
        return
    if raw.spans_known and builder.raw and _continues_previous(layout, builder.raw[-1], raw):
        _join_rows(builder.raw[-1], raw)
        return
    if _is_fragment(raw):
        _attach_fragment(builder, raw)
        return
    _take_fragment(builder, raw)
    builder.raw.append(raw)


def _role_text(row: Row, layout: Layout, role: str, top_only: bool = True) -> str:
    """The text of the cells in a role's columns; a cell reaching in from another column (a
    continuation page whose columns sit apart from the header's) is not this role's, unless it
    covers all of the role's columns and reaches in only from columns with no header."""
    parts: list[str] = []
    seen: set[int] = set()
    columns = layout.roles.get(role, [])
    headed = {c for cols in layout.roles.values() for c in cols} | set(layout.extra)
    for col in columns:
        if col >= len(row.texts):
            continue
        cell = row.cells[col]
        if cell is None or id(cell) in seen or (top_only and not row.starts[col]):
            continue
        if cell.col not in columns and (
            headed.intersection(range(cell.col, col))
            or not set(columns) <= set(range(cell.col, cell.col + cell.colspan))
        ):
            continue
        seen.add(id(cell))
        if row.texts[col]:
            parts.append(row.texts[col])
    return " ".join(parts)


def _row_by_geometry(row: Row, layout: Layout) -> RawIndicator | None:
    """Read a row whose merged cells are known: parents come from the cells covering the row."""
    raw = RawIndicator(
        l1=_role_text(row, layout, "l1", top_only=False),
        l2=_role_text(row, layout, "l2", top_only=False),
        l3=_role_text(row, layout, "l3"),
        target=_role_text(row, layout, "target"),
        actual=_role_text(row, layout, "actual"),
        weight=_role_text(row, layout, "weight"),
        score=_role_text(row, layout, "score"),
        reason=_role_text(row, layout, "reason"),
        unit=_role_text(row, layout, "unit"),
        op=_role_text(row, layout, "op"),
        extra={
            header: row.texts[col]
            for col, header in layout.extra.items()
            if col < len(row.texts) and row.texts[col] and row.starts[col]
        },
        page=row.page,
        block=row.block,
        spans_known=row.row_spans_seen,  # else the levels' spans are inferred
        bbox=row.bbox(),
        uncertain=[
            (role, cell)
            for role, cols in layout.roles.items()
            if role != "outer" and cols[0] < len(row.cells)
            for cell in [row.cells[cols[0]]]
            if cell is not None and _uncertain(cell)
        ],
        level_cells={
            role: id(cell)
            for role in ("l1", "l2")
            for col in [layout.first(role)]
            if col is not None and col < len(row.cells)
            for cell in [row.cells[col]]
            if cell is not None
        },
    )
    raw.levels_inferred = row.spans_inferred and any(
        cell.rowspan > 1
        for role, cols in layout.roles.items()
        if role in ("l1", "l2") and cols[0] < len(row.cells)
        for cell in [row.cells[cols[0]]]
        if cell is not None
    )
    # a 年度指标值 cell merged with 实际完成值 holds the target only (DOMAIN.md §3.1 R3)
    t_cols, a_cols = layout.roles.get("target", []), layout.roles.get("actual", [])
    if t_cols and a_cols and max(t_cols[0], a_cols[0]) < len(row.cells):
        if row.cells[t_cols[0]] is row.cells[a_cols[0]]:
            raw.actual = ""
    _fix_levels(raw)
    return raw


def _row_by_content(row: Row, layout: Layout) -> RawIndicator | None:
    """Read a flat-text row whose cells may sit one column off (DOMAIN.md §0)."""
    cells = list(row.texts)
    last_text = max((i for i, t in enumerate(cells) if t), default=-1)
    if last_text < 0:
        return None
    cells = cells[: max(layout.n_cols, last_text + 1)]
    value_roles = [r for r in VALUE_ROLES if r in layout.roles]
    weight = score = reason = ""
    if layout.scored:
        anchor = _weight_score_anchor(cells)
        if anchor is None:
            return _fragment_row(cells, layout, row)
        weight, score = cells[anchor], cells[anchor + 1]
        reason = " ".join(t for t in cells[anchor + 2 :] if t)
        cells = cells[:anchor]
    elif value_roles:
        cells = cells[: max(layout.first(value_roles[-1]) + 1, last_text + 1)]
    cells = [t for t in cells if compact(t) not in ("绩效指标", "绩效目标")]
    n_values = len(value_roles)
    values = cells[len(cells) - n_values :] if n_values else []
    values = [""] * (n_values - len(values)) + values
    l1, l2, unknown = _classify_levels(cells[: len(cells) - n_values])
    l3 = unknown[0] if unknown else ""
    if len(unknown) > 1 and values and not values[0]:
        values = [unknown[-1], *values[1:]]  # a value printed one column left of its slot
    if not l3 and values and values[0] and (n_values > 1 or not _looks_like_value(values[0])):
        # no 三级 in the level columns: the first value slot holds it; a single value left over
        # is a 年度指标值 cell merged with 实际完成值, read as the target (DOMAIN.md §3.1 R3)
        l3, values = values[0], [*values[1:], ""]
    raw = RawIndicator(
        l1=l1,
        l2=l2,
        l3=l3,
        target=values[0] if values else "",
        actual=values[1] if len(values) > 1 else "",
        weight=weight,
        score=score,
        reason=reason,
        unit="",
        page=row.page,
        block=row.block,
        spans_known=False,
    )
    if not (raw.l3 or raw.target or raw.actual or raw.weight or raw.score or raw.reason):
        if not (raw.l1 or raw.l2):
            return None
        raw.label_only = True
    return raw


def _looks_like_value(text: str) -> bool:
    return parse_value(text).value is not None or len(text) <= 4


def _weight_score_anchor(cells: list[str]) -> int | None:
    """Index of the 分值 cell: the rightmost pair of adjacent numbers."""
    for i in range(len(cells) - 2, -1, -1):
        if parse_points(cells[i]) is not None and parse_points(cells[i + 1]) is not None:
            return i
    return None


def _fragment_row(cells: list[str], layout: Layout, row: Row) -> RawIndicator | None:
    """A row with no 分值/得分: a label-only row or a piece of a row cut by a page break."""
    texts = [(i, t) for i, t in enumerate(cells) if t and compact(t) not in ("绩效指标",)]
    if not texts:
        return None
    l1, l2, unknown = _classify_levels([t for _, t in texts])
    raw = RawIndicator(
        l1=l1,
        l2=l2,
        l3="",
        target="",
        actual="",
        weight="",
        score="",
        reason="",
        unit="",
        page=row.page,
        block=row.block,
        spans_known=False,
    )
    if len(unknown) == 1 and texts[-1][0] > (layout.first("target") or 0):
        raw.reason = unknown[0]  # a piece of a deviation reason cut by a page break
    elif unknown:
        raw.l3 = unknown[0]
        raw.target = unknown[1] if len(unknown) > 1 else ""
        raw.actual = unknown[2] if len(unknown) > 2 else ""
    raw.label_only = not (raw.l3 or raw.reason)
    return raw


def _classify_levels(texts: list[str]) -> tuple[str, str, list[str]]:
    """Split level-column texts into 一级, 二级 and the rest (三级 candidates) by vocabulary."""
    l1 = l2 = ""
    unknown: list[str] = []
    names = [canonical_level(t) if t else "" for t in texts]
    for i, (text, name) in enumerate(zip(texts, names, strict=True)):
        if not text:
            continue
        is1, is2 = name in LEVEL1, name in LEVEL2
        if is1 and is2:  # 满意度指标 / 成本指标 serve as both: a pure 二级 after it makes it 一级
            later_l2 = any(n in LEVEL2 and n not in LEVEL1 for n in names[i + 1 :])
            is1, is2 = (True, False) if later_l2 or (not l1 and i == 0) else (False, True)
        if is1 and not l1:
            l1 = text
        elif is2 and not l2:
            l2 = text
        elif is2 and canonical_level(l2) == name:
            continue  # the same 二级 printed twice (once in the 一级 column)
        else:
            unknown.append(text)
    return l1, l2, unknown


def _fix_levels(raw: RawIndicator) -> None:
    """Undo a level printed in the wrong column (a 二级 name in the 一级 column)."""
    n1, n2 = canonical_level(raw.l1), canonical_level(raw.l2)
    if raw.l1 and n1 not in LEVEL1 and n1 in LEVEL2 and (not raw.l2 or n1 == n2):
        raw.l2, raw.l1, raw.fixed_l1 = raw.l2 or raw.l1, "", False
    if not raw.l3 and raw.target and not raw.actual and not _looks_like_value(raw.target):
        raw.l3, raw.target = raw.target, ""  # a 三级 printed in the value column
    if not (raw.l3 or raw.target or raw.actual or raw.weight or raw.score or raw.reason):
        raw.label_only = True


def _continues_previous(layout: Layout, previous: RawIndicator, raw: RawIndicator) -> bool:
    """The top row of a page is the rest of the last row of the previous page.

    Producers that close every cell at a page break (LibreOffice) draw a ruling above the
    continuation, so the reader sees two rows; the missing 分值/得分 give it away.
    """
    return (
        layout.scored
        and raw.page is not None
        and previous.page is not None
        and raw.page > previous.page
        and not (raw.weight or raw.score)
        and parse_points(previous.weight) is not None
        and (raw.l2 in ("", previous.l2))
        and bool(raw.l3 or raw.target or raw.actual or raw.reason)
    )


def _join_rows(previous: RawIndicator, raw: RawIndicator) -> None:
    for name in ("l3", "target", "actual", "reason"):
        setattr(previous, name, getattr(previous, name) + getattr(raw, name))
    for header, text in raw.extra.items():
        previous.extra[header] = previous.extra.get(header, "") + text
    previous.uncertain.extend(raw.uncertain)


def _is_fragment(raw: RawIndicator) -> bool:
    return bool(raw.reason) and not (
        raw.l1 or raw.l2 or raw.l3 or raw.target or raw.actual or raw.weight or raw.score
    )


def _attach_fragment(builder: FormBuilder, raw: RawIndicator) -> None:
    """Keep a piece of a row cut by a page break until it is clear which row it belongs to."""
    previous = builder.raw[-1] if builder.raw else None
    if previous is not None and previous.block != raw.block:
        previous.reason += raw.reason  # top of a new page: the previous row continues here
    else:
        builder.pending_fragment += raw.reason
        builder.pending_block = raw.block


def _take_fragment(builder: FormBuilder, raw: RawIndicator) -> None:
    """A row that follows a pending fragment: across a page break the fragment opens this row."""
    if not builder.pending_fragment:
        return
    if raw.block != builder.pending_block or not builder.raw:
        raw.reason = builder.pending_fragment + raw.reason
    else:
        builder.raw[-1].reason += builder.pending_fragment
    builder.pending_fragment = ""


# ---------------------------------------------------------------- finishing a form


def _finish(builder: FormBuilder, evidence: PackageEvidence) -> Form | None:
    """Settle the hierarchy and build the indicator records; drop what is not a form."""
    form = builder.form
    if builder.pending_fragment and builder.raw:
        last = builder.raw[-1]
        last.reason = last.reason + builder.pending_fragment
    if builder.layout is None:
        return None  # no indicator table: a budget table or a goal-only list, not a form
    if (
        builder.layout is not None
        and not builder.raw
        and (builder.layout.blocks or builder.project)
    ):
        return None  # a list's header or its line for a unit, holding no indicator
    if _is_blank_template(builder):
        return None
    levels = _settle_hierarchy(builder.raw, form)
    ordinal = 0
    for raw, (l1, l2, inferred) in zip(builder.raw, levels, strict=True):
        if raw.label_only or not raw.l3 or PLACEHOLDER.fullmatch(raw.l3):
            continue  # a level printed with no indicator under it ('-' in the 三级 cell)
        if _template_placeholder(raw):
            continue
        ordinal += 1
        level1 = canonical_level(LEVEL_WEIGHT.sub("", l1)) or None
        level2 = canonical_level(LEVEL_WEIGHT.sub("", l2)) or None
        if level1 is None and LEVEL_WEIGHT.search(l1) and level2 in LEVEL2_PARENT:
            level1, inferred = LEVEL2_PARENT[level2], True  # the 一级 cell prints its weight only
        target = _target_value(raw)
        actual = parse_value(raw.actual)
        unit_column = raw.unit if compact(raw.unit) not in OPERATORS else None
        level1_weight = LEVEL_WEIGHT.search(l1)
        l1_weight = level1_weight and (level1_weight.group(1) or level1_weight.group(2))
        form.indicators.append(
            Indicator(
                row_ordinal=ordinal,
                level1=level1,
                level2=level2,
                level3=INDICATOR_PREFIX.sub("", raw.l3) or raw.l3,
                level1_weight=float(l1_weight) if l1_weight else None,
                target_text=raw.target or None,
                target_op=target.op,
                target_value=target.value,
                target_unit=target.unit or unit_column or None,
                actual_text=raw.actual or None,
                actual_value=actual.value,
                actual_unit=(actual.unit or target.unit or unit_column)
                if actual.value is not None
                else None,
                weight=_read_number(form, "weight", raw.weight, parse_points, ordinal, raw.page),
                score=_read_number(form, "score", raw.score, parse_points, ordinal, raw.page),
                deviation_reason=raw.reason or None,
                page=raw.page,
                hierarchy_inferred=inferred,
                bbox=raw.bbox,
                extra=raw.extra or None,
            )
        )
        form.flagged_cells.extend(_flag(name, cell, ordinal) for name, cell in raw.uncertain)
    if form.budget_full_year is None:
        total = next((f for f in form.fund_lines if f.line == "年度资金总额"), None)
        form.budget_full_year = total.budget_full_year if total else None
    _settle_family(builder)
    family = BY_FORM_TYPE[form.form_type]
    if family.department_wide:
        form.name = form.name or builder.unit_name or form.department
        form.department = form.department or builder.unit_name or form.name
    else:
        form.department = form.department or builder.unit_name
    if not form.department and evidence.issuer:
        form.department = evidence.issuer  # a package's forms are its issuer's
        form.notes.append(f"主管部门 not printed: the package's issuer, {evidence.issuer}")
        form.name = form.name or (form.department if family.department_wide else None)
    _settle_year(form, evidence)
    return form


def _settle_family(builder: FormBuilder) -> None:
    """The family a title named; else the one its labels mark; else a table printing no actual
    nor score is a target declaration."""
    form, layout = builder.form, builder.layout
    if builder.titled and form.form_type != DEFAULT_FAMILY.form_type:
        return
    marked = family_of_marks(builder.labels)
    if marked is not None:
        form.form_type = marked.form_type
    elif (
        not builder.titled and layout is not None and not layout.roles.keys() & {"actual", "score"}
    ):
        form.form_type = DECLARATION_FAMILY.form_type


def _template_placeholder(raw: RawIndicator) -> bool:
    """A template's empty numbered row ('指标2：'), its '……' line or a '指标1：/' row not applied:
    no indicator name and no value."""
    name = INDICATOR_PREFIX.sub("", raw.l3).strip()
    if name and not any(p.fullmatch(name) for p in (PLACEHOLDER, ELLIPSIS, NUMBERED_ONLY)):
        return False
    return all(is_blank(text) for text in (raw.target, raw.actual, raw.weight, raw.score))


def _is_blank_template(builder: FormBuilder) -> bool:
    """An indicator table printed with no value in any row, under no name: not a form."""
    if builder.layout is None or builder.layout.blocks or builder.form.name:
        return False
    return not any(r.target or r.actual or r.weight or r.score for r in builder.raw)


def _target_value(raw: RawIndicator) -> Value:
    """The target as printed, with the operator and unit of their own columns where it has none."""
    text, unit = raw.target, raw.unit
    op = OPERATORS.get(compact(raw.op))
    if op is None and compact(raw.unit) in OPERATORS:  # the two printed in each other's column
        op, unit = OPERATORS[compact(raw.unit)], raw.op
    if op and not is_blank(text) and not re.match(r"\s*[<>=≥≤≧≦＜＞＝]", text):
        text = op + text
    value = parse_value(text)
    if value.value is None or value.unit is not None or not unit:
        return value
    with_unit = parse_value(text + unit)  # '35.78' | '万元' → 357800 元
    return with_unit if with_unit.value is not None else Value(value.op, value.value, unit)


def _settle_hierarchy(raws: list[RawIndicator], form: Form) -> list[tuple[str, str, bool]]:
    """一级/二级 for every row: geometry where known, else vocabulary-guided span inference."""
    if all(r.spans_known for r in raws):
        return _hierarchy_from_geometry(raws)
    choice = _infer_hierarchy(raws, centred=False)
    if choice[2]:  # a 一级 printed below the top of its span: this table centres its labels
        choice = _infer_hierarchy(raws, centred=True)
    l1_labels, l2_labels, l1_moved, moved = choice
    names = [raws[i].l3 for i in sorted(moved) if raws[i].l3]
    if names:
        form.notes.append(
            "一级/二级 spans inferred from the indicator vocabulary (labels printed mid-span): "
            + "、".join(names)
        )
    return [
        (l1_labels[i] or "", l2_labels[i] or "", i in moved and bool(raws[i].l3))
        for i in range(len(raws))
    ]


def _infer_hierarchy(
    raws: list[RawIndicator], centred: bool
) -> tuple[list[str | None], list[str | None], bool, set[int]]:
    n = len(raws)

    def l2_affinity(i: int, label: str) -> float:
        if raws[i].label_only or not raws[i].l3:
            return 0.0
        evidence = level2_affinity(raws[i].l3)
        name = canonical_level(label)
        if name in STRICT_LEVEL2 and name not in evidence:
            return -0.5  # a 满意度/时效 二级 holds only 满意度/时效 rows
        return evidence.get(name, 0.0)

    l2 = infer_spans(n, {i: r.l2 for i, r in enumerate(raws) if r.l2}, l2_affinity, None, centred)
    starts = {0} | {i for i in range(1, n) if l2.labels[i] and l2.labels[i] != l2.labels[i - 1]}

    def l1_affinity(i: int, label: str) -> float:
        child = l2.labels[i]
        parent = LEVEL2_PARENT.get(canonical_level(child)) if child else None
        return 1.0 if parent is not None and parent == canonical_level(label) else 0.0

    l1_anchors = {i: r.l1 for i, r in enumerate(raws) if r.l1}
    l1 = infer_spans(n, l1_anchors, l1_affinity, starts, centred)
    return l1.labels, l2.labels, bool(l1.moved_rows), set(l1.moved_rows) | set(l2.moved_rows)


def _hierarchy_from_geometry(raws: list[RawIndicator]) -> list[tuple[str, str, bool]]:
    """A merged cell gives the parent; an empty unmerged level cell repeats the one above, also
    under the 一级 cell merged over both rows when the row above is an indicator's (a browser
    closes a merged 二级 cell cut by a page break with a ruling: its rest is an empty cell of its
    own). A 一级 cell starting at a row with no 二级, or a 二级 printed with no indicator, starts
    no 二级 for the empty cells below."""
    _label_cells_cut_by_page_breaks(raws)
    out: list[tuple[str, str, bool]] = []
    last1 = last2 = ""
    above: RawIndicator | None = None
    for r in raws:
        if r.l1:
            last1 = r.l1
            cell = r.level_cells.get("l1")
            continued = (  # the row above, under the same 一级 cell, is an indicator's
                above is not None
                and cell is not None
                and cell == above.level_cells.get("l1")
                and bool(above.l3)
                and not above.label_only
            )
            if not r.l2 and not continued:
                last2 = ""
        if r.l2:
            last2 = r.l2
        out.append((r.l1 or last1, r.l2 or last2, r.levels_inferred))
        above = r
    return out


def _label_cells_cut_by_page_breaks(raws: list[RawIndicator]) -> None:
    """A merged 一级/二级 cell cut by a page break prints its label once, where the middle of the
    whole cell falls (spreadsheets): its empty part on one side of the break takes the label
    printed on the other side, unless its rows' 二级 name another 一级 (or, for a 二级, its
    rows are under another 一级)."""
    for role in ("l1", "l2"):
        for i in range(len(raws) - 1):
            if raws[i + 1].page == raws[i].page:
                continue
            for empty, printed, step in ((i, i + 1, -1), (i + 1, i, 1)):
                label = getattr(raws[printed], role)
                cell = raws[empty].level_cells.get(role)
                if getattr(raws[empty], role) or not label or cell is None:
                    continue
                run = [empty]
                while (
                    0 <= run[-1] + step < len(raws)
                    and raws[run[-1] + step].level_cells.get(role) == cell
                ):
                    run.append(run[-1] + step)
                if role == "l1" and any(
                    LEVEL2_PARENT.get(canonical_level(raws[k].l2), canonical_level(label))
                    != canonical_level(label)
                    for k in run
                    if raws[k].l2
                ):
                    continue
                if role == "l2" and any(raws[k].l1 != raws[printed].l1 for k in run):
                    continue
                for k in run:
                    setattr(raws[k], role, label)


__all__ = ["parse_forms"]
