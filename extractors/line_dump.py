"""Forms in page text dumped line by line, rebuilt into the grid model by what the text means.

``pdftotext`` (without -layout) and PDF libraries' ``extract_text()`` print a page one line per
printed text line: the cells of a row separated by single spaces, a cell that wraps in its column
split over the lines around its row and interleaved with its neighbours' lines, a merged cell's
text on the lines around the middle of its span (``满意度指`` / ``标``). No column positions
survive, so the grid is rebuilt from the vocabulary:

- the header and funds lines split into label/value pairs at the labels the forms print; a value
  wrapped in its cell is rejoined from the lines just above and below its label's line, a label
  printed one piece a line in a narrow column from its pieces;
- goal texts printed side by side split where a line holds two pieces and by line width where it
  holds one (the form's notes then say their line order may be mixed);
- each indicator line ends with its value(s), its 三级 name before them or wrapped around them;
  the 一级/二级 names before it and on lines of their own are fragments rejoined into names of
  the vocabulary. Each name's merged cell is centred on where it prints (on a row's line: an odd
  span around that row; between two rows: an even span), so the rebuilt cells carry their spans
  and the rows under a span of several are ``hierarchy_inferred``.

A table whose header cells wrap over several lines is not guessed (its columns cannot be told
apart): its lines stay text and the file's record says so. Whatever else cannot be placed is named
in the grid's notes, which the form parser puts on the form.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from extractors.values import compact, parse_number, parse_value
from schemas.families import family_of_title
from schemas.grid import Cell, Grid, text_block
from schemas.vocabulary import (
    COLUMN_ROLES,
    FUND_COLUMNS,
    FUND_LINES,
    FUNDS_GROUPS,
    GOAL_ACTUAL,
    GOAL_GROUPS,
    GOAL_OVERALL,
    GOAL_PLANNED,
    HEADER_LABELS,
    HEADER_OTHER_LABELS,
    HEADER_WORDS,
    INDICATOR_HEADER_WORDS,
    LEVEL1,
    LEVEL2,
    LEVEL2_PARENT,
    LEVEL_ALIASES,
    LEVEL_WEIGHT,
    OUTER_LEVELS,
    YEAR_IN_PARENS,
    canonical_level,
)

LEVEL_NAMES = frozenset(LEVEL1 | LEVEL2 | set(LEVEL_ALIASES) | OUTER_LEVELS)
ANNUAL_WORDS = ("当年", "本年", "上年", "年度")  # a funds line of the year's column
SENTENCE_END = '。；;"”’'
_PAGE_NUMBER = re.compile(r"^[-—–\s]*\d(\s?\d){0,3}[-—–\s]*$")  # "—29—", "2 6"


def _key(text: str) -> str:
    """Text as labels are matched: no spaces, ASCII parentheses, no trailing colon."""
    return compact(text).replace("（", "(").replace("）", ")").rstrip(":：")


def _fund_line(text: str) -> str | None:
    key = re.sub(r"^其中[:：]?", "", _key(text))
    return FUND_LINES.get(re.sub(r"\((万?元)\)$", "", key))


def _funds_label(text: str) -> bool:
    """A funds line's label, or the project's or the year's total ('项目资金总额')."""
    key = _key(text)
    totals = [p for p, name in HEADER_LABELS if name in ("project_funds_total", "annual_request")]
    return _fund_line(text) is not None or any(p.fullmatch(key) for p in totals)


def _header_label(text: str) -> bool:
    key = _key(text)
    return any(p.fullmatch(key) for p, _ in HEADER_LABELS) or key in HEADER_OTHER_LABELS


def _goal_label(text: str) -> bool:
    key = _key(text)
    return key in GOAL_PLANNED or key in GOAL_ACTUAL or key in GOAL_OVERALL


def _column_roles(tokens: list[str]) -> list[str] | None:
    """The indicator table's column roles, when a line is its header ('一级指标 二级指标 …')."""
    roles: list[str] = []
    for token in tokens:
        key = _key(token)
        role = next((name for name, pattern in COLUMN_ROLES if pattern.search(key)), None)
        if role is None:
            return None
        if role != "outer":
            roles.append(role)
    if "l3" not in roles or len(set(roles)) != len(roles):
        return None
    levels = roles[: roles.index("l3")]  # the levels lead the line, its 三级 and values follow
    if not set(levels) <= {"l1", "l2"}:
        return None
    if "l1" not in levels and not {"target", "actual", "weight"} & set(roles):
        return None
    return roles


def _width(text: str) -> int:
    """Printed width in half-width characters: a CJK character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _level_fragment(token: str) -> bool:
    """A token that is a vocabulary level name or a piece of one ('满意度指', '标')."""
    text = _piece(token)
    return bool(text) and any(text in name for name in LEVEL_NAMES)


def _piece(token: str) -> str:
    """A level fragment as matched: no spaces, no printed weight ('产出指标（50分）')."""
    return LEVEL_WEIGHT.sub("", compact(token))


@dataclass
class _Rebuilt:
    """One form's rows as cells, the level cells' spans where rebuilt, what could not be placed."""

    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rowspans: dict[tuple[int, int], int] = field(default_factory=dict)  # (row, col) → rows
    spans_inferred: bool = False  # the level cells' spans were rebuilt from where names print

    def grid(self, source: str) -> Grid:
        covered = {(r + k, c) for (r, c), span in self.rowspans.items() for k in range(1, span)}
        cells = [
            Cell(row=r, col=c, text=text, rowspan=self.rowspans.get((r, c), 1))
            for r, row in enumerate(self.rows)
            for c, text in enumerate(row)
            if text and (r, c) not in covered
        ]
        n_cols = max((len(row) for row in self.rows), default=1)
        return Grid(
            cells=cells,
            n_rows=len(self.rows),
            n_cols=n_cols,
            spans_known=self.spans_inferred,
            spans_inferred=self.spans_inferred,
            source=source,
            notes=self.notes,
        )


def rebuild_forms(lines: list[str], source: str) -> tuple[list[Grid], list[str]] | None:
    """The grids of text dumped line by line (each form rebuilt, the other lines free text), and
    what the file's record should say of forms that could not be rebuilt.

    None when no line is an indicator table's header (nothing here is a line-dumped form).
    """
    lines = [line.strip() for line in lines if line.strip()]
    headers = [i for i, line in enumerate(lines) if _column_roles(line.split())]
    if not headers:
        return None
    grids: list[Grid] = []
    notes: list[str] = []
    done = 0  # lines before this one are placed
    for header in headers:
        if header < done:
            continue  # a header printed again on the table's next page
        start = _form_start(lines, done, header)
        if start > done:
            grids.append(_text_grid(lines[done:start], source))
        if _header_wrapped(lines, header):
            done = _next_form(lines, header)
            grids.append(_unread_grid(lines[start:done], source))
            notes.append(
                f"the indicator table under '{lines[header]}' has header cells wrapped over "
                "several lines: its columns cannot be told apart in text dumped line by line; "
                "read the form from its PDF"
            )
            continue
        form = _Rebuilt()
        _read_head(lines[start:header], form)
        done = _read_table(lines, header, form)
        grids.append(form.grid(source))
    if done < len(lines):
        grids.append(_text_grid(lines[done:], source))
    return grids, notes


def _header_wrapped(lines: list[str], header: int) -> bool:
    """Pieces of header cells on the line above or below the header line ('二级 年度 实际')."""
    for i in (header - 1, header + 1):
        tokens = lines[i].split() if 0 <= i < len(lines) else []
        pieces = tokens and all(_header_piece(t) for t in tokens)
        if pieces and not all(_level_fragment(t) for t in tokens):
            return True
    return False


def _header_piece(token: str) -> bool:
    key = _key(token)
    return len(key) >= 2 and any(key in _key(word) for word in INDICATOR_HEADER_WORDS)


def _next_form(lines: list[str], after: int) -> int:
    """The first line of the next form after ``after`` (a title or a 项目名称 line), or the end."""
    for i in range(after + 1, len(lines)):
        if _is_title(lines[i]) or any(
            _key(t) in ("项目名称", "政策名称") for t in lines[i].split()
        ):
            return i
    return len(lines)


def _unread_grid(lines: list[str], source: str) -> Grid:
    """A form's lines left as the plain text reader gives them: one cell a line, in a table."""
    cells = [Cell(row=r, col=0, text=line) for r, line in enumerate(lines)]
    return Grid(cells=cells, n_rows=len(lines), n_cols=1, spans_known=False, source=source)


def _text_grid(lines: list[str], source: str) -> Grid:
    """Lines outside any form: free text, one cell a line."""
    return text_block(lines, source=source)


def _is_title(line: str) -> bool:
    return family_of_title(line) is not None


def _form_start(lines: list[str], first: int, header: int) -> int:
    """Where the form whose indicator header is at ``header`` begins: its title, else its first
    header label line, else the header itself."""
    titles = [
        i
        for i in range(first, header)
        if _is_title(lines[i]) or (i + 1 < header and _is_title(lines[i] + lines[i + 1]))
    ]  # a title wrapped over two lines too
    if titles:
        return titles[-1]
    labelled = [i for i in range(first, header) if any(map(_header_label, lines[i].split()))]
    return labelled[0] if labelled else header


# ---------------------------------------------------------------- header, funds and goals


@dataclass
class _Pair:
    label: str
    value: str | None  # None: the value is not on the label's line (it wraps around it)


def _read_head(lines: list[str], form: _Rebuilt) -> None:
    """The lines from the title to the indicator table, in printed order: titles, years and
    group labels as they are, label lines as label/value cells, goals with their texts."""
    lines = _join_labels(lines)
    tokens = [_tokens(line) for line in lines]
    kinds = [_line_kind(t) for t in tokens]
    goal_at = next((i for i in range(len(lines)) if _goal_columns(kinds, tokens, i)), len(lines))
    cells: dict[float, list[str]] = {}
    used: set[int] = set()
    for i in reversed(range(goal_at)):  # from the bottom: a value wraps around its own label
        if kinds[i] == "pairs":
            pairs = _pairs(tokens[i])
            _unwrap(pairs, tokens, kinds, i, used, form)
            cells[i] = _pair_cells(pairs)
    for i in range(goal_at - 1):  # a title wrapped over two lines: one cell
        if kinds[i] == kinds[i + 1] == "text" and not _is_title(lines[i]):
            if _is_title(lines[i] + lines[i + 1]):
                cells[i] = [lines[i] + lines[i + 1]]
                used.update({i, i + 1})
    for i in range(goal_at):
        if kinds[i] in ("goal", "goal_text") and i not in used:
            cells[i] = _goal_text(lines, tokens, kinds, i, used)
    fund_header: list[str] | None = None
    for i in range(goal_at):
        if kinds[i] == "fund_header":
            fund_header = tokens[i]
            cells[i] = ["", *tokens[i]]
        elif kinds[i] == "fund_columns" and fund_header is not None:
            cells[i] = _fund_columns_row(tokens[i], fund_header, form)
        elif kinds[i] == "text" and i not in used:
            if _is_title_or_note(lines[i]) or _group_label(lines[i]):
                cells[i] = [lines[i]]
            else:
                form.notes.append(f"header text not placed: '{lines[i]}'")
    pieces = [t[0] for i, t in enumerate(tokens[:goal_at]) if t and _group_label(t[0])]
    if "万元" in "".join(_key(piece) for piece in pieces):  # '（万' / '元）': the block's unit
        first = next((i for i in range(goal_at) if kinds[i] == "pairs"), 0)
        cells[first - 0.5] = ["（万元）"]
    form.rows += [cells[i] for i in sorted(cells)]
    if goal_at < len(lines):
        _read_goals(lines[goal_at:], form)


def _join_labels(lines: list[str]) -> list[str]:
    """Labels printed in a narrow column, one piece a line ('主管' / … / '部门'), rejoined: the
    label goes on the line between its pieces that holds no label of its own, else on its first
    piece's line; the pieces' lines go."""
    words = _label_words()
    out = list(lines)
    drop: set[int] = set()
    i = 0
    while i < len(out):
        if not _label_piece(out[i], words):
            i += 1
            continue
        joined, at = _key(out[i]), [i]
        j = i + 1
        while j < len(out) and j - at[-1] <= 2 and any(w.startswith(joined) for w in words):
            if _label_piece(out[j], words) and any(
                w.startswith(joined + _key(out[j])) for w in words
            ):
                joined += _key(out[j])
                at.append(j)
                if joined in words:
                    break
            j += 1
        if joined not in words or len(at) < 2:
            i += 1
            continue
        between = [k for k in range(at[0] + 1, at[-1]) if k not in at]
        host = next((k for k in between if not _starts_with_label(out[k])), None)
        if host is None:
            out[at[0]] = joined
            drop.update(at[1:])
        else:
            out[host] = f"{joined} {out[host]}"
            drop.update(at)
        i = at[-1] + 1
    return [line for k, line in enumerate(out) if k not in drop]


def _label_words() -> set[str]:
    """Every label a form's head prints, matched without spaces and ASCII parentheses."""
    words = {_key(w) for w in (*HEADER_WORDS, *HEADER_OTHER_LABELS, *FUND_LINES)}
    words |= {_key(w) for w in (*GOAL_PLANNED, *GOAL_OVERALL, *GOAL_ACTUAL)}
    return words | {w for w in FUNDS_GROUPS}


def _label_piece(line: str, words: set[str]) -> bool:
    """A line of one short piece of a label ('主管', '名称', '年度')."""
    key = _key(line)
    return (
        len(line.split()) == 1
        and 1 <= len(key) <= 4
        and key not in words
        and any(key in w for w in words)
    )


def _starts_with_label(line: str) -> bool:
    first = line.split()[0] if line.split() else ""
    return _header_label(first) or _funds_label(first) or _goal_label(first)


def _goal_columns(kinds: list[str], tokens: list[list[str]], at: int) -> bool:
    """Goal labels printed side by side begin here ('项目总目标 年度总体目标', or on two lines)."""
    if kinds[at] != "goal":
        return False
    labels = [t for t in tokens[at] if _goal_label(t)]
    following = tokens[at + 1] if at + 1 < len(tokens) and kinds[at + 1] == "goal" else []
    return len(labels) + len([t for t in following if _goal_label(t)]) >= 2


def _goal_text(
    lines: list[str], tokens: list[list[str]], kinds: list[str], at: int, used: set[int]
) -> list[str]:
    """One goal: its label, and its text on the label's line, or wrapped around it (the text
    lines just above and below that no label took)."""
    label = next(t for t in tokens[at] if _goal_label(t))
    text = [" ".join(t for t in tokens[at] if not _goal_label(t))]
    above = at - 1
    while above >= 0 and kinds[above] == "text" and above not in used:
        if _is_title_or_note(lines[above]) or _group_label(lines[above]):
            break
        above -= 1
    below = at + 1
    while below < len(lines) and kinds[below] == "text" and below not in used:
        if _is_title_or_note(lines[below]) or _group_label(lines[below]):
            break
        below += 1
    around = [*range(above + 1, at), *range(at + 1, below)]
    used.update(around)
    ordered = (
        [lines[i] for i in range(above + 1, at)] + text + [lines[i] for i in range(at + 1, below)]
    )
    return [label, "".join(part for part in ordered if part)]


def _tokens(line: str) -> list[str]:
    """A line's pieces between spaces, '项目名称：X' split into its label and value."""
    out: list[str] = []
    for token in line.split():
        label, colon, value = token.replace(":", "：").partition("：")
        if colon and value and (_header_label(label) or _funds_label(label)):
            out += [label, value]
        else:
            out.append(token)
    return out


def _line_kind(tokens: list[str]) -> str:
    if any(_goal_label(t) for t in tokens) and all(
        _goal_label(t) or _group_fragment(t) for t in tokens
    ):
        return "goal"
    if tokens and _goal_label(tokens[0]):
        return "goal_text"  # '总体目标 按照…': a goal and its text on one line
    money = {role for t in tokens for pattern, role in FUND_COLUMNS if pattern.match(_key(t))}
    if len(money & {"budget_initial", "budget_full_year", "budget_executed"}) >= 2:
        return "fund_header"
    if any(_header_label(t) or _fund_line(t) for t in tokens):
        values = [t for t in tokens if parse_number(t.rstrip("%％")) is not None]
        if _fund_line(tokens[0]) and len(values) >= 3:
            return "fund_columns"
        return "pairs"
    return "text"


def _is_title_or_note(line: str) -> bool:
    """A title, a year line or a money-unit line: cells the form parser reads as they are."""
    key = compact(line)
    return _is_title(line) or bool(YEAR_IN_PARENS.fullmatch(key)) or "单位" in key[:4]


def _group_label(line: str) -> bool:
    """A piece of the label merged over the funds block ('项目资金', '专项', '（万', '元）')."""
    key = _key(line)
    return bool(key) and not re.search(r"\d", key) and any(key in word for word in FUNDS_GROUPS)


def _group_fragment(token: str) -> bool:
    key = _key(token)
    return bool(key) and any(key in word for word in (*GOAL_GROUPS, "项目资金(元)", "(万元)"))


def _pairs(tokens: list[str]) -> list[_Pair]:
    """'项目名称 X 项目性质 项目类别 Y' → (项目名称, X), (项目性质, None), (项目类别, Y)."""
    pairs: list[_Pair] = []
    for token in tokens:
        if _header_label(token) or _fund_line(token):
            pairs.append(_Pair(token, None))
        elif pairs and pairs[-1].value is None:
            pairs[-1].value = token
        elif pairs:
            pairs[-1].value = f"{pairs[-1].value} {token}"  # a value printed with a space
        else:
            pairs.append(_Pair("", token))  # a group label before the first pair
    return pairs


def _unwrap(
    pairs: list[_Pair],
    tokens: list[list[str]],
    kinds: list[str],
    at: int,
    used: set[int],
    form: _Rebuilt,
) -> None:
    """Values missing from a label's line: the pieces on the wrap lines just above and below,
    one piece a missing value on each, in order."""
    missing = [p for p in pairs if p.label and p.value is None]
    if not missing:
        _unwrap_middle(pairs, tokens, kinds, at, used)
        return
    pieces: list[list[str]] = []
    for i in (at - 1, at + 1):
        if 0 <= i < len(tokens) and i not in used and kinds[i] == "text":
            if len(tokens[i]) == len(missing) and not _group_label(" ".join(tokens[i])):
                pieces.append(tokens[i])
                used.add(i)
    if not pieces:
        names = "、".join(p.label for p in missing)
        form.notes.append(f"no value found for {names}")
        return
    for n, pair in enumerate(missing):
        pair.value = "".join(piece[n] for piece in pieces)


def _unwrap_middle(
    pairs: list[_Pair], tokens: list[list[str]], kinds: list[str], at: int, used: set[int]
) -> None:
    """A value wrapped over three lines, its middle on the label's line: the one value as wide
    as the single pieces just above and below it (a wrapped cell's full lines fill its width)."""
    around = [at - 1, at + 1]
    if not all(0 <= i < len(tokens) and i not in used and kinds[i] == "text" for i in around):
        return
    above, below = (tokens[i] for i in around)
    if len(above) != 1 or len(below) != 1 or _group_label(below[0]) or _group_label(above[0]):
        return
    wide = [
        p
        for p in pairs
        if p.label
        and p.value
        and parse_number(p.value) is None  # an amount does not wrap
        and _width(p.value) == _width(above[0])
    ]
    if len(wide) == 1:
        wide[0].value = above[0] + (wide[0].value or "") + below[0]
        used.update(around)


def _pair_cells(pairs: list[_Pair]) -> list[str]:
    """Label/value cells. A funds line's pair sits in the year's column (cells 3–4) when its label
    names the year or it is the line's second pair, else in the total's column (cells 1–2)."""
    cells: list[str] = []
    funds = [p for p in pairs if p.label and _funds_label(p.label)]
    if funds and len(funds) == len([p for p in pairs if p.label]) and len(pairs) <= 3:
        cells = ["", "", "", "", ""]
        group = next((p.value or "" for p in pairs if not p.label), "")
        cells[0] = group
        labelled = [p for p in pairs if p.label]
        for n, pair in enumerate(labelled):
            right = n > 0 or (len(labelled) == 1 and _annual_label(pair.label))
            col = 3 if right else 1
            cells[col], cells[col + 1] = pair.label, pair.value or ""
        return cells
    for pair in pairs:
        cells += [pair.label, pair.value or ""]
    return cells


def _annual_label(label: str) -> bool:
    key = re.sub(r"^其中[:：]?", "", _key(label))
    return key.startswith(ANNUAL_WORDS) or "年度资金" in key


def _fund_columns_row(tokens: list[str], header: list[str], form: _Rebuilt) -> list[str]:
    """A self-evaluation's funds line under its column header: one value a column."""
    label, values = tokens[0], tokens[1:]
    if len(values) != len(header):
        form.notes.append(
            f"funds line {label}: {len(values)} values for {len(header)} columns, "
            "placed from the left"
        )
    return [label, *values]


def _read_goals(lines: list[str], form: _Rebuilt) -> None:
    """The goal block: its column labels, then texts printed side by side, one column or two
    pieces a line. One-piece lines go to the column their width and neighbours say."""
    labels: list[str] = []
    body: list[list[str]] = []
    remaining = ""  # the rest of the block's own label ('项目绩效目标') still to strip
    for line in lines:
        tokens = line.split()
        if not body and all(_goal_label(t) for t in tokens):
            labels += tokens
            continue
        if not body and re.fullmatch(r"[(（].*[)）]", line):
            continue  # '(2024 年-2026 年)': the label's second line
        while tokens:
            key = _key(tokens[0])
            if remaining and remaining.startswith(key):
                remaining = remaining[len(key) :]
            elif not remaining and any(w.startswith(key) and w != key for w in GOAL_GROUPS):
                remaining = next(w for w in GOAL_GROUPS if w.startswith(key))[len(key) :]
            elif key in GOAL_GROUPS:
                pass
            else:
                break
            tokens = tokens[1:]
        if tokens:
            body.append(tokens)
    if not labels:
        return
    if len(labels) == 1:
        form.rows.append([labels[0], "".join("".join(tokens) for tokens in body)])
        return
    columns: list[list[str]] = [[] for _ in labels]
    if _split_columns(body, columns):
        form.notes.append(
            "goal texts rebuilt from lines printed side by side; their line order may be mixed"
        )
    label_row = [""]
    text_row = [""]
    for label, column in zip(labels, columns, strict=True):
        label_row += [label, ""]
        text_row += ["".join(column), ""]
    form.rows += [label_row, text_row]


def _split_columns(body: list[list[str]], columns: list[list[str]]) -> bool:
    """Two goal columns from their lines; returns whether one-piece lines were placed by width."""
    left, right = columns[0], columns[-1]
    paired = [tokens for tokens in body if len(tokens) >= 2]
    left_width = max((_width(t[0]) for t in paired), default=0)
    right_width = max((_width(" ".join(t[1:])) for t in paired), default=0)
    singles = [t[0] for t in body if len(t) == 1]
    if not paired and singles:
        widths = [_width(s) for s in singles]
        left_width = max(widths)
        open_widths = [w for w, s in zip(widths, singles, strict=True) if s[-1] not in SENTENCE_END]
        narrower = [w for w in open_widths if w < left_width - 2]
        right_width = max(narrower, default=0)
    mixed = False
    last = left
    for n, tokens in enumerate(body):
        if len(tokens) >= 2:
            left.append(tokens[0])
            right.append("".join(tokens[1:]))
            last = right
            continue
        piece, width = tokens[0], _width(tokens[0])
        mixed = True
        if right_width and width > right_width + 1:
            target = left
        elif left_width and paired and width > left_width + 1:
            target = right
        elif not paired and width >= left_width - 1:
            target = left
        elif not paired and right_width and abs(width - right_width) <= 1:
            target = right
        elif not paired and any(
            _width(t[0]) > right_width + 1 and _width(t[0]) < left_width - 1 for t in body[n + 1 :]
        ):
            target = right  # the left column's short last line is still to come
        else:
            target = last
        target.append(piece)
        last = target
    return mixed


# ---------------------------------------------------------------- the indicator table


@dataclass
class _Name:
    """A level name being rejoined from its fragments, and the lines it was printed on."""

    text: str
    lines: list[int]
    rows: set[int] = field(default_factory=set)  # indicator rows it was printed on
    middle: float = 0.0  # where it is printed, in rows (2.5: between the third and fourth)
    exact: bool = False  # a piece of it is printed on its row's own line


@dataclass
class _Line:
    """A line of the indicator table: an indicator row (values at its end, its 三级 on it or
    wrapped around it), or a piece of a wrapped 三级 name; its level fragments stand apart."""

    at: int
    name: list[str]  # the 三级 pieces, top to bottom
    values: list[str] | None  # None: a piece of a 三级 name, no row
    tokens: int = 1  # the pieces between spaces after the level fragments
    levels: bool = False  # level fragments are printed on the line too

    @property
    def row(self) -> bool:
        return self.values is not None


def _read_table(lines: list[str], header: int, form: _Rebuilt) -> int:
    """The indicator table from its header line to the next form or the last line that belongs
    to a row; returns the line after it."""
    roles = _column_roles(lines[header].split()) or []
    n_values = len(roles) - roles.index("l3") - 1
    header_tokens = [t for t in lines[header].split() if _key(t) not in OUTER_LEVELS]
    table: list[_Line] = []
    fragments: list[tuple[int, str, int | None]] = []  # (line, text, its _Line or None)
    end = len(lines)
    for i in range(header + 1, len(lines)):
        tokens = lines[i].split()
        if _is_title(lines[i]) or any(_key(t) in ("项目名称", "政策名称") for t in tokens):
            end = i
            break  # the next form
        if _column_roles(tokens) or _PAGE_NUMBER.match(lines[i]):
            continue  # the header printed again on the next page, a page number
        lead = 0
        while lead < min(3, len(tokens)) and _level_fragment(tokens[lead]):
            lead += 1
        rest = tokens[lead:]
        fragments += [(i, t, i if rest else None) for t in tokens[:lead]]
        if not rest:
            continue
        if len(rest) > n_values or (n_values and len(rest) == n_values and _is_value(rest[-1])):
            cut = len(rest) - n_values
            table.append(_Line(i, ["".join(rest[:cut])] if cut else [], rest[cut:], len(rest)))
        else:
            table.append(_Line(i, ["".join(rest)], None, len(rest), lead > 0))
    fragments = _stray_pieces(fragments, table)
    owner = _join_pieces(table, form, n_values)
    last = max(
        [header, *(at for at, _, _ in fragments), *(line.at for line in table if line.row)]
        + [table[k].at for k in owner]
    )
    columns = roles[: roles.index("l3")]
    indicator_rows = [line for line in table if line.row]
    levels = _place_levels(
        _rejoin(_on_rows(fragments, table, owner), {r.at for r in indicator_rows}, form),
        [r.at for r in indicator_rows],
        form,
    )
    form.rows.append(header_tokens)
    top = len(form.rows)
    spans = _spans(levels, len(indicator_rows), columns)
    if spans is None:
        form.notes.append("一级/二级 spans not rebuilt from the line text; left to inference")
    for n, row in enumerate(indicator_rows):
        placed = [levels.get((n, role)) for role in columns]
        form.rows.append([*(p.text if p else "" for p in placed), "".join(row.name), *row.values])
    if spans is not None:
        form.spans_inferred = True
        for (start, role), (text, length) in spans.items():
            col = columns.index(role)
            form.rows[top + start][col] = text
            form.rowspans[(top + start, col)] = length
    return min(last + 1, end)


def _is_value(token: str) -> bool:
    """A target as printed: a number with its operator or unit ('≥1个', '=100.00(%)')."""
    return parse_value(token).value is not None


def _stray_pieces(
    fragments: list[tuple[int, str, int | None]], table: list[_Line]
) -> list[tuple[int, str, int | None]]:
    """A line of one fragment that joins no level name ('数量' under '标准化功能室/功能区建成')
    is a piece of a 三级 name: it moves from the fragments into the table."""
    alone = {at for at, _, on in fragments if on is None}
    alone = {at for at in alone if sum(1 for a, _, _ in fragments if a == at) == 1}
    names = _join_names(fragments)
    stray = {
        n.lines[0] for n in names if len(n.lines) == 1 and _canonical(n.text) not in LEVEL_NAMES
    }
    stray &= alone
    if not stray:
        return fragments
    table += [_Line(at, [text], None) for at, text, _ in fragments if at in stray]
    table.sort(key=lambda line: line.at)
    return [f for f in fragments if f[0] not in stray]


def _join_pieces(table: list[_Line], form: _Rebuilt, n_values: int) -> dict[int, int]:
    """Each piece of a wrapped 三级 name onto its row (piece → row, indexes into ``table``).

    A row printing no name takes the piece just above it, and the one just below unless that
    piece heads the next such row (a name printed a line above its value); a row with pieces on
    both sides takes both (a name centred over three lines); a piece left between two rows ends
    the row above. Pieces after the last row are no part of the table.
    """
    owner: dict[int, int] = {}

    def piece(k: int) -> bool:
        return 0 <= k < len(table) and not table[k].row and k not in owner

    def nameless(k: int) -> bool:
        return 0 <= k < len(table) and table[k].row and not table[k].name

    last_row = max((k for k, line in enumerate(table) if line.row), default=-1)
    for strong in (True, False):  # a value centred between its name's lines: surest first
        for k, line in enumerate(table):
            if line.row or line.tokens != n_values or not (piece(k - 1) and piece(k + 1)):
                continue
            if line.levels or _is_value(line.name[0]) or (not strong and k < last_row):
                line.values, line.name = line.name, []
    for k in [k for k in range(len(table)) if nameless(k)]:
        below = piece(k + 1) and not nameless(k + 2)
        for j in (k - 1, k + 1) if below else (k - 1,):
            if piece(j):
                owner[j] = k
    for k, line in enumerate(table):
        if line.row and line.name and piece(k - 1) and piece(k + 1):
            owner.update({k - 1: k, k + 1: k})
    last_row = max((k for k, line in enumerate(table) if line.row), default=-1)
    for k in range(last_row):
        if piece(k):  # the end of the row above, unless wider than its name (a name's head)
            before = next((j for j in range(k - 1, -1, -1) if table[j].row), None)
            after = next(j for j in range(k + 1, len(table)) if table[j].row)
            width = _width("".join(table[k].name))
            if before is not None and width <= _width(
                table[before].name[-1] if table[before].name else ""
            ):
                owner[k] = before
            elif after is not None:
                owner[k] = after
            else:
                form.notes.append(f"indicator table text not placed: '{''.join(table[k].name)}'")
    for k in sorted(owner):  # top to bottom: each row's name in printed order
        row = table[owner[k]]
        row.name = [*row.name, *table[k].name] if k > owner[k] else [*table[k].name, *row.name]
    for line in table:
        if line.row and not line.name:
            values = " ".join(line.values or [])
            form.notes.append(f"no 三级 name found for the row valued '{values}'")
    return owner


def _on_rows(
    fragments: list[tuple[int, str, int | None]], table: list[_Line], owner: dict[int, int]
) -> list[tuple[int, str, int | None]]:
    """Fragments printed on a row's line, or on a line of its wrapped name, keep that row
    (numbered among the rows)."""
    index = {line.at: k for k, line in enumerate(table)}
    rows = [k for k, line in enumerate(table) if line.row]
    numbers = {k: n for n, k in enumerate(rows)}
    return [
        (at, text, numbers.get(owner.get(index[on], index[on])) if on in index else None)
        for at, text, on in fragments
    ]


def _rejoin(
    fragments: list[tuple[int, str, int | None]], row_lines: set[int], form: _Rebuilt
) -> list[_Name]:
    """The vocabulary names the fragments join into; the rest is named in the notes."""
    whole = []
    for name in _join_names(fragments):
        name.exact = bool(row_lines & set(name.lines))
        if _canonical(name.text) in LEVEL_NAMES:
            whole.append(name)
        else:
            form.notes.append(f"level text not placed: '{name.text}'")
    return whole


def _join_names(fragments: list[tuple[int, str, int | None]]) -> list[_Name]:
    """Level names from their fragments in printed order: each fragment extends the latest name
    it continues into a vocabulary name (one it completes first), else starts a new one."""
    names: list[_Name] = []
    for line, text, row in fragments:
        piece = _piece(text)
        open_names = [n for n in reversed(names) if _continues(n.text, piece)]
        complete = [n for n in open_names if _canonical(n.text + piece) in LEVEL_NAMES]
        chosen = (complete or open_names or [None])[0]
        if chosen is None:
            chosen = _Name("", [])
            names.append(chosen)
        chosen.text += piece
        chosen.lines.append(line)
        if row is not None:
            chosen.rows.add(row)
    return names


def _canonical(text: str) -> str:
    return canonical_level(text)


def _continues(text: str, piece: str) -> bool:
    """``text + piece`` begins (or is) a vocabulary name, and ``text`` is not already whole
    unless a longer name continues it."""
    joined = text + piece
    return bool(text) and any(name.startswith(joined) for name in LEVEL_NAMES)


def _place_levels(
    names: list[_Name], row_lines: list[int], form: _Rebuilt
) -> dict[tuple[int, str], _Name]:
    """(row, 'l1'/'l2') → name: each on the row nearest the middle of where it is printed, as
    一级 or 二级 by the vocabulary."""
    if not row_lines:
        return {}
    by_row: dict[int, list[_Name]] = {}
    for name in names:
        if _canonical(name.text) in OUTER_LEVELS:
            continue
        name.middle = _middle(name, row_lines)
        row = min(range(len(row_lines)), key=lambda n: (abs(n - name.middle), -n))
        by_row.setdefault(row, []).append(name)
    levels: dict[tuple[int, str], _Name] = {}
    for row, here in by_row.items():
        for name in here:
            text = _canonical(name.text)
            others = [_canonical(n.text) for n in here if n is not name]
            is_l1 = text in LEVEL1 and (
                text not in LEVEL2
                or any(LEVEL2_PARENT.get(o) == text for o in others)
                or not any(o in LEVEL1 and LEVEL2_PARENT.get(text) == o for o in others)
            )
            role = "l1" if is_l1 else "l2" if text in LEVEL2 else None
            if role is None or (row, role) in levels:
                form.notes.append(f"level '{name.text}' not placed on row {row + 1}")
                continue
            levels[(row, role)] = name
    return levels


def _middle(name: _Name, row_lines: list[int]) -> float:
    """Where a name is printed, in rows: the rows whose lines hold its pieces, else its own
    lines' middle between the rows around it."""
    on_rows = sorted(name.rows)
    if on_rows:
        return (on_rows[0] + on_rows[-1]) / 2
    line = (name.lines[0] + name.lines[-1]) / 2
    for n, row_line in enumerate(row_lines):
        if line == row_line:
            return float(n)
        if line < row_line:
            return n - 0.5
    return len(row_lines) - 0.5


def _spans(
    levels: dict[tuple[int, str], _Name], n_rows: int, columns: list[str]
) -> dict[tuple[int, str], tuple[str, int]] | None:
    """(first row, role) → (name, rows): each level cell centred on where its name is printed,
    the last reaching the table's end, each ending where the next begins, a 一级 beginning where a
    二级 does. A name on a line of its own may sit half a row off its cell's middle. None where
    the names' places admit no such spans."""
    spans: dict[tuple[int, str], tuple[str, int]] = {}
    children: dict[int, str] | None = None  # first row → 二级 name
    for role in sorted(columns, key=lambda r: r != "l2"):  # 二级 first: a 一级 starts with one
        anchors = sorted((n for (_, r), n in levels.items() if r == role), key=lambda n: n.middle)
        found = _centred(anchors, n_rows - 1, children if role == "l1" else None)
        if found is None:
            return None
        spans.update({(first, role): (name.text, length) for first, length, name in found})
        if role == "l2":
            children = {first: _canonical(name.text) for first, _, name in found}
    return spans


def _holds(children: dict[int, str], first: int, end: int, parent: _Name) -> bool:
    """A 一级 over rows first..end begins with a 二级 and holds only its own 二级."""
    if children and first not in children:
        return False
    name = _canonical(parent.text)
    return all(
        LEVEL2_PARENT.get(child) in (None, name)
        for start, child in children.items()
        if first <= start <= end
    )


def _centred(
    anchors: list[_Name], end: int, children: dict[int, str] | None
) -> list[tuple[int, int, _Name]] | None:
    """Spans (first row, rows, name) for the anchors from the last up, or None. A 一级 span
    begins where a 二级 does and holds no 二级 the vocabulary puts under another 一级."""
    if not anchors:
        return []
    name = anchors[-1]
    middles = [name.middle] if name.exact else [name.middle, name.middle - 0.5, name.middle + 0.5]
    if len(anchors) == 1:  # the top cell: from the first row where its place allows
        middles.sort(key=lambda middle: 2 * middle - end != 0)
    for middle in middles:
        first = 2 * middle - end
        if first != int(first) or not 0 <= first <= end or middle < 0:
            continue
        if children is not None and not _holds(children, int(first), end, name):
            continue
        rest = _centred(anchors[:-1], int(first) - 1, children)
        if rest is not None:
            return [*rest, (int(first), end - int(first) + 1, name)]
    return None
