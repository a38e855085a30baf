"""Project lists: one project a row, every indicator of the project packed into one cell.

Some provinces publish their 项目支出绩效目标表 as one list instead of one form per project: a
table whose header names a project column, amount columns, a 绩效目标 column and a 绩效指标
column, and whose every row is a project with all its indicators packed into its 绩效指标 cell:

    1.1－产出指标，11－数量指标，项目专职环保员数量；实施周期指标值：≦核定人数，年度指标值：≦核定人数；
    2、1－产出指标，12－质量指标，环境应急事件响应率；…

A list is recognised by what its header row means (:data:`LIST_COLUMNS`), never by the position
of its columns, and each row becomes a form of the family its title names, with its fund lines,
goal and indicator rows. The packed cell is read by a small grammar (:func:`unpack_indicators`):
an indicator is a 一级 and a 二级 (level names of the national framework, or any name after a
level code such as ``11－``), then its 三级 and its labelled values (``年度指标值：…``). Rows cut by
a page break join. A list with goals but no indicator column is not a form: it is noted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

from extractors.values import (
    compact,
    is_blank,
    normalize_text,
    parse_money,
    parse_points,
    parse_value,
)
from schemas.families import family_of_title
from schemas.grid import Cell, Document, Grid
from schemas.records import Form, FundLine, Indicator
from schemas.vocabulary import (
    LEVEL1,
    LEVEL2,
    LEVEL_ALIASES,
    LIST_COLUMNS,
    PACKED_VALUE_LABELS,
    YEAR_ANYWHERE,
    canonical_level,
)

# ---------------------------------------------------------------- the list's columns by meaning

FUND_LINE_ROLES = ("年度资金总额", "当年财政拨款", "上年结转资金", "其他资金")
SUBTOTAL = re.compile(r"合计|小计")  # of several columns under one fund line, the subtotal counts
# a header that names indicator levels belongs to a form's indicator table, not to a list
INDICATOR_TABLE_HEADER = re.compile(r"[一二三]级(指标|目标)")
TOTAL_ROW = re.compile(r"^(合计|总计|小计)[:：]?$")
MAX_HEADER_ROWS = 3
MAX_HEADER_LABEL = 16  # characters of one header label; a longer cell is a row's text
MAX_TITLE_ROWS = 4  # rows of title and 单位 lines a sheet may print above a list's header

# ---------------------------------------------------------------- the packed indicator grammar

SEPARATORS = "，,；;、\n"  # between the fields of a packed indicator
# also between a 一级 and its 二级: '产出指标-数量指标', '产出指标>数量指标'
LEVEL_JOINERS = "－-—–>/ "

STRONG_SEPARATORS = "；;\n"  # between indicators
DASH = r"[－\-—–]"
# the number of an indicator in the cell: '1.', '2、', '(3)', '（4）', '⑤'
ITEM_NUMBER = r"(?:\d{1,2}[、.．]|[(（]\d{1,2}[)）]|[①-⑳])"
# a level code before a level name: '1－' (一级), '11－' (二级); its length is its level
LEVEL_CODE = rf"(?P<code>\d{{1,2}})\s*{DASH}\s*"
LEVEL_NAMES = sorted(LEVEL1 | LEVEL2 | set(LEVEL_ALIASES), key=len, reverse=True)
# any level name after a code: a province naming its levels its own way still reads
CODED_NAME = r"[^\d，,；;、\n：:－\-—–]{2,12}?(?:指标|目标|效益|满意度)"
LEVEL_MARKER = re.compile(
    rf"(?P<number>{ITEM_NUMBER})?\s*(?:{LEVEL_CODE})?"
    rf"(?P<name>{'|'.join(map(re.escape, LEVEL_NAMES))}|(?<={DASH}){CODED_NAME})"
    r"\s*(?:[(（]\s*\d+(?:\.\d+)?\s*分\s*[)）])?"
    rf"(?=\s*(?:[{SEPARATORS}>/]|{DASH}|$))"
)
# a 三级's own code or number before its name: '111－', '1.', '(2)'
LEADING_CODE = re.compile(rf"^\s*(?:{ITEM_NUMBER}|\d{{1,4}}\s*{DASH})\s*")
VALUE_LABEL = re.compile(
    "(?P<label>"
    + "|".join(re.escape(k) for k in sorted(PACKED_VALUE_LABELS, key=len, reverse=True))
    + r")\s*(?:[:：]|(?=[≥≤><=≧≦》《]))"  # a colon, or a value that starts with its operator
)
TRIM = f"{SEPARATORS}。. "


@dataclass
class PackedIndicator:
    """One indicator read from a packed cell: its levels and its labelled values as printed."""

    level1: str | None
    level2: str | None
    level3: str
    values: dict[str, str] = field(default_factory=dict)  # label → text; '' labels a bare value
    start: int = 0  # where it is printed in the cell's text, normalised line by line


@dataclass
class _Marker:
    start: int
    end: int
    name: str
    code: str | None
    numbered: bool  # printed with an item number or a level code


def _markers(text: str) -> list[_Marker]:
    """The level names in a packed cell: each after a separator, at the start, or after a code."""
    found: list[_Marker] = []
    for match in LEVEL_MARKER.finditer(text):
        start = match.start()
        code, number = match.group("code"), match.group("number")
        if number is None and code is None:
            start = match.start("name")
            if start > 0 and text[start - 1] not in SEPARATORS + LEVEL_JOINERS:
                continue  # a level word inside a 三级 name ('环境质量指标达标率')
        numbered = number is not None or code is not None
        found.append(_Marker(start, match.end(), match.group("name"), code, numbered))
    return found


def _level_of(marker: _Marker, adjacent: bool, l1_code: str | None) -> int:
    """1 or 2: by the vocabulary where the name is only one of them, else by its code, else by
    place (a name right after a 一级, with no 三级 between, is its 二级)."""
    name = canonical_level(marker.name)
    if name in LEVEL1 and name not in LEVEL2:
        return 1
    if name in LEVEL2 and name not in LEVEL1:
        return 2
    if marker.code is not None:
        if l1_code is not None and marker.code != l1_code and marker.code.startswith(l1_code):
            return 2
        return min(len(marker.code), 2)
    return 2 if adjacent else 1


def normalize_packed(text: str) -> str:
    """A packed cell's text as the grammar reads it: each line normalised, line breaks kept."""
    return "\n".join(normalize_text(line) for line in text.splitlines())


def unpack_indicators(text: str) -> list[PackedIndicator]:
    """Every indicator packed into one cell, with the 一级/二级 each sits under."""
    return _unpack(normalize_packed(text))


def _unpack(text: str) -> list[PackedIndicator]:
    levels = _levels(text)
    if not levels:
        return [PackedIndicator(None, None, name, values) for name, values in _entries(text)]
    out: list[PackedIndicator] = []
    l1 = l2 = None
    for k, (marker, level) in enumerate(levels):
        if level == 1:
            l1, l2 = marker.name, None
        else:
            l2 = marker.name
        end = levels[k + 1][0].start if k + 1 < len(levels) else len(text)
        entries = _entries(text[marker.end : end])
        out.extend(PackedIndicator(l1, l2, n, v, marker.start) for n, v in entries)
    return out


def _levels(text: str) -> list[tuple[_Marker, int]]:
    """The level markers of a packed cell with their level (1 or 2).

    A level name printed right after a 二级 without a code or number of its own is a 三级 named
    like its 二级 ('31－服务对象满意度，服务对象满意度；…'), not a level.
    """
    out: list[tuple[_Marker, int]] = []
    l1_code: str | None = None
    for marker in _markers(text):
        previous = out[-1] if out else None
        between = text[previous[0].end : marker.start] if previous else ""
        adjacent = previous is not None and not between.strip(TRIM + LEVEL_JOINERS)
        if previous and previous[1] == 2 and adjacent and not marker.numbered:
            continue
        level = _level_of(marker, adjacent, l1_code)
        if level == 1:
            l1_code = marker.code
        out.append((marker, level))
    return out


def _entries(tail: str) -> list[tuple[str, dict[str, str]]]:
    """The 三级 indicators after a level name: each its name and labelled values.

    With labels, an indicator ends where a label it already has appears again; without, each
    piece between strong separators is one indicator, ``name：value`` or a bare name.
    """
    tail = tail.strip(TRIM + LEVEL_JOINERS)
    if not tail:
        return []
    labels = list(VALUE_LABEL.finditer(tail))
    if not labels:
        pieces = [p.strip(TRIM) for p in re.split(f"[{STRONG_SEPARATORS}]", tail)]
        return [_unlabelled(p) for p in pieces if p]
    bounds, seen = [0], set()
    for k, label in enumerate(labels):
        if label.group("label") in seen:
            cut = _last_separator(tail, labels[k - 1].end(), label.start())
            bounds.append(cut)
            seen = set()
        seen.add(label.group("label"))
    bounds.append(len(tail))
    entries = [
        _labelled(tail, begin, end, [m for m in labels if begin <= m.start() < end])
        for begin, end in zip(bounds, bounds[1:])
    ]
    return [e for e in entries if e[0] or e[1]]


def _last_separator(text: str, start: int, end: int) -> int:
    """Where one labelled indicator ends and the next one's name begins."""
    for separators in (STRONG_SEPARATORS, SEPARATORS):
        cut = max(text.rfind(s, start, end) for s in separators)
        if cut >= 0:
            return cut
    return end


def _labelled(
    tail: str, begin: int, end: int, labels: list[re.Match[str]]
) -> tuple[str, dict[str, str]]:
    """``tail[begin:end]``: a 三级 name, then its labelled values."""
    name = _level3_name(tail[begin : labels[0].start()])
    values: dict[str, str] = {}
    for k, label in enumerate(labels):
        stop = labels[k + 1].start() if k + 1 < len(labels) else end
        values[label.group("label")] = tail[label.end() : stop].strip(TRIM)
    return name, values


def _unlabelled(piece: str) -> tuple[str, dict[str, str]]:
    """``name：value`` or a bare name."""
    parts = re.split(r"[:：]", piece, maxsplit=1)
    if len(parts) == 2:
        return _level3_name(parts[0]), {"": parts[1].strip(TRIM)}
    return _level3_name(piece), {}


def _level3_name(text: str) -> str:
    return LEADING_CODE.sub("", text.strip(TRIM).lstrip(LEVEL_JOINERS)).strip(TRIM)


# ---------------------------------------------------------------- lists: columns, rows, forms

DEPARTMENT_LINE = re.compile(
    r"(?:部门名称|单位名称|主管部门|预算部门|预算单位)\s*[:：]\s*(.+?)(?=单位\s*[:：]|\s|$)"
)
MONEY_IN_WANYUAN = re.compile(r"单位\s*[:：]\s*万元|[(（]\s*万元\s*[)）]")


@dataclass
class ListColumns:
    """The columns of a project list, by role (see :data:`LIST_COLUMNS`)."""

    roles: dict[str, list[int]]
    n_cols: int
    header: list[str]  # the texts of the header's last row, to know it when printed again

    @property
    def has_indicators(self) -> bool:
        return "indicators" in self.roles

    def text(self, texts: list[str], role: str) -> str:
        return "".join(texts[c] for c in self.roles.get(role, []) if c < len(texts))

    def amounts(self, texts: list[str]) -> dict[str, list[str]]:
        """Fund line → the amounts a row prints for it, where it prints any."""
        out: dict[str, list[str]] = {}
        for line in FUND_LINE_ROLES:
            printed = [texts[c] for c in self.roles.get(line, []) if c < len(texts)]
            if any(not is_blank(t) for t in printed):
                out[line] = printed
        return out


def list_columns(grid: Grid) -> tuple[ListColumns, int, int] | None:
    """The columns of a project list whose header row is among the first rows of ``grid``, with
    the row its header starts on and the row its body starts on (title rows may come first)."""
    slots = grid.slots()
    for start in range(min(MAX_TITLE_ROWS + 1, grid.n_rows)):
        if len({id(c) for c in slots[start] if c is not None and c.text.strip()}) < 3:
            continue  # a title or a 部门名称/单位 line, not a header
        end = start + 1
        while end < min(start + MAX_HEADER_ROWS, grid.n_rows) and _is_header_row(slots[end]):
            end += 1
        columns = _columns(slots, grid.n_cols, start, end)
        return (columns, start, end) if columns is not None else None
    return None


def _columns(
    slots: list[list[Cell | None]], n_cols: int, start: int, end: int
) -> ListColumns | None:
    """The roles of the columns whose header is printed on rows ``start`` to ``end``."""
    roles: dict[str, list[int]] = {}
    for col in range(n_cols):
        header = _header_text(slots, start, end, col)
        if (
            INDICATOR_TABLE_HEADER.search(header)
            or len(header) > MAX_HEADER_ROWS * MAX_HEADER_LABEL
        ):
            return None
        role = next((role for role, pattern in LIST_COLUMNS if pattern.search(header)), None)
        if role is not None:
            roles.setdefault(role, []).append(col)
    for line in FUND_LINE_ROLES:  # of several columns under one line, a subtotal column counts
        cols = roles.get(line, [])
        subtotals = [c for c in cols if SUBTOTAL.search(_header_text(slots, start, end, c))]
        if len(cols) > 1 and subtotals:
            roles[line] = subtotals[:1]
    has_funds = any(line in roles for line in FUND_LINE_ROLES)
    if "name" not in roles or not has_funds or not ({"goal", "indicators"} & roles.keys()):
        return None
    last = slots[end - 1]
    header = [
        compact(normalize_text(c.text)) if c is not None and (c.row, c.col) == (end - 1, k) else ""
        for k, c in enumerate(last)
    ]
    return ListColumns(roles, n_cols, header)


def _header_text(slots: list[list[Cell | None]], start: int, end: int, col: int) -> str:
    """A column's header: the distinct texts over it on the header rows (a parent, its child)."""
    texts: list[str] = []
    for r in range(start, end):
        cell = slots[r][col]
        text = compact(normalize_text(cell.text)) if cell else ""
        if text and text not in texts:
            texts.append(text)
    return "".join(texts)


def _is_header_row(line: list[Cell | None]) -> bool:
    """A row of a header printed over several rows: short labels, no amount."""
    texts = [compact(c.text) for c in line if c is not None]
    return not _has_amount(line) and all(len(t) <= MAX_HEADER_LABEL for t in texts)


def _has_amount(line: list[Cell | None]) -> bool:
    return any(
        cell is not None and re.fullmatch(r"-?[\d,]+(\.\d+)?", compact(cell.text)) is not None
        for cell in line
    )


@dataclass
class _Project:
    """One project row of a list (joined with its continuation after a page break)."""

    name: str
    unit: str | None
    goal: str
    amounts: dict[str, list[str]]
    first_page: int | None
    last_page: int | None
    packed_cells: list[Cell] = field(default_factory=list)  # its 绩效指标 cells, in order
    fund_cells: list[Cell] = field(default_factory=list)


@dataclass
class _ProjectList:
    """A list as read: its columns, heading and project rows over one or more grids."""

    columns: ListColumns
    heading: list[str]
    grids: list[int]
    projects: list[_Project] = field(default_factory=list)
    last_page: int | None = None
    unit: str | None = None  # the group heading row the next projects sit under

    def read_rows(self, grid: Grid, first_row: int) -> None:
        """Add the rows of ``grid`` from ``first_row`` on."""
        columns = self.columns
        for r, line in enumerate(grid.slots()[first_row:], start=first_row):
            cells = [
                c if c is not None and c.row == r and c.col == k else None
                for k, c in enumerate(line)
            ]
            texts = [normalize_text(c.text) if c else "" for c in cells]
            name, goal = columns.text(texts, "name"), columns.text(texts, "goal")
            packed = [
                c for k in columns.roles.get("indicators", []) if (c := cells[k]) and c.text.strip()
            ]
            amounts = columns.amounts(texts)
            page = grid.page_of_row(r)
            if TOTAL_ROW.match(compact(name)) or [compact(t) for t in texts] == columns.header:
                continue  # the total, or the header printed again
            previous = self.projects[-1] if self.projects else None
            cut_by_page = r == first_row and previous is not None and page != previous.last_page
            if previous is not None and not amounts and (not name or cut_by_page):
                previous.name += name
                previous.goal += goal
                previous.packed_cells += packed
                previous.last_page = page
            elif name and (goal or packed):
                covering = [normalize_text(c.text) if c else "" for c in line]  # merged too
                unit = columns.text(covering, "unit") or self.unit
                self.projects.append(
                    _Project(
                        name=name,
                        unit=unit or None,
                        goal=goal,
                        amounts=amounts,
                        first_page=page,
                        last_page=page,
                        packed_cells=packed,
                        fund_cells=[
                            cells[k] for line in amounts for k in columns.roles[line] if cells[k]
                        ],
                    )
                )
            elif name and amounts:
                self.unit = name  # a group heading: the unit the projects below it use the funds of
        self.last_page = grid.page_of_row(grid.n_rows - 1) or self.last_page


@dataclass
class ProjectLists:
    """The forms read from a document's project lists, and the document left for the form parser."""

    forms: list[Form]
    rest: Document  # the document without the lists' tables
    notes: list[str]  # lists that are not forms, e.g. goals without indicators

    def with_forms(self, parsed: list[Form]) -> list[Form]:
        """These forms and the form parser's, in page order, numbered from 1."""
        forms = sorted([*parsed, *self.forms], key=lambda f: f.first_page or 0)
        for ordinal, form in enumerate(forms, start=1):
            form.form_ordinal = ordinal
        return forms


def read_project_lists(doc: Document) -> ProjectLists:
    """Find every project list in ``doc`` and read each project row into a form; what is not a
    form (a list of goals without indicators) is added to the document's notes."""
    lists: list[_ProjectList] = []
    current: _ProjectList | None = None
    for index, grid in enumerate(doc.grids):
        if not grid.is_table:
            continue
        found = list_columns(grid)
        if found is not None:
            columns, start, body = found
            if current is None or columns != current.columns or not _continues(current, grid):
                heading = _heading(doc, index) + _row_texts(grid, range(start))
                current = _ProjectList(columns, heading, [])
                lists.append(current)
            current.grids.append(index)  # a list goes on where its header is printed again
            current.read_rows(grid, body)
        elif current is not None and _continues(current, grid):
            current.grids.append(index)
            current.read_rows(grid, 0)
        else:
            current = None
    forms: list[Form] = []
    notes: list[str] = []
    used: set[int] = set()
    goal_only = [p for p in lists if not p.columns.has_indicators]
    if goal_only:
        notes.append(_goal_only_note(doc, goal_only))
    for project_list in lists:
        if not project_list.columns.has_indicators:
            continue
        read = [_form(project_list, p) for p in project_list.projects]
        read = [form for form in read if form.indicators]
        if read:
            forms += read
            used.update(project_list.grids)
    doc.notes.extend(note for note in notes if note not in doc.notes)
    rest = replace(doc, grids=[g for k, g in enumerate(doc.grids) if k not in used])
    return ProjectLists(forms, rest, notes)


def _continues(project_list: _ProjectList, grid: Grid) -> bool:
    """A table of the list's columns on its last page or the next one: the list goes on."""
    page = grid.page_of_row(0)
    return (
        grid.n_cols == project_list.columns.n_cols
        and page is not None
        and project_list.last_page is not None
        and page in (project_list.last_page, project_list.last_page + 1)
    )


def _heading(doc: Document, index: int) -> list[str]:
    """The free text lines printed just above the table at ``index`` (its title, 单位：万元)."""
    lines: list[str] = []
    k = index - 1
    while k >= 0 and not doc.grids[k].is_table:
        lines[:0] = [normalize_text(c.text) for c in doc.grids[k].cells]
        k -= 1
    return lines


def _row_texts(grid: Grid, rows: range) -> list[str]:
    return [normalize_text(c.text) for c in grid.cells if c.row in rows and c.text.strip()]


def _title(heading: list[str]) -> str | None:
    return next((line for line in heading if family_of_title(line) is not None), None)


def _form(project_list: _ProjectList, project: _Project) -> Form:
    """The form of one project row; the year from the list's title (else the parser settles it
    from the page, the document or the file name)."""
    heading = project_list.heading
    title = _title(heading)
    family = family_of_title(title) if title else None
    year = YEAR_ANYWHERE.search(compact(title)) if title else None
    department = next((m.group(1) for line in heading if (m := DEPARTMENT_LINE.search(line))), None)
    if department is None and title and year:
        department = compact(title)[: year.start()] or None  # '广州市生态环境局2026年…表'
    multiplier = 10000 if any(MONEY_IN_WANYUAN.search(line) for line in heading) else 1
    form = Form(
        form_type=family.form_type if family else "project_target_declaration",
        fiscal_year=int(year.group(1)) if year else None,
        year_source="form" if year else None,
        name=project.name,
        department=department,
        implementing_unit=project.unit,
        money_unit="万元" if multiplier == 10000 else "元",
        goal_planned=project.goal or None,
        first_page=project.first_page,
        last_page=project.last_page,
    )
    bbox = _union([c.bbox for c in project.fund_cells if c.page == project.first_page])
    for line, printed in project.amounts.items():
        amounts = [a for t in printed if (a := parse_money(t, multiplier)) is not None]
        total = sum(amounts, Decimal(0)) if amounts else None
        form.fund_lines.append(
            FundLine(line=line, budget_full_year=total, page=project.first_page, bbox=bbox)
        )
        if line == "年度资金总额":
            form.budget_full_year = total
    # where each packed cell's text begins in the joined text: an indicator is on its cell's page
    texts = [normalize_packed(cell.text) for cell in project.packed_cells]
    starts = [sum(len(t) + 1 for t in texts[:k]) for k in range(len(texts))]
    for ordinal, packed in enumerate(_unpack("\n".join(texts)), start=1):
        k = max((i for i, begin in enumerate(starts) if begin <= packed.start), default=None)
        cell = project.packed_cells[k] if k is not None else None
        page = cell.page if cell is not None else project.first_page
        form.indicators.append(_indicator(ordinal, packed, page, cell.bbox if cell else None))
    return form


def _indicator(
    ordinal: int,
    packed: PackedIndicator,
    page: int | None,
    bbox: tuple[float, float, float, float] | None,
) -> Indicator:
    fields: dict[str, str] = {}
    extra: dict[str, str] = {}
    for label, text in packed.values.items():
        role = PACKED_VALUE_LABELS.get(label, "target")  # an unlabelled value is the target
        if role == "extra" or role in fields:
            extra[label] = text
        else:
            fields[role] = text
    target_text = fields.get("target")
    target = parse_value(target_text)
    unit = fields.get("unit") or None
    actual = parse_value(fields.get("actual"))
    return Indicator(
        row_ordinal=ordinal,
        level1=canonical_level(packed.level1) if packed.level1 else None,
        level2=canonical_level(packed.level2) if packed.level2 else None,
        level3=packed.level3,
        target_text=None if is_blank(target_text) else target_text,
        target_op=target.op,
        target_value=target.value,
        target_unit=target.unit or unit,
        actual_text=None if is_blank(fields.get("actual")) else fields.get("actual"),
        actual_value=actual.value,
        actual_unit=(actual.unit or target.unit or unit) if actual.value is not None else None,
        weight=parse_points(fields.get("weight")),
        score=parse_points(fields.get("score")),
        page=page,
        bbox=bbox,
        extra=extra or None,
    )


def _union(
    boxes: list[tuple[float, float, float, float] | None],
) -> tuple[float, float, float, float] | None:
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    x0s, tops, x1s, bottoms = zip(*known, strict=True)
    return min(x0s), min(tops), max(x1s), max(bottoms)


def _goal_only_note(doc: Document, lists: list[_ProjectList]) -> str:
    """'a project list with goals but no indicators (pages 27–80, 83–94)'."""
    ranges = []
    for project_list in lists:
        pages = [
            page
            for k in project_list.grids
            for r in range(doc.grids[k].n_rows)
            if (page := doc.grids[k].page_of_row(r)) is not None
        ]
        if pages:
            low, high = min(pages), max(pages)
            ranges.append(str(low) if low == high else f"{low}–{high}")
    if not ranges:
        return "a project list with goals but no indicators"
    word = "page" if len(ranges) == 1 and "–" not in ranges[0] else "pages"
    return f"a project list with goals but no indicators ({word} {', '.join(ranges)})"


__all__ = [
    "PackedIndicator",
    "ProjectLists",
    "list_columns",
    "read_project_lists",
    "unpack_indicators",
]
