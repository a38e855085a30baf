"""Domain corrections of OCR text: snap near-misses to the form's vocabulary, fix number glyphs.

Nothing is invented: a cell is changed only when one known label is within a small edit distance,
when the text is a number once look-alike glyphs are read as digits, when a lone '一' stands for
the blank dash '—', or when Chinese punctuation was read half-width. Every change returns a note
for ``Cell.note``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from schemas.vocabulary import (
    FUND_COLUMN_WORDS,
    FUND_LINES,
    GOAL_ACTUAL,
    GOAL_OVERALL,
    GOAL_PLANNED,
    HEADER_WORDS,
    INDICATOR_HEADER_WORDS,
    LEVEL1,
    LEVEL2,
    TOTAL_WORDS,
    canonical_level,
)

_EXTRA_LABELS = (
    "其中：当年财政拨款",
    "其中：本年财政拨款",
    "其中：财政资金",
    "子项目名称",
    "预算金额（元）",
    "预算金额（万元）",
    "项目资金（元）",
    "项目资金（万元）",
    "年度总体目标",
    "项目绩效目标",
    "绩效指标",
    "项目性质",
    "项目类别",
    "资金用途",
    "政策概况",
    "评价时段",
    "执行率(B/A)",
    "全年预算数(A)",
    "全年执行数(B)",
)
VOCABULARY: frozenset[str] = frozenset(
    {*LEVEL1, *LEVEL2, *HEADER_WORDS, *FUND_COLUMN_WORDS, *FUND_LINES, *TOTAL_WORDS}
    | {*GOAL_PLANNED, *GOAL_ACTUAL, *GOAL_OVERALL, *_EXTRA_LABELS}
    | set(INDICATOR_HEADER_WORDS)
)
_SNAPPABLE = sorted(w for w in VOCABULARY if len(w) >= 3)  # 2-character labels are too close
_SCORE_SUFFIX = re.compile(r"^(.*?)([(（]\s*\d+(?:\.\d+)?\s*分\s*[)）])$")

_NUMBER_CELL = re.compile(
    r"(?P<op>[<>=≥≤＞＜＝]{0,2})(?P<num>[0-9OoIl|，,.。 ]+)"
    r"(?P<unit>%|％|\(%\)|（%）|[\u4e00-\u9fff]{1,4})?"
)
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "，": ",", "。": "."}
)
_FULL_WIDTH = {";": "；", ":": "：", ",": "，", "?": "？", "!": "！"}
_ASCII_BETWEEN_CJK = re.compile(r"(?<=[\u4e00-\u9fff])[;:,?!](?=[\u4e00-\u9fff])")
_ASCII_BRACKETS_CJK = re.compile(r"(?<=[\u4e00-\u9fff])\(([\u4e00-\u9fff]+)\)")
_DASH_LOOKALIKES = frozenset({"一", "一一", "_", "__", "ー"})
_NUMBER = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?")


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance between two short strings; with ``limit``, any distance above it is
    returned as ``limit + 1`` as soon as that is certain (a row's minimum never decreases)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _allowed(word: str) -> int:
    """Edits tolerated for a label: one for short labels, a fifth of the length for long ones."""
    return max(1, len(word) // 5)


@lru_cache(maxsize=4096)  # a page's cells are snapped, then asked again whether they are labels
def snap_label(text: str) -> str | None:
    """The one vocabulary label ``text`` is a near miss of, or None (exact, far, or ambiguous)."""
    key = re.sub(r"\s+", "", text)
    suffix = ""
    match = _SCORE_SUFFIX.match(key)
    if match:
        key, suffix = match.group(1), match.group(2)
    if len(key) < 3 or key in VOCABULARY:
        return None
    best: list[tuple[int, str]] = []
    for word in _SNAPPABLE:
        if abs(len(word) - len(key)) > _allowed(word) or word in key:
            continue  # a label inside a longer text ('子项目名称') is another label, not a typo
        if "元" in word and ("万" in word) != ("万" in key):
            continue  # the money unit is what the label says: 预算金额（万元） is no typo of （元）
        d = edit_distance(key, word, _allowed(word))
        if d <= _allowed(word):
            best.append((d, word))
    if not best:
        return None
    best.sort()
    if len(best) > 1 and best[1][0] == best[0][0]:
        return None  # two labels equally close: leave the text as read
    return best[0][1] + suffix


def is_label(text: str, near_miss: bool = True) -> bool:
    """Whether ``text`` is one label of the form's vocabulary, as printed or (``near_miss``) a
    near miss."""
    key = re.sub(r"\s+", "", text)
    if key in VOCABULARY or canonical_level(key) in VOCABULARY:
        return True
    return near_miss and snap_label(key) is not None


def holds_labels(text: str) -> bool:
    """Whether ``text`` holds two or more labels of the vocabulary and is not one itself (the
    labels of cells that a lost ruling joined)."""
    key = re.sub(r"\s+", "", text)
    return not is_label(key) and sum(word in key for word in _SNAPPABLE) >= 2


def fix_number(text: str) -> str | None:
    """A numeric cell with look-alike glyphs or stray spaces repaired ('1O0%' → '100%'), or None."""
    stripped = text.strip()
    match = _NUMBER_CELL.fullmatch(stripped)
    if match is None:
        return None
    raw = match.group("num")
    if not re.search(r"[0-9]", raw) and len(raw.strip()) != 1:
        return None  # letters alone are a number only as a single glyph ('o' → '0')
    num = raw.translate(_DIGIT_LOOKALIKES).replace(" ", "").strip(",")
    if not _NUMBER.fullmatch(num):
        return None
    fixed = match.group("op") + num + (match.group("unit") or "")
    return fixed if fixed != stripped else None


def fix_dash(text: str) -> str | None:
    """A cell holding only a dash read as '一' or '_' (the blank marker '—'), or None."""
    return "—" if text.strip() in _DASH_LOOKALIKES else None


def fix_punctuation(text: str) -> str | None:
    """Chinese punctuation read as half-width: a bracket closed in the width it was opened
    ('（分值合计不为100)' → '…100）'), then ',;:?!' between Chinese characters and brackets
    around Chinese words made full-width ('青年(大学生)' → '青年（大学生）'). None if unchanged."""
    out, opened = [], []
    for ch in text:
        if ch in "(（":
            opened.append(ch)
        elif ch in ")）" and opened:
            ch = ")" if opened.pop() == "(" else "）"
        out.append(ch)
    fixed = _ASCII_BETWEEN_CJK.sub(lambda m: _FULL_WIDTH[m.group(0)], "".join(out))
    fixed = _ASCII_BRACKETS_CJK.sub(r"（\1）", fixed)
    return fixed if fixed != text else None


def correct(text: str) -> tuple[str, str | None]:
    """The corrected text and a note saying what changed (None when nothing did)."""
    fixed = text
    for fix in (fix_dash, fix_punctuation, snap_label, fix_number):
        fixed = fix(fixed) or fixed
    if fixed == text:
        return text, None
    return fixed, f"OCR read '{text}', corrected to '{fixed}'"
