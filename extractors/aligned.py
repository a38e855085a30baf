"""Tables a page does not fully rule: columns from how the text lines up, rows from the rules drawn.

A producer may draw a table with horizontal rules only, with a frame only, or with no rules at all;
the lattice reader (``extractors.lattice``) needs both directions and finds nothing there. This
reader works on the characters the lattice tables left over:

1. ``_lines``: characters in lines (vertical overlap), each line cut into segments where the gap
   between two glyphs is wider than a word space.
2. ``_regions``: where a table stands: between the outermost of a set of horizontal rules one
   under the other (a frame's top and bottom are two of them), or, without rules, a run of lines
   several of which hold three or more segments.
3. ``_columns``: a column boundary lies where more lines have a gap between two segments than have
   a segment running across (the middle of the best stretch).
4. Rows: the bands between the rules when every row is ruled; else text lines, joined where their
   gap is much narrower than the usual gap between rows (a wrapped cell).

The result is a flat grid (``spans_known=False``): the page does not draw the merged cells, so the
form parser infers them as for a text export. Written here rather than taken from pdfplumber's or
camelot's text strategies: it reuses the characters PDFium already read, costs no second parse of
the page, and keeps a wrapped cell in one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

from schemas.grid import Cell, Grid

Char = tuple[float, float, float, float, str]  # top, bottom, x0, x1, text (display space)
Rule = tuple[float, float, float]  # y, x0, x1

SEGMENT_GAP = 0.6  # em: a wider gap between two glyphs of a line separates two cells
WORD_GAP = 0.3  # em: a narrower gap is no space at all
SAME_EXTENT = 3.0  # points: rules whose ends are this close belong to one table
MIN_TABULAR_LINES = 3  # lines with three or more segments that make a table
ROW_JOIN = 0.5  # a gap below this share of the usual gap between lines joins two lines in a row
MIN_RULE = 20.0  # points: a shorter rule underlines a word, it does not rule a table
TABLE_GAP = 3.0  # a gap between rules this many times the usual one parts two tables
MIN_TABLE_GAP = 30.0  # points: ... and at least this wide


@dataclass
class _Segment:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str


@dataclass
class _Line:
    top: float
    bottom: float
    segments: list[_Segment] = field(default_factory=list)


def aligned_tables(
    chars: list[Char],
    rules: list[Rule],
    page: int,
    join: Callable[[str, str], str],
) -> list[tuple[Grid, tuple[float, float, float, float]]]:
    """The tables among ``chars`` (the characters outside ruled tables) with their bboxes;
    ``rules`` are the page's horizontal rules outside ruled tables, ``join`` joins wrapped text."""
    lines = _lines(chars)
    if sum(len(line.segments) >= 3 for line in lines) < MIN_TABULAR_LINES:
        return []
    out = []
    for top, bottom, bands in _regions(lines, rules):
        inside = [line for line in lines if top <= (line.top + line.bottom) / 2 <= bottom]
        if sum(len(line.segments) >= 3 for line in inside) < MIN_TABULAR_LINES:
            continue
        grid = _grid(inside, bands, page, join)
        if grid is None:
            continue
        x0 = min(s.x0 for line in inside for s in line.segments)
        x1 = max(s.x1 for line in inside for s in line.segments)
        out.append((grid, (x0, top, x1, bottom)))
    return out


def _lines(chars: list[Char]) -> list[_Line]:
    """Characters in lines top to bottom, each cut into segments left to right."""
    groups: list[list[Char]] = []
    bands: list[list[float]] = []
    for char in sorted((c for c in chars if c[4].strip()), key=lambda c: c[0]):
        if bands:
            band = bands[-1]
            overlap = min(band[1], char[1]) - max(band[0], char[0])
            if overlap >= 0.5 * min(band[1] - band[0], char[1] - char[0]):
                groups[-1].append(char)
                band[0], band[1] = min(band[0], char[0]), max(band[1], char[1])
                continue
        groups.append([char])
        bands.append([char[0], char[1]])
    lines = []
    for group, (top, bottom) in zip(groups, bands):
        em = max(median(c[1] - c[0] for c in group), 1.0)
        line = _Line(top, bottom)
        for char in sorted(group, key=lambda c: c[2]):
            last = line.segments[-1] if line.segments else None
            if last is None or char[2] - last.x1 > SEGMENT_GAP * em:
                line.segments.append(_Segment(char[2], char[3], char[0], char[1], char[4]))
                continue
            if char[2] - last.x1 > WORD_GAP * em:
                last.text += " "
            last.text += char[4]
            last.x1 = max(last.x1, char[3])
            last.top, last.bottom = min(last.top, char[0]), max(last.bottom, char[1])
        lines.append(line)
    return lines


def _regions(
    lines: list[_Line], rules: list[Rule]
) -> list[tuple[float, float, list[float] | None]]:
    """(top, bottom, row boundaries or None) of each table candidate, top to bottom."""
    regions: list[tuple[float, float, list[float] | None]] = []
    for ys in _rule_sets(rules):
        top, bottom = ys[0], ys[-1]
        inside = [line for line in lines if top <= (line.top + line.bottom) / 2 <= bottom]
        ruled = len(ys) >= 3 and all(
            sum(1 for line in inside if a <= (line.top + line.bottom) / 2 <= b) <= 3
            for a, b in zip(ys, ys[1:])
        )
        regions.append((top, bottom, ys if ruled else None))
    taken = [(top, bottom) for top, bottom, _ in regions]
    free = [
        line for line in lines if not any(t <= (line.top + line.bottom) / 2 <= b for t, b in taken)
    ]
    run: list[_Line] = []
    for line in [*free, None]:
        if line is not None and (len(line.segments) >= 2 or _wraps_on(run, line)):
            run.append(line)
            continue
        while run and len(run[-1].segments) < 2:
            run.pop()
        if sum(len(r.segments) >= 3 for r in run) >= MIN_TABULAR_LINES:
            regions.append((run[0].top, run[-1].bottom, None))
        run = []
    return sorted(regions)


def _wraps_on(run: list[_Line], line: _Line) -> bool:
    """Whether ``line`` goes on with the last line of ``run`` (a wrapped cell): it follows after
    a gap much narrower than the usual one between the run's lines."""
    gaps = [b.top - a.bottom for a, b in zip(run, run[1:])]
    return bool(gaps) and line.top - run[-1].bottom < ROW_JOIN * median(gaps)


def _rule_sets(rules: list[Rule]) -> list[list[float]]:
    """The distinct heights of each table's horizontal rules, top to bottom: rules that overlap
    along the page one under the other, two heights or more (a frame's top and bottom are two).
    A rule may stop short where it would cross a merged cell; a gap far wider than the others
    between two rules parts two tables."""
    chains: list[list[Rule]] = []
    extents: list[list[float]] = []
    for rule in sorted(r for r in rules if r[2] - r[1] >= MIN_RULE):
        for chain, extent in zip(chains, extents):
            overlap = min(extent[1], rule[2]) - max(extent[0], rule[1])
            if overlap >= 0.5 * min(extent[1] - extent[0], rule[2] - rule[1]):
                chain.append(rule)
                extent[0], extent[1] = min(extent[0], rule[1]), max(extent[1], rule[2])
                break
        else:
            chains.append([rule])
            extents.append([rule[1], rule[2]])
    out = []
    for chain in chains:
        ys: list[float] = []
        for y, _, _ in chain:  # sorted by height
            if not ys or y - ys[-1] > SAME_EXTENT:
                ys.append(y)
        gaps = [b - a for a, b in zip(ys, ys[1:])]
        if not gaps:
            continue
        usual = median(gaps)
        part = [ys[0]]
        for gap, y in zip(gaps, ys[1:]):
            if gap > TABLE_GAP * usual and gap > MIN_TABLE_GAP:
                out.append(part)
                part = []
            part.append(y)
        out.append(part)
    return [ys for ys in out if len(ys) >= 2]


def _columns(lines: list[_Line]) -> list[float]:
    """Column boundaries (inner ones) where more lines have a gap than run text across."""
    multi = [line for line in lines if len(line.segments) >= 2]
    if not multi:
        return []
    left = min(s.x0 for line in multi for s in line.segments)
    right = max(s.x1 for line in multi for s in line.segments)
    step = 0.5
    size = int((right - left) / step) + 2
    score = [0] * size
    for line in multi:
        for s in line.segments:  # text running across: against a boundary here
            for i in range(int((s.x0 - left) / step), int((s.x1 - left) / step) + 1):
                score[i] -= 1
        for a, b in zip(line.segments, line.segments[1:]):  # a gap between two cells: for
            for i in range(int((a.x1 - left) / step) + 1, int((b.x0 - left) / step)):
                score[i] += 1
    bounds: list[float] = []
    i = 0
    while i < size:
        if score[i] <= 0:
            i += 1
            continue
        j = i
        while j < size and score[j] > 0:
            j += 1
        for start, end in _peaks(score, i, j):
            bounds.append(left + (start + end - 1) / 2 * step)
        i = j
    return bounds


def _peaks(score: list[int], start: int, end: int) -> list[tuple[int, int]]:
    """The runs [a, b) of ``score[start:end]`` (all positive) that stand out: at least twice as
    high as the lowest point between them and a higher run (or the edge). Two columns' gaps that
    only lines of wide text join make one stretch with two peaks."""
    runs: list[list[int]] = []  # value, start, end
    for k in range(start, end):
        if runs and runs[-1][0] == score[k]:
            runs[-1][2] = k + 1
        else:
            runs.append([score[k], k, k + 1])
    peaks = []
    for n, (value, a, b) in enumerate(runs):
        if (n > 0 and runs[n - 1][0] > value) or (n + 1 < len(runs) and runs[n + 1][0] > value):
            continue
        lowest = []
        for side in (range(n - 1, -1, -1), range(n + 1, len(runs))):
            low = 0
            for m in side:
                if runs[m][0] > value:
                    break
                low = runs[m][0] if low == 0 else min(low, runs[m][0])
            else:
                low = 0  # the edge of the stretch: the score falls to nothing beyond it
            lowest.append(low)
        if value - max(lowest) >= value / 2:
            peaks.append((a, b))
    return peaks


def _rows(lines: list[_Line], bands: list[float] | None) -> list[list[_Line]]:
    """The lines of each row: between the rules when every row is ruled, else text lines joined
    where their gap is much narrower than the usual one (a cell wrapped over two lines)."""
    if bands is not None:
        rows: list[list[_Line]] = [[] for _ in bands[1:]]
        for line in lines:
            middle = (line.top + line.bottom) / 2
            k = next((k for k, b in enumerate(bands[1:]) if middle <= b), len(rows) - 1)
            rows[k].append(line)
        return [row for row in rows if row]
    gaps = [b.top - a.bottom for a, b in zip(lines, lines[1:])]
    usual = median(gaps) if gaps else 0.0
    rows = [[lines[0]]] if lines else []
    for gap, line in zip(gaps, lines[1:]):
        if usual > 0 and gap < ROW_JOIN * usual:
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _grid(
    lines: list[_Line], bands: list[float] | None, page: int, join: Callable[[str, str], str]
) -> Grid | None:
    """The flat grid of one table's lines: each segment in the column its left edge falls in, the
    segments of one row and column joined top to bottom; None unless two rows and columns."""
    bounds = _columns(lines)
    rows = _rows(lines, bands)
    n_cols = len(bounds) + 1
    if n_cols < 2 or len(rows) < 2:
        return None
    cells: list[Cell] = []
    for r, row in enumerate(rows):
        texts: dict[int, list[_Segment]] = {}
        for line in row:
            for s in line.segments:
                col = sum(1 for b in bounds if b < s.x0 + 1)
                texts.setdefault(col, []).append(s)
        for col, segments in sorted(texts.items()):
            text = ""
            for s in sorted(segments, key=lambda s: (s.top, s.x0)):
                text = join(text, s.text)
            bbox = (
                round(min(s.x0 for s in segments), 2),
                round(min(s.top for s in segments), 2),
                round(max(s.x1 for s in segments), 2),
                round(max(s.bottom for s in segments), 2),
            )
            cells.append(Cell(row=r, col=col, text=text, page=page, bbox=bbox))
    return Grid(
        cells=cells,
        n_rows=len(rows),
        n_cols=n_cols,
        spans_known=False,
        is_table=True,
        source="pdf",
        row_pages=[page] * len(rows),
    )
