"""Tables a page does not fully rule: columns from how the text lines up, rows from the rules drawn.

A producer may draw a table with horizontal rules only, with a frame only, or with no rules at all,
or leave some rulings of a block out; the lattice reader (``extractors.lattice``) needs both
directions. This module works on the characters the lattice tables left over:

1. ``_lines``: characters in lines (vertical overlap), each line cut into segments where the gap
   between two glyphs is wider than a word space.
2. ``_rule_sets``: the horizontal rules one under the other that make one table.
3. ``_columns``: a column boundary lies where more lines have a gap between two segments than have
   a segment running across (the middle of the best stretch).
4. ``column_rulings``: a table whose every row is ruled gets vertical rulings where its text lines
   up, down each row no glyph crosses; ``extractors.pdf`` reads it as a lattice, its merged cells
   where the rules stop at them.
5. ``aligned_tables``: a table ruled less (a frame, no rules) becomes a flat grid
   (``spans_known=False``): rows are text lines, joined where their gap is much narrower than
   the usual one (a wrapped cell), and the form parser infers the merged cells as for a text
   export. Without rules, a table runs on through a line of one piece (a wrapped cell's) until
   two such lines come in a row.

``holds_columns``, ``rows_apart`` and ``parted_at`` tell ``extractors.pdf`` where a lattice cell
is really several: rulings of a block left out. Written here rather than taken from pdfplumber's
or camelot's text strategies: it reuses the characters PDFium already read, costs no second parse
of the page, and keeps a wrapped cell in one row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

from schemas.grid import Cell, Grid

Char = tuple[float, float, float, float, str]  # top, bottom, x0, x1, text (display space)
Rule = tuple[float, float, float]  # y, x0, x1
Columns = tuple[float, float, list[float]]  # a table's left and right side, column boundaries

SEGMENT_GAP = 0.6  # em: a wider gap between two glyphs of a line separates two cells
WORD_GAP = 0.3  # em: a narrower gap is no space at all
RUN_GAP = 0.15  # em: glyphs of one word touch (their advance boxes); a wider gap may part cells
AUTOSPACE = 0.235  # em: LibreOffice spaces CJK from Latin and digits by ~0.22 em, in one cell
SAME_EXTENT = 3.0  # points: rules whose ends are this close belong to one table
MIN_TABULAR_LINES = 3  # lines with three or more segments that make a table
ROW_JOIN = 0.5  # a gap below this share of the usual gap between lines joins two lines in a row
MIN_RULE = 20.0  # points: a shorter rule underlines a word, it does not rule a table
TABLE_GAP = 3.0  # a gap between rules this many times the usual one parts two tables
SAME_HEIGHT_IN_ROW = 0.3  # lines of a block's rows stand this close (share of a row) in their rows
MIN_TABLE_GAP = 30.0  # points: ... and at least this wide


@dataclass
class _Segment:
    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    runs: list[tuple[float, float]] = field(default_factory=list)  # glyphs a word space apart


@dataclass
class _Line:
    top: float
    bottom: float
    segments: list[_Segment] = field(default_factory=list)
    em: float = 1.0  # the median height of its glyphs


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


def _lines(chars: list[Char], gap: float = SEGMENT_GAP) -> list[_Line]:
    """Characters in lines top to bottom, each cut into segments left to right where two glyphs
    stand more than ``gap`` ems apart."""
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
        line = _Line(top, bottom, em=em)
        for char in sorted(group, key=lambda c: c[2]):
            last = line.segments[-1] if line.segments else None
            space = char[2] - last.x1 if last is not None else 0.0
            within = gap if space <= gap * em else _gap_within(last.text[-1], char[4], gap)
            if last is None or space > within * em:
                segment = _Segment(char[2], char[3], char[0], char[1], char[4])
                segment.runs.append((char[2], char[3]))
                line.segments.append(segment)
                continue
            if space > min(WORD_GAP, within) * em:
                last.text += " " if space > WORD_GAP * em else ""
                last.runs.append((char[2], char[3]))
            else:
                last.runs[-1] = (last.runs[-1][0], max(last.runs[-1][1], char[3]))
            last.text += char[4]
            last.x1 = max(last.x1, char[3])
            last.top, last.bottom = min(last.top, char[0]), max(last.bottom, char[1])
        lines.append(line)
    return lines


def holds_columns(chars: list[Char]) -> bool:
    """Whether the characters of one lattice cell are the cells of a table the page does not
    rule down (a merged area's inner verticals left out): two lines or more of it hold texts
    side by side, apart where they line up."""
    if len(chars) < 4:
        return False
    height = chars[0][1] - chars[0][0]
    rows = (max(c[1] for c in chars) - min(c[0] for c in chars)) / max(height, 1.0)
    extent = max(c[3] for c in chars) - min(c[2] for c in chars)
    if rows < 1.5 or sum(c[3] - c[2] for c in chars) > 0.6 * extent * round(rows):
        return False  # one line, or lines the text fills (a wrapped cell): cheap to tell
    lines = [line for line in _lines(chars) if len(line.segments) >= 2]
    return len(lines) >= 2 and bool(_columns(lines))


def parted_at(chars: list[Char], xs: list[float], top: float, bottom: float) -> list[bool]:
    """For each of ``xs`` (a column line of the lattice), whether the lines between ``top`` and
    ``bottom`` hold texts on both sides of it, apart by more than a word space, and none across
    it: two cells whose ruling between them was left out."""
    lines = [line for line in _lines(chars) if top <= (line.top + line.bottom) / 2 <= bottom]
    segments = [(s.x0, s.x1) for line in lines for s in line.segments]
    return [
        any(x1 <= x for _, x1 in segments)
        and any(x <= x0 for x0, _ in segments)
        and not any(x0 < x < x1 for x0, x1 in segments)
        for x in xs
    ]


def rows_apart(chars: list[Char], ys: list[float]) -> bool:
    """Whether the characters of a merged lattice cell over the rows between ``ys`` are the
    cells of those rows, the rules between them left out (a block's rows in a spreadsheet):
    its lines stand in two rows or more, each at the same height in its row (a wrapped label
    centred over the rows stands astride their border: low in one, high in the next), and lines in
    two rows stand further apart than the lines of a wrapped cell (half an em)."""
    lines = _lines(chars)
    if len(lines) < 2:
        return False
    rows = [sum(y < (line.top + line.bottom) / 2 for y in ys[1:-1]) for line in lines]
    if len(set(rows)) < 2:
        return False
    heights = [
        ((line.top + line.bottom) / 2 - ys[r]) / max(ys[r + 1] - ys[r], 1e-6)
        for line, r in zip(lines, rows)
    ]
    if max(heights) - min(heights) > SAME_HEIGHT_IN_ROW:
        return False
    return all(
        below.top - above.bottom > 0.5 * min(above.em, below.em)
        for above, below, r0, r1 in zip(lines, lines[1:], rows, rows[1:])
        if r0 != r1
    )


def _gap_within(before: str, after: str, gap: float) -> float:
    """The widest gap (ems) between two glyphs of one segment: ``gap``, or at least the space a
    word processor puts between CJK and Latin or digits (``AUTOSPACE``)."""
    if _is_cjk(before) != _is_cjk(after):
        return max(gap, AUTOSPACE)
    return gap


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\uffef"


def column_rulings(
    chars: list[Char], rules: list[Rule], columns_before: list[Columns] = ()
) -> list[tuple[list[Rule], list[Rule], Columns, bool]]:
    """The tables among ``chars`` whose every row is ruled (horizontal rules only, as some
    producers print), as rulings for the lattice: their horizontal rules, and a vertical ruling
    at each column boundary (where the text lines up) down every row that no glyph crosses (a
    glyph over it is a cell spanning the columns), with the frame's two sides. A rule that stops
    inside the table stops at a merged cell's side: that is where the column boundary lies.
    A table as wide as one of ``columns_before`` (the page before's) goes on with its columns.
    Vertical rulings are (x, top, bottom); each table's columns are returned too, and whether
    its rules show its merged cells (one stops inside it: rules crossing every cell do not). Two cells'
    texts may stand closer than a word space (a browser pads cells by two pixels): any gap
    between glyphs wider than ``RUN_GAP`` may part them."""
    lines = _lines(chars, RUN_GAP)
    out = []
    for ys, chain in _rule_sets(rules, lines):
        inside = [line for line in lines if ys[0] <= (line.top + line.bottom) / 2 <= ys[-1]]
        if not _rows_ruled(ys, inside):
            continue
        for part in _parted_at_empty_bands(ys, inside):
            own = [r for r in chain if part[0] - SAME_EXTENT <= r[0] <= part[-1] + SAME_EXTENT]
            table = [line for line in inside if part[0] <= (line.top + line.bottom) / 2 <= part[-1]]
            left, right = min(r[1] for r in own), max(r[2] for r in own)
            if not _spans(own, table):
                continue
            given = next(
                (
                    bounds
                    for x0, x1, bounds in columns_before
                    if abs(x0 - left) <= SAME_EXTENT and abs(x1 - right) <= SAME_EXTENT
                ),
                None,
            )
            verticals, bounds = _verticals(part, own, table, given)
            out.append((own, verticals, (left, right, bounds), bool(_stops(own, left, right))))
    return out


def _parted_at_empty_bands(ys: list[float], lines: list[_Line]) -> list[list[float]]:
    """The row boundaries of each table a set of rules holds: a band with no text between two
    rules is the space between two tables (a header table printed above the indicator table)."""
    parts = [[ys[0]]]
    for a, b in zip(ys, ys[1:]):
        if not any(a <= (line.top + line.bottom) / 2 <= b for line in lines):
            parts.append([b])
        else:
            parts[-1].append(b)
    return [part for part in parts if len(part) >= 3]


def _verticals(
    ys: list[float], rules: list[Rule], lines: list[_Line], given: list[float] | None
) -> tuple[list[Rule], list[float]]:
    """A ruled table's vertical rulings: the frame's sides, where a rule stops inside the table
    (a merged cell's side) down every row no text crosses, and in each row one boundary in each
    gap between two texts: where most lines of the table have a gap, else the gap's middle. A
    row's text stretches over the slots up to its neighbours' (a merged cell has no ruling down
    its middle; an empty cell beside a text is taken for part of it). ``given``: the boundaries
    of the table this one continues, all held. Returns the rulings and the usual boundaries."""
    left, right = min(r[1] for r in rules), max(r[2] for r in rules)
    runs = _runs(lines)
    ends = _stops(rules, left, right)
    multi = [line for line in lines if len(line.segments) >= 2]
    origin, score = _column_scores(multi) if multi else (left, [0])

    def votes(x: float) -> int:
        return score[min(max(int((x - origin) / STEP), 0), len(score) - 1)]

    usual = given if given is not None else _columns(lines)
    usual = [x for x in usual if all(abs(x - e) > SAME_EXTENT for e in ends)] + ends
    strong = -len(lines) if given is not None else max(map(votes, usual), default=0) * STRONG
    verticals: list[Rule] = [(left, ys[0], ys[-1]), (right, ys[0], ys[-1])]
    for a, b in zip(ys, ys[1:]):
        merged: list[tuple[float, float]] = []
        for x0, x1 in sorted((x0, x1) for x0, x1, middle in runs if a <= middle <= b):
            if merged and x0 <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
            else:
                merged.append((x0, x1))
        edges = [left] + [x for run in merged for x in run] + [right]
        em = min((line.em for line in lines if a <= line.top and line.bottom <= b), default=0.0)
        for g0, g1 in zip(edges[::2], edges[1::2]):
            stops = [x for x in ends if g0 < x < g1]
            inner = [x for x in usual if g0 < x < g1 and x not in ends]
            placed = stops + [x for x in inner if votes(x) >= strong]
            if not placed and left < g0 and g1 < right and g1 - g0 > SEGMENT_GAP * em:
                placed = [max(inner, key=votes, default=(g0 + g1) / 2)]
            verticals += [(x, a, b) for x in placed]
    return verticals, sorted(usual)


def _spans(rules: list[Rule], lines: list[_Line]) -> bool:
    """Whether ``rules`` run across the text between them, as a table's do (not rules under
    some cells only, as Writer draws under merged cells of a table without borders)."""
    left, right = min(r[1] for r in rules), max(r[2] for r in rules)
    return all(
        left - SAME_EXTENT <= s.x0 and s.x1 <= right + SAME_EXTENT
        for line in lines
        for s in line.segments
    )


def _runs(lines: list[_Line]) -> list[tuple[float, float, float]]:
    """(x0, x1, middle height) of each run of glyphs closer than a word space: text a column
    boundary cannot pass through."""
    return [
        (x0, x1, (line.top + line.bottom) / 2)
        for line in lines
        for segment in line.segments
        for x0, x1 in segment.runs
    ]


def _stops(rules: list[Rule], left: float, right: float) -> list[float]:
    """Where rules stop inside a table (at a merged cell's side), one position per place."""
    return _cluster(
        [x for _, x0, x1 in rules for x in (x0, x1) if left + MIN_RULE < x < right - MIN_RULE]
    )


def _cluster(values: list[float]) -> list[float]:
    """Positions within ``SAME_EXTENT`` of their neighbour as one (the first), in order."""
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > SAME_EXTENT:
            out.append(v)
    return out


def _rows_ruled(ys: list[float], lines: list[_Line]) -> bool:
    """Whether rules part a table's rows: three heights or more, and few of the bands between
    them that hold text (a quarter) hold several rows' lines: more lines of cells side by side
    than the wrapped cells of one row make. An empty band is the space between two tables (two
    frames one above the other are no ruled rows)."""
    if len(ys) < 3:
        return False
    counts = [
        [line for line in lines if a <= (line.top + line.bottom) / 2 <= b]
        for a, b in zip(ys, ys[1:])
    ]
    filled = [band for band in counts if band]
    crowded = sum(sum(len(line.segments) >= 2 for line in band) > 3 for band in filled)
    return len(filled) >= 2 and crowded <= len(filled) / 4


def _regions(
    lines: list[_Line], rules: list[Rule]
) -> list[tuple[float, float, list[float] | None]]:
    """(top, bottom, row boundaries or None) of each table candidate, top to bottom."""
    regions: list[tuple[float, float, list[float] | None]] = []
    for ys, own in _rule_sets(rules, lines):
        top, bottom = ys[0], ys[-1]
        inside = [line for line in lines if top <= (line.top + line.bottom) / 2 <= bottom]
        ruled = _spans(own, inside) and _rows_ruled(ys, inside)
        regions.append((top, bottom, ys if ruled else None))
    taken = [(top, bottom) for top, bottom, _ in regions]
    free = [
        line for line in lines if not any(t <= (line.top + line.bottom) / 2 <= b for t, b in taken)
    ]
    run: list[_Line] = []
    for line in [*free, None]:
        lone = len(run) >= 2 and len(run[-1].segments) < 2 and len(run[-2].segments) < 2
        if line is not None and not lone and (len(line.segments) >= 2 or run):
            run.append(line)  # a line of one piece: a wrapped cell's, unless two in a row
            continue
        while run and len(run[-1].segments) < 2:
            run.pop()
        if sum(len(r.segments) >= 3 for r in run) >= MIN_TABULAR_LINES:
            regions.append((run[0].top, run[-1].bottom, None))
        run = [line] if line is not None and len(line.segments) >= 2 else []
    return sorted(regions)


def _rule_sets(rules: list[Rule], lines: list[_Line]) -> list[tuple[list[float], list[Rule]]]:
    """The distinct heights of each table's horizontal rules, top to bottom, and its rules:
    rules that overlap along the page one under the other, two heights or more (a frame's top
    and bottom are two). A rule may stop short where it would cross a merged cell; a gap with no
    text between two rules parts two tables (two frames one above the other), and so does one
    far wider than the others, unless a line in it holds cells side by side (a tall row)."""
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
        parts = [[ys[0]]]
        for gap, y in zip(gaps, ys[1:]):
            between = [line for line in lines if y - gap < (line.top + line.bottom) / 2 < y]
            wide = gap > TABLE_GAP * usual and gap > MIN_TABLE_GAP
            if not between or (wide and not any(len(line.segments) >= 2 for line in between)):
                parts.append([])
            parts[-1].append(y)
        for part in parts:
            if len(part) >= 2:
                own = [r for r in chain if part[0] - SAME_EXTENT <= r[0] <= part[-1] + SAME_EXTENT]
                out.append((part, own))
    return out


STEP = 0.5  # points: the resolution of column boundaries
STRONG = 0.5  # a column boundary with this share of the best one's votes holds in every gap


def _column_scores(multi: list[_Line]) -> tuple[float, list[int]]:
    """The left edge and, every ``STEP`` from it, how many lines have a gap between two cells
    there less how many run text across."""
    left = min(s.x0 for line in multi for s in line.segments)
    right = max(s.x1 for line in multi for s in line.segments)
    score = [0] * (int((right - left) / STEP) + 2)
    for line in multi:
        for s in line.segments:  # text running across: against a boundary here
            for i in range(int((s.x0 - left) / STEP), int((s.x1 - left) / STEP) + 1):
                score[i] -= 1
        for a, b in zip(line.segments, line.segments[1:]):  # a gap between two cells: for
            for i in range(int((a.x1 - left) / STEP) + 1, int((b.x0 - left) / STEP)):
                score[i] += 1
    return left, score


def _columns(lines: list[_Line]) -> list[float]:
    """Column boundaries (inner ones) where more lines have a gap than run text across."""
    multi = [line for line in lines if len(line.segments) >= 2]
    if not multi:
        return []
    left, score = _column_scores(multi)
    size, step = len(score), STEP
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

    def column(s: _Segment) -> int:
        return sum(1 for b in bounds if b < s.x0 + 1)

    rows = [[s for line in row for s in line.segments] for row in _rows(lines, bands)]
    n_cols = len(bounds) + 1
    if n_cols < 2 or len(rows) < 2:
        return None
    cells: list[Cell] = []
    for r, row in enumerate(rows):
        texts: dict[int, list[_Segment]] = {}
        for s in row:
            texts.setdefault(column(s), []).append(s)
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
