"""Render the sample forms into born-digital PDFs with ruled tables and real merged cells.

    python scripts/generate_samples.py        # writes samples/pdf/<name>.pdf + <name>.expected.json

Each PDF is drawn on a ReportLab canvas. Fonts: WenQuanYi Zen Hei / Micro Hei, embedded as
subsets (``apt-get install fonts-wqy-zenhei fonts-wqy-microhei``; only this script needs them, the
PDFs are committed), and on the no-form page ReportLab's built-in, non-embedded CID font
STSong-Light. Tables are drawn cell by cell, as Word and WPS do: a merged cell is one
rectangle, a cell cut by a page break has no ruling at the cut on the next page, a header row can be
repeated. ``<name>.expected.json`` holds the records a correct parser returns (see
scripts/sample_forms.py for the conventions), with the page of each indicator row and, per form,
the checks it must fail. Output is deterministic (``invariant=1``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sample_forms as sf  # noqa: E402

from schemas.records import Form  # noqa: E402

OUT = ROOT / "samples" / "pdf"
WQY = Path("/usr/share/fonts/truetype/wqy")
FONTS = {"ZenHei": "wqy-zenhei.ttc", "MicroHei": "wqy-microhei.ttc"}


def register_fonts() -> None:
    for name, file in FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(WQY / file), subfontIndex=0))
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


# --- layout model -----------------------------------------------------------------------------


@dataclass
class C:
    """A cell of a row spec; placed left to right into the first free slot, as in HTML."""

    text: str = ""
    colspan: int = 1
    rowspan: int = 1
    align: str = "left"  # left | center | right
    label: bool = False  # a merged level label: placed by Style.label_valign


@dataclass
class Table:
    widths: list[float]  # relative column widths
    rows: list[list[C]]
    tags: list[object] = field(default_factory=list)  # per row: recorded with the row's page
    header_rows: int = 0  # rows repeated on top of each continuation page
    breaks: dict[int, int] = field(default_factory=dict)  # row → lines kept before a page break
    width: float = 1.0  # fraction of the text width


@dataclass
class Text:
    text: str
    size: float = 0  # 0: the body size
    align: str = "center"
    right: str = ""  # a second string, right-aligned on the same line
    tag: object = None


@dataclass
class Space:
    height: float


class PageBreak:
    pass


@dataclass
class Style:
    font: str = "ZenHei"
    pagesize: tuple[float, float] = A4
    margins: tuple[float, float, float, float] = (50, 50, 56, 56)  # left, right, top, bottom
    size: float = 9
    leading: float = 1.35
    pad: float = 3
    line_width: float = 0.5
    outer_width: float = 0.5
    lines: str = "stroke"  # stroke | fill (thin filled rectangles, as Excel/WPS export them)
    label_valign: str = "top"  # top | middle
    cell_valign: str = "middle"
    close_cut_bottom: bool = True  # draw the ruling where a merged cell is cut by a page break
    split_rows: bool = False  # a row reaching past the page bottom is split there, not moved on
    footer: str = ""  # e.g. "- {page} -"
    rulings: str = "full"  # which borders the tables draw: one of RULINGS


RULINGS = ("full", "horizontal", "frame", "none", "partial")
"""How a table is ruled: every border; horizontal rules only; the outer frame only; no rules;
or some borders missing, as in a spreadsheet whose borders were set range by range: in the rows
a merged label cell spans, the cells right of it lose the rules between their rows (one block in
two) or the rules between their columns (the other blocks)."""


def cell_borders(
    placed: list[tuple[int, int, C]], n_rows: int, n_cols: int, rulings: str
) -> list[tuple[bool, bool, bool, bool]]:
    """Which of its left, right, top and bottom borders each placed cell draws under ``rulings``;
    two cells sharing an edge agree on it."""
    if rulings not in RULINGS:
        raise ValueError(f"unknown rulings {rulings!r} (one of {', '.join(RULINGS)})")
    out = []
    blocks = [
        (k, r, c + cell.colspan, r + cell.rowspan)
        for k, (r, c, cell) in enumerate(p for p in placed if p[2].label and p[2].rowspan > 1)
    ]
    for r, c, cell in placed:
        last_row, last_col = r + cell.rowspan, c + cell.colspan
        frame = (c == 0, last_col == n_cols, r == 0, last_row == n_rows)
        if rulings == "full":
            out.append((True, True, True, True))
        elif rulings == "horizontal":
            out.append((False, False, True, True))
        elif rulings == "frame":
            out.append(frame)
        elif rulings == "none":
            out.append((False, False, False, False))
        else:
            inside = [
                b for b in blocks if b[2] <= c and b[1] <= r and last_row <= b[3] and not cell.label
            ]
            if not inside:
                out.append((True, True, True, True))
                continue
            k, top, right_of, bottom = max(inside, key=lambda b: b[2])
            if k % 2 == 0:  # the rows of the block are not parted
                out.append((True, True, r == top, last_row == bottom))
            else:  # the columns of the block are not parted
                out.append((c == right_of, last_col == n_cols, True, True))
    return out


def _wrap(text: str, width: float, font: str, size: float) -> list[str]:
    """Greedy wrap: CJK anywhere, latin words and numbers kept whole where they fit."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[A-Za-z]+|[0-9][0-9,.]*|\s+|.", text):
        if pdfmetrics.stringWidth(line + token, font, size) <= width:
            line += token
            continue
        if token.isspace():
            lines.append(line)
            line = ""
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        for ch in token:
            if line and pdfmetrics.stringWidth(line + ch, font, size) > width:
                lines.append(line)
                line = ""
            line += ch
    if line:
        lines.append(line)
    return lines or [""]


@dataclass
class _Placed:
    """A cell with its slot, its wrapped lines, its x-range and the widths of its four rulings."""

    row: int
    cell: C
    lines: list[str]
    x0: float
    x1: float
    widths: tuple[float, float, float, float]  # left, right, top, bottom


@dataclass
class _Piece:
    page: int
    row: int
    top: float
    height: float
    part: int = 0  # 0 whole row, 1 / 2 the halves of a row split by a page break
    keep: int = 0  # lines of a split row on its first half
    repeat: bool = False  # a repeated header row


class Renderer:
    """Lays out text lines and tables on pages; coordinates are top-down inside this class."""

    def __init__(self, path: Path, style: Style) -> None:
        self.style = style
        self.width, self.height = style.pagesize
        self.canvas = canvas.Canvas(str(path), pagesize=style.pagesize, invariant=1)
        self.canvas.setTitle(path.stem)
        self.page = 1
        self.y = style.margins[2]
        self.marks: dict[object, int] = {}
        self._pending: dict[int, list[Callable[[], None]]] = {}

    @property
    def bottom(self) -> float:
        return self.height - self.style.margins[3]

    @property
    def text_width(self) -> float:
        return self.width - self.style.margins[0] - self.style.margins[1]

    def render(self, flow: list[object]) -> int:
        for item in flow:
            if isinstance(item, Text):
                self._text(item)
            elif isinstance(item, Space):
                self.y += item.height
            elif isinstance(item, PageBreak):
                self._new_page()
            elif isinstance(item, Table):
                self._table(item)
        for page in range(1, self.page + 1):
            for draw in self._pending.get(page, []):
                draw()
            if self.style.footer:
                self.canvas.setFont(self.style.font, self.style.size)
                text = self.style.footer.format(page=page)
                self.canvas.drawCentredString(self.width / 2, self.style.margins[3] / 2, text)
            self.canvas.showPage()
        self.canvas.save()
        return self.page

    def _new_page(self) -> None:
        self.page += 1
        self.y = self.style.margins[2]

    def _on_page(self, page: int, draw: Callable[[], None]) -> None:
        """Queue a drawing for ``page``: tables are laid out before they are drawn."""
        self._pending.setdefault(page, []).append(draw)

    def _text(self, item: Text) -> None:
        size = item.size or self.style.size
        if self.y + size * 1.8 > self.bottom:
            self._new_page()
        baseline = self.height - (self.y + size * 1.2)
        left = self.style.margins[0]

        def draw() -> None:
            self.canvas.setFont(self.style.font, size)
            if item.align == "center":
                self.canvas.drawCentredString(left + self.text_width / 2, baseline, item.text)
            elif item.align == "right":
                self.canvas.drawRightString(left + self.text_width, baseline, item.text)
            else:
                self.canvas.drawString(left, baseline, item.text)
            if item.right:
                self.canvas.drawRightString(left + self.text_width, baseline, item.right)

        self._on_page(self.page, draw)
        if item.tag is not None:
            self.marks[item.tag] = self.page
        self.y += size * 1.8

    def _rule(self, x0: float, y0: float, x1: float, y1: float, width: float) -> None:
        if not width:  # a border the table's rulings leave out
            return
        c = self.canvas
        if self.style.lines == "fill":
            if y0 == y1:
                c.rect(x0, self.height - y0 - width / 2, x1 - x0, width, stroke=0, fill=1)
            else:
                c.rect(x0 - width / 2, self.height - y1, width, y1 - y0, stroke=0, fill=1)
        else:
            c.setLineWidth(width)
            c.line(x0, self.height - y0, x1, self.height - y1)

    def _table(self, table: Table) -> None:
        st = self.style
        placed: list[tuple[int, int, C]] = []
        taken: set[tuple[int, int]] = set()
        for r, row in enumerate(table.rows):
            col = 0
            for cell in row:
                while (r, col) in taken:
                    col += 1
                placed.append((r, col, cell))
                for rr in range(r, r + cell.rowspan):
                    for cc in range(col, col + cell.colspan):
                        taken.add((rr, cc))
                col += cell.colspan
        n_rows, n_cols = len(table.rows), len(table.widths)
        assert all(c + cell.colspan <= n_cols for _, c, cell in placed), "row wider than table"
        total = self.text_width * table.width
        xs = [st.margins[0] + (self.text_width - total) / 2]
        for w in table.widths:
            xs.append(xs[-1] + total * w / sum(table.widths))
        lh = st.size * st.leading
        wrapped = {
            id(cell): _wrap(cell.text, xs[c + cell.colspan] - xs[c] - 2 * st.pad, st.font, st.size)
            for _, c, cell in placed
        }
        heights = [lh + 2 * st.pad] * n_rows
        for r, _, cell in placed:
            if cell.rowspan == 1:
                heights[r] = max(heights[r], len(wrapped[id(cell)]) * lh + 2 * st.pad)
        for r, _, cell in sorted(placed, key=lambda p: p[2].rowspan):
            need = len(wrapped[id(cell)]) * lh + 2 * st.pad
            have = sum(heights[r : r + cell.rowspan])
            if need > have:
                heights[r + cell.rowspan - 1] += need - have

        pieces: list[_Piece] = []

        def next_page(r: int) -> None:
            assert self.y >= self.height * 0.78, f"page {self.page} breaks at {self.y:.0f}pt"
            self._new_page()
            if table.header_rows and r >= table.header_rows:
                for h in range(table.header_rows):
                    pieces.append(_Piece(self.page, h, self.y, heights[h], repeat=True))
                    self.y += heights[h]

        row_lines = [1] * n_rows
        for r, _, cell in placed:
            if cell.rowspan == 1:
                row_lines[r] = max(row_lines[r], len(wrapped[id(cell)]))
        for r in range(n_rows):
            h = heights[r]
            keep = table.breaks.get(r)
            if keep is None and st.split_rows and self.y + h > self.bottom and r:
                fits = int((self.bottom - self.y - st.pad) // lh)
                if 0 < fits < row_lines[r]:
                    keep = fits  # as word processors do: the lines that fit stay on this page
            if keep is not None and keep > 0:
                first = st.pad + keep * lh
                assert self.y + first <= self.bottom, f"row {r} does not reach the page bottom"
                pieces.append(_Piece(self.page, r, self.y, first, 1, keep))
                self.y += first
                next_page(r)
                rest = max(h - first, 2 * st.pad + lh)
                pieces.append(_Piece(self.page, r, self.y, rest, 2, keep))
                self.y += rest
                continue
            if keep == 0 or self.y + h > self.bottom:
                next_page(r)
            pieces.append(_Piece(self.page, r, self.y, h))
            self.y += h
        for r, tags in enumerate(table.tags):
            for tag in tags if isinstance(tags, list) else [tags]:
                if tag is not None:
                    self.marks[tag] = next(p.page for p in pieces if p.row == r and not p.repeat)

        inner, outer = st.line_width, st.outer_width
        borders = cell_borders(placed, n_rows, n_cols, st.rulings)
        for (r, c, cell), drawn in zip(placed, borders):
            widths = tuple(
                (width if outermost else inner) if draw else 0.0
                for width, outermost, draw in zip(
                    (outer,) * 4,
                    (c == 0, c + cell.colspan == n_cols, r == 0, r + cell.rowspan == n_rows),
                    drawn,
                )
            )
            slot = _Placed(r, cell, wrapped[id(cell)], xs[c], xs[c + cell.colspan], widths)
            self._cell(slot, [p for p in pieces if r <= p.row < r + cell.rowspan and not p.repeat])
            if r + cell.rowspan <= table.header_rows:
                reps = [p for p in pieces if r <= p.row < r + cell.rowspan and p.repeat]
                for page in sorted({p.page for p in reps}):
                    self._cell(slot, [p for p in reps if p.page == page])

    def _cell(self, slot: _Placed, pieces: list[_Piece]) -> None:
        """Draw a cell over the row pieces it covers: one rectangle per page it falls on."""
        st = self.style
        cell, lines, x0, x1 = slot.cell, slot.lines, slot.x0, slot.x1
        groups: list[list[_Piece]] = []
        for p in pieces:
            if groups and groups[-1][-1].page == p.page:
                groups[-1].append(p)
            else:
                groups.append([p])
        last_row = slot.row + cell.rowspan - 1
        for group in groups:
            top = group[0].top
            bottom = group[-1].top + group[-1].height
            starts = group[0].row == slot.row and group[0].part != 2
            ends = group[-1].row == last_row and group[-1].part != 1
            self._on_page(
                group[0].page,
                lambda top=top, bottom=bottom, starts=starts, ends=ends: self._borders(
                    slot, top, bottom, starts, ends
                ),
            )
        lh = st.size * st.leading
        if cell.rowspan == 1 and pieces and pieces[0].part == 1:  # a row split by a page break
            keep = pieces[0].keep
            parts = [(groups[0], lines[:keep])] + (
                [(groups[1], lines[keep:])] if len(groups) > 1 else []
            )
            for group, part in parts:
                self._on_page(
                    group[0].page,
                    lambda g=group, part=part: self._lines(
                        part, x0, x1, g[0].top + st.pad, cell.align
                    ),
                )
            return
        valign = st.label_valign if cell.label else st.cell_valign
        block = len(lines) * lh
        if valign == "top":
            group = groups[0]
            start = group[0].top + st.pad
        else:  # centred on the whole span, on the page where its middle falls
            centre = sum(p.height for p in pieces) / 2
            offset = 0.0
            group = groups[-1]
            for g in groups:
                h = sum(p.height for p in g)
                if centre <= offset + h:
                    group = g
                    break
                offset += h
            g_top = group[0].top
            g_bottom = group[-1].top + group[-1].height
            start = g_top + (centre - offset) - block / 2
            start = max(g_top + st.pad, min(start, g_bottom - st.pad - block))
        self._on_page(group[0].page, lambda: self._lines(lines, x0, x1, start, cell.align))

    def _borders(self, slot: _Placed, top: float, bottom: float, starts: bool, ends: bool) -> None:
        """A cell's rulings; none at the top of a continuation, as Word and WPS print them."""
        left, right, top_w, bottom_w = slot.widths
        self._rule(slot.x0, top, slot.x0, bottom, left)
        self._rule(slot.x1, top, slot.x1, bottom, right)
        if starts:
            self._rule(slot.x0, top, slot.x1, top, top_w)
        if ends or self.style.close_cut_bottom:
            self._rule(slot.x0, bottom, slot.x1, bottom, bottom_w)

    def _lines(self, lines: list[str], x0: float, x1: float, start: float, align: str) -> None:
        st = self.style
        lh = st.size * st.leading
        self.canvas.setFont(st.font, st.size)
        for i, line in enumerate(lines):
            baseline = self.height - (start + i * lh + (lh - st.size) / 2 + st.size * 0.88)
            if align == "center":
                self.canvas.drawCentredString((x0 + x1) / 2, baseline, line)
            elif align == "right":
                self.canvas.drawRightString(x1 - st.pad, baseline, line)
            else:
                self.canvas.drawString(x0 + st.pad, baseline, line)


# --- forms as flows ---------------------------------------------------------------------------


@dataclass
class Variant:
    """How one 自评表 is printed."""

    title: str = "财政项目支出绩效自评表"
    year: str = "（{year}年度）"
    unit_line: bool = False  # a 单位：元 line above the table
    one_table: bool = True  # header, funds and goals in the indicator table
    outer: bool = False  # a 绩效指标 column left of 一级指标
    money: str = "comma"  # comma | plain | mixed (seed 000: plain budgets, comma executed)
    header_widths: list[float] = field(
        default_factory=lambda: [1.4, 1.8, 1.5, 1.5, 1.5, 0.8, 1.0, 0.8]
    )
    widths: list[float] = field(default_factory=lambda: [1.2, 1.5, 2.4, 1.3, 1.3, 0.7, 0.7, 2.6])
    gap: float = 8  # between the header table and the indicator table
    repeat_header: bool = False
    html_goals: bool = False
    breaks: dict[int, int] = field(default_factory=dict)  # indicator ordinal → lines before break


def num(x: float | None) -> str:
    """Print a weight or score as the forms do: 5, 4.7, 9.73."""
    if x is None:
        return ""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def money(value: Decimal | None, unit: str, style: str) -> str:
    if value is None:
        return ""
    if unit == "万元":
        value = value / sf.WAN
    return f"{value:,.2f}" if style == "comma" else f"{value:.2f}"


def _levels(rows: list[tuple[str, str, str | None]], outer_rows: int) -> list[list[C]]:
    """Indicator rows with 一级/二级 as vertically merged label cells; leaves the value cells."""
    out: list[list[C]] = []
    for i, (l1, l2, _) in enumerate(rows):
        cells: list[C] = []
        if outer_rows and i == 0:
            cells.append(C("绩效指标", rowspan=outer_rows, align="center", label=True))
        if i == 0 or rows[i - 1][0] != l1:
            span = next((j for j in range(i, len(rows)) if rows[j][0] != l1), len(rows)) - i
            cells.append(C(l1, rowspan=span, align="center", label=True))
        if i == 0 or rows[i - 1][:2] != (l1, l2):
            span = next((j for j in range(i, len(rows)) if rows[j][:2] != (l1, l2)), len(rows)) - i
            cells.append(C(l2, rowspan=span, align="center", label=True))
        out.append(cells)
    return out


def self_evaluation_flow(form: Form, v: Variant, key: object) -> list[object]:
    """Title, year line and the ruled table(s) of one 项目支出绩效自评表."""
    unit = form.money_unit

    def m(value: Decimal | None, executed: bool = False) -> str:
        style = v.money if v.money != "mixed" else ("comma" if executed else "plain")
        return money(value, unit, style)

    fund = form.fund_lines[0]
    wide = 1 if v.outer and v.one_table else 0
    head: list[list[C]] = [
        [C("项目名称", colspan=1 + wide, align="center"), C(form.name or "", colspan=7)],
        [
            C("主管部门", colspan=1 + wide, align="center"),
            C(form.department or "", colspan=3),
            C("实施单位", align="center"),
            C(form.implementing_unit or "", colspan=3),
        ],
        [C(f"项目资金（{unit}）", colspan=1 + wide, rowspan=5, align="center", label=True), C("")]
        + [
            C(t, align="center")
            for t in ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
        ],
        [
            C("年度资金总额"),
            C(m(fund.budget_initial), align="right"),
            C(m(fund.budget_full_year), align="right"),
            C(m(fund.budget_executed, True), align="right"),
            C(num(fund.weight), align="center"),
            C(f"{form.execution_rate * 100:.2f}%", align="center"),
            C(num(fund.score), align="center"),
        ],
    ]
    for line in form.fund_lines[1:]:
        label = "其中：当年财政拨款" if line.line == "当年财政拨款" else line.line
        head.append(
            [
                C(label),
                C(m(line.budget_initial), align="right"),
                C(m(line.budget_full_year), align="right"),
                C(m(line.budget_executed, True), align="right"),
                C("—", align="center"),
                C(""),
                C(""),
            ]
        )
    planned, actual = form.goal_planned or "", form.goal_actual or ""
    if v.html_goals:
        planned, actual = f"<p>{planned}</p>", f"<p>{actual}</p>"
    head += [
        [
            C("年度总体目标", colspan=1 + wide, rowspan=2, align="center", label=True),
            C("预算目标", colspan=3, align="center"),
            C("实际完成情况", colspan=4, align="center"),
        ],
        [C(planned, colspan=3), C(actual, colspan=4)],
    ]
    inds = form.indicators
    level_rows = _levels(
        [(i.level1 or "", i.level2 or "", i.level3) for i in inds], len(inds) + 1 if v.outer else 0
    )
    header = [
        C(t, align="center")
        for t in (
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        )
    ]
    body: list[list[C]] = []
    for ind, cells in zip(inds, level_rows):
        body.append(
            cells
            + [
                C(ind.level3 or ""),
                C(ind.target_text or "", align="center"),
                C(ind.actual_text or "", align="center"),
                C(num(ind.weight), align="center"),
                C(num(ind.score), align="center"),
                C(ind.deviation_reason or ""),
            ]
        )
    if v.outer:
        header = [level_rows[0][0]] + header if level_rows else header
        body[0] = body[0][1:]
    total = [
        C("总分", colspan=5 + (1 if v.outer else 0), align="center"),
        C(num(form.total_weight), align="center"),
        C(num(form.total_score), align="center"),
        C(""),
    ]
    widths = ([0.6] if v.outer else []) + v.widths
    tags: list[object] = [None] + [(key, i.row_ordinal) for i in inds] + [(key, "end")]
    flow: list[object] = [
        Text(v.title, size=0, tag=(key, "start")),
        Text(v.year.format(year=form.fiscal_year)),
    ]
    if v.unit_line:
        flow.append(Text(f"单位：{unit}", align="right"))
    offset = len(head) + 1 if v.one_table else 1
    breaks = {offset + ordinal - 1: keep for ordinal, keep in v.breaks.items()}
    indicator_rows = [header, *body, total]
    if v.one_table:
        rows = head + indicator_rows
        flow.append(Table(widths, rows, [None] * len(head) + tags, breaks=breaks))
    else:
        flow.append(Table(v.header_widths, head))
        if v.gap:
            flow.append(Space(v.gap))
        flow.append(
            Table(
                widths, indicator_rows, tags, header_rows=1 if v.repeat_header else 0, breaks=breaks
            )
        )
    return flow


def policy_flow(form: Form, key: object) -> list[object]:
    """Seed 004: the declaration on page 1, the 目标 grid under a repeated title on page 2."""
    extra = sf.POLICY_EXTRA
    period = f"评价时段：（{form.fiscal_year}年01月-{form.fiscal_year}年12月）"
    rows = [
        [C(period, colspan=4)],
        [C(f"预算主管单位：{form.department}", colspan=4)],
        [C("政策名称", align="center"), C(form.name or "", colspan=3)],
        [C("资金用途", align="center"), C(extra["资金用途"], colspan=3)],
        [C("政策日期", align="center"), C(extra["政策日期"], colspan=3)],
        [C("政策概况", align="center"), C(extra["政策概况"], colspan=3)],
        [
            C("立项依据", rowspan=2, align="center", label=True),
            C("政策设立的必要性"),
            C(extra["政策设立的必要性"], colspan=2),
        ],
        [C("保证政策实施的制度、措施"), C(extra["保证政策实施的制度、措施"], colspan=2)],
        [C("政策实施计划", align="center"), C(extra["政策实施计划"], colspan=3)],
        [
            C("政策目标", rowspan=3, align="center", label=True),
            C("总目标", align="center"),
            C(form.goal_overall or "", colspan=2),
        ],
        [
            C("年度目标", rowspan=2, align="center", label=True),
            C("年初设定目标", align="center"),
            C("全年预计完成情况", align="center"),
        ],
        [C(form.goal_planned or ""), C(form.goal_actual or "")],
        [
            C("当年投入资金构成", rowspan=1 + len(form.fund_lines), align="center", label=True),
            C("子项目名称", colspan=2, align="center"),
            C("预算金额（元）", align="center"),
        ],
    ]
    rows += [
        [C(f.line, colspan=2), C(money(f.budget_full_year, "元", "comma"), align="right")]
        for f in form.fund_lines
    ]
    grid = [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators]
    # the seed's empty 二级 rows, with no 三级
    grid.insert(7, ("产出指标", "时效指标", None, None))
    grid.insert(8, ("产出指标", "成本指标", None, None))
    grid.insert(12, ("效益指标", "可持续影响指标", None, None))
    levels = _levels([(a or "", b or "", c) for a, b, c, _ in grid], 0)
    body = [
        cells + [C(c or ""), C(t or "", align="center")]
        for (_, _, c, t), cells in zip(grid, levels)
    ]
    header = [C(t, align="center") for t in ("一级目标", "二级目标", "三级目标", "指标目标值")]
    tags: list[object] = [None]
    n = 0
    for _, _, c, _ in grid:
        n += c is not None
        tags.append((key, n) if c is not None else None)
    tags[-1] = [tags[-1], (key, "end")]
    title = "财政政策绩效目标申报表"
    return [
        Text(title, size=0, tag=(key, "start")),
        Text(period),
        Table([1.1, 1.5, 2.4, 2.4], rows),
        PageBreak(),
        Text(title),
        Table([1.2, 1.6, 2.8, 2.2], [header, *body], tags),
    ]


def project_declaration_flow(form: Form, key: object) -> list[object]:
    """The real 2026 page: 项目资金总额 vs 年度资金申请总额, one value column."""
    extra = sf.PROJECT_EXTRA
    lines = {f.line: f.budget_full_year for f in form.fund_lines}

    def yuan(value: Decimal | None) -> str:
        return f"{value:,.2f}" if value else "0"

    start = form.planned_start
    end = form.planned_end
    assert start and end
    rows = [
        [
            C("项目名称", align="center"),
            C(form.name or "", colspan=3),
            C("项目性质", align="center"),
            C(extra["项目性质"]),
            C("项目类别", align="center"),
            C(extra["项目类别"]),
        ],
        [
            C("主管部门", align="center"),
            C(form.department or "", colspan=3),
            C("实施单位", align="center"),
            C(form.implementing_unit or "", colspan=3),
        ],
        [
            C("计划开始日期", align="center"),
            C(f"{start.year}/{start.month}/{start.day}", colspan=3),
            C("计划完成日期", align="center"),
            C(f"{end.year}/{end.month}/{end.day}", colspan=3),
        ],
        [
            C("项目资金（元）", rowspan=4, align="center", label=True),
            C("项目资金总额"),
            C(yuan(form.project_funds_total), colspan=2, align="right"),
            C("年度资金申请总额", colspan=2),
            C(yuan(lines["年度资金总额"]), colspan=2, align="right"),
        ],
        [
            C("其中：财政资金", rowspan=2, label=True),
            C(extra["财政资金"], colspan=2, rowspan=2, align="right", label=True),
            C("其中：当年财政拨款", colspan=2),
            C(yuan(lines["当年财政拨款"]), colspan=2, align="right"),
        ],
        [C("上年结转资金", colspan=2), C(yuan(lines["上年结转资金"]), colspan=2, align="right")],
        [
            C("其他资金"),
            C(extra["累计其他资金"], colspan=2, align="right"),
            C("其他资金", colspan=2),
            C(yuan(lines["其他资金"]), colspan=2, align="right"),
        ],
        [
            C("项目绩效目标", rowspan=2, align="center", label=True),
            C("项目总目标", colspan=3, align="center"),
            C("年度总体目标", colspan=4, align="center"),
        ],
        [C(form.goal_overall or "", colspan=3), C(form.goal_planned or "", colspan=4)],
        [
            C(t, colspan=2, align="center")
            for t in ("一级指标", "二级指标", "三级指标", "年度(/项目)指标值")
        ],
    ]
    inds = form.indicators
    levels = _levels([(i.level1 or "", i.level2 or "", i.level3) for i in inds], 0)
    for cells, ind in zip(levels, inds):
        for cell in cells:
            cell.colspan = 2
        rows.append(
            cells
            + [C(ind.level3 or "", colspan=2), C(ind.target_text or "", colspan=2, align="center")]
        )
    tags: list[object] = [None] * 10 + [(key, i.row_ordinal) for i in inds]
    tags[-1] = [tags[-1], (key, "end")]
    return [
        Text("财政项目支出绩效目标申报表", size=0, tag=(key, "start")),
        Text(f"（{form.fiscal_year}年度）"),
        Table([1.2, 1.5, 1.0, 1.0, 1.3, 1.1, 1.1, 1.2], rows, tags),
    ]


def budget_summary_flow() -> list[object]:
    """A 部门财务收支预算总表 page: a ruled table but no performance form."""
    income = [
        ("一、财政拨款收入", "91,016,775.35"),
        ("1. 一般公共预算资金", "91,016,775.35"),
        ("2. 政府性基金", ""),
        ("3. 国有资本经营预算", ""),
        ("二、事业收入", ""),
        ("三、事业单位经营收入", ""),
        ("四、其他收入", ""),
    ]
    spending = [
        ("一、一般公共服务支出", "82,096,797.42"),
        ("二、社会保障和就业支出", "4,213,779.28"),
        ("三、卫生健康支出", "1,097,073.43"),
        ("四、住房保障支出", "3,609,125.22"),
    ]
    rows = [
        [C("本年收入", colspan=2, align="center"), C("本年支出", colspan=2, align="center")],
        [C(t, align="center") for t in ("项目", "预算数", "项目", "预算数")],
    ]
    for i in range(10):
        a = income[i] if i < len(income) else ("", "")
        b = spending[i] if i < len(spending) else ("", "")
        rows.append([C(a[0]), C(a[1], align="right"), C(b[0]), C(b[1], align="right")])
    rows.append(
        [
            C("收入总计"),
            C("91,016,775.35", align="right"),
            C("支出总计"),
            C("91,016,775.35", align="right"),
        ]
    )
    return [
        Text("2025年部门财务收支预算总表", size=14),
        Text("编制部门：上海市普陀区示例局", align="left", right="单位：元"),
        Table([2.2, 1.4, 2.2, 1.4], rows),
    ]


# --- the sample set ---------------------------------------------------------------------------


@dataclass
class Sample:
    name: str
    style: Style
    forms: list[Form]
    flow: list[object]
    checks: list[list[str]] = field(default_factory=list)  # per form: checks it must fail


def _self_evaluations(
    name: str, style: Style, forms: list[Form], variants: list[Variant], page_breaks: bool = True
) -> Sample:
    flow: list[object] = []
    for i, (form, v) in enumerate(zip(forms, variants)):
        if i:
            flow.append(PageBreak() if page_breaks else Space(24))
        flow += self_evaluation_flow(form, v, i)
    return Sample(name, style, forms, flow)


def samples() -> list[Sample]:
    three = [sf.training_capacity(), sf.employment_fund(), sf.skills_bases()]
    faults = sf.faulty_forms()
    fault_sample = _self_evaluations(
        "self_eval_arithmetic_faults",
        Style(size=8.5, line_width=0.4, outer_width=1.5, margins=(42, 42, 40, 40)),
        [f for f, _ in faults],
        [Variant(money="plain") for _ in faults],
        page_breaks=False,
    )
    fault_sample.checks = [[check] for _, check in faults]
    policy = sf.policy_declaration()
    project = sf.project_declaration()
    return [
        _self_evaluations(
            "self_eval_three_forms",
            Style(size=8, margins=(48, 48, 50, 50)),
            three,
            [Variant(year="({year} 年度)", money="mixed") for _ in three],
        ),
        _self_evaluations(
            "self_eval_multipage_repeated_header",
            Style(
                pagesize=LETTER,
                size=10.5,
                pad=4,
                line_width=0.6,
                outer_width=1.2,
                label_valign="middle",
                close_cut_bottom=False,
                footer="- {page} -",
            ),
            [sf.public_employment_services()],
            [
                Variant(
                    title="项目支出绩效自评表", unit_line=True, one_table=False, repeat_header=True
                )
            ],
        ),
        _self_evaluations(
            "self_eval_split_row_cut_span",
            Style(
                pagesize=landscape(A4),
                size=10.5,
                pad=4.5,
                margins=(40, 40, 36, 30),
                label_valign="middle",
            ),
            [sf.community_elderly_care()],
            [Variant(outer=True, breaks={8: 2}, widths=[1.0, 1.3, 2.6, 1.2, 1.2, 0.6, 0.6, 3.6])],
        ),
        _self_evaluations(
            "self_eval_wanyuan",
            Style(
                font="MicroHei",
                pagesize=landscape(A4),
                size=9,
                lines="fill",
                line_width=0.7,
                outer_width=1.0,
            ),
            [sf.rural_roads_wanyuan(), sf.school_meals_wanyuan()],
            [
                Variant(title="项目支出绩效自评表", one_table=False, gap=0),
                Variant(title="项目支出绩效自评表", one_table=False, gap=0, unit_line=True),
            ],
        ),
        _self_evaluations(
            "self_eval_value_notations",
            Style(
                pagesize=LETTER,
                size=7.5,
                margins=(64, 64, 72, 60),
                line_width=1.0,
                label_valign="middle",
            ),
            [sf.value_notations()],
            [
                Variant(
                    outer=True,
                    html_goals=True,
                    widths=[1.0, 1.2, 1.6, 1.0, 1.0, 0.55, 0.55, 1.9],
                )
            ],
        ),
        _self_evaluations(
            "self_eval_back_to_back",
            Style(size=9.5, pad=3.5, margins=(56, 56, 60, 60), footer="第 {page} 页"),
            sf.back_to_back(),
            [Variant(unit_line=True), Variant(unit_line=True, money="plain")],
            page_breaks=False,
        ),
        fault_sample,
        Sample(
            "policy_target_declaration",
            Style(size=9, margins=(54, 54, 50, 50)),
            [policy],
            policy_flow(policy, 0),
        ),
        Sample(
            "project_target_declaration_2026",
            Style(
                font="MicroHei",
                size=9.5,
                pad=4,
                margins=(60, 60, 64, 64),
                label_valign="middle",
                line_width=0.75,
            ),
            [project],
            project_declaration_flow(project, 0),
        ),
        Sample(
            "budget_summary_no_forms",
            Style(font="STSong-Light", pagesize=landscape(A4), size=10, pad=4),
            [],
            budget_summary_flow(),
        ),
    ]


# --- expected records and their arithmetic ----------------------------------------------------

_INDICATOR_FIELDS = (
    "row_ordinal",
    "level1",
    "level2",
    "level3",
    "target_text",
    "actual_text",
    "weight",
    "score",
    "deviation_reason",
    "page",
)
_SKIPPED_FORM_FIELDS = ("form_id", "notes")


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return value


def expected_record(form: Form) -> dict:
    """The comparison form of a record: JSON types, money as 2-dp strings in 元."""
    out: dict = {}
    for f in dataclasses.fields(form):
        if f.name in _SKIPPED_FORM_FIELDS:
            continue
        value = getattr(form, f.name)
        if f.name == "fund_lines":
            value = [{k: _plain(v) for k, v in dataclasses.asdict(line).items()} for line in value]
        elif f.name == "indicators":
            value = [{k: _plain(getattr(i, k)) for k in _INDICATOR_FIELDS} for i in value]
        else:
            value = _plain(value)
        out[f.name] = value
    return out


def arithmetic_failures(form: Form) -> list[list[str]]:
    """The SCHEMA.md arithmetic checks a 自评表 fails, as [check_name, severity]."""
    if form.form_type != "project_self_evaluation":
        return []
    rows = form.indicators
    failed = []
    if any(i.score > i.weight for i in rows) or form.budget_score > form.budget_weight:
        failed.append(["score_le_weight", "error"])
    if form.budget_executed > form.budget_full_year:
        failed.append(["executed_le_budget", "error"])
    rate = float(form.budget_executed / form.budget_full_year)
    if abs(rate - form.execution_rate) > 0.00005 + 1e-9:
        failed.append(["execution_rate_consistent", "error"])
    expected_score = round(min(form.execution_rate, 1) * form.budget_weight, 1)
    if abs(form.budget_score - expected_score) > 0.05 + 1e-9:
        failed.append(["budget_score_consistent", "warning"])
    off = abs(form.total_score - form.budget_score - sum(i.score for i in rows))
    if off > 0.01:
        failed.append(["total_score_consistent", "warning" if off <= 1 else "error"])
    if abs(form.budget_weight + sum(i.weight for i in rows) - 100) > 0.01:
        failed.append(["total_weight_100", "error"])
    return failed


def write_sample(sample: Sample) -> None:
    """Render one sample and write its expected records next to it."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{sample.name}.pdf"
    renderer = Renderer(path, sample.style)
    pages = renderer.render(sample.flow)
    assert pages <= 4, f"{sample.name}: {pages} pages"
    records = []
    for k, form in enumerate(sample.forms):
        form.form_ordinal = k + 1
        form.first_page = renderer.marks[(k, "start")]
        form.last_page = renderer.marks[(k, "end")]
        for ind in form.indicators:
            ind.page = renderer.marks[(k, ind.row_ordinal)]
        record = expected_record(form)
        failed = arithmetic_failures(form)
        wanted = sample.checks[k] if sample.checks else []
        if form.form_type == "project_self_evaluation":
            names = [name for name, _ in failed]
            assert set(wanted) <= set(names), f"{sample.name} form {k + 1}: {failed} vs {wanted}"
        record["checks"] = failed
        records.append(record)
    expected = {"file": path.name, "pages": pages, "forms": records}
    text = json.dumps(expected, ensure_ascii=False, indent=1) + "\n"
    (OUT / f"{sample.name}.expected.json").write_text(text, encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {pages} page(s), {len(records)} form(s)")


def main() -> None:
    register_fonts()
    for sample in samples():
        write_sample(sample)


if __name__ == "__main__":
    main()
