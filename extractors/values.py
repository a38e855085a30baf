"""Value notation: text normalisation, money, rates and target/actual values (DOMAIN.md §4)."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

_TAG = re.compile(r"<\s*(br|/p|p|/div|div|/li|li)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^<>]{0,200}>")
_CJK = r"\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
# Full-width digits, latin letters and operators become ASCII; CJK punctuation such as ，：（） stays.
_FULLWIDTH = {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}  # ０-９
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_FULLWIDTH.update({chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_FULLWIDTH.update({"＞": ">", "＜": "<", "＝": "=", "％": "%", "＋": "+", "．": ".", "／": "/"})
_FULLWIDTH["\u3000"] = " "
_FULLWIDTH["\xa0"] = " "
_TRANSLATE = str.maketrans(_FULLWIDTH)
_KANGXI = re.compile("[\u2f00-\u2fdf]")


def normalize_text(text: str | None) -> str:
    """HTML stripped, full-width digits/operators made ASCII, whitespace inside Chinese collapsed."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub("\n", text)
        text = _ANY_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if _KANGXI.search(text):  # Kangxi radicals some exporters emit
        text = _KANGXI.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = text.translate(_TRANSLATE)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def compact(text: str) -> str:
    """Text with every space removed, for matching labels such as '年度 总体 目标'."""
    return re.sub(r"\s+", "", text)


BLANKS = {"", "—", "-", "--", "—-", "/", "*", "－", "——", "无", "N/A"}
_PLACEHOLDER = re.compile(r"\*\*|XX|××|某某|……")
_NUMBER = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|\.[0-9]+"


def is_blank(text: str | None) -> bool:
    """True for an empty cell or one of the dashes and slashes forms print for 'nothing'."""
    return text is None or text.strip() in BLANKS


def parse_number(text: str | None) -> float | None:
    """'13,303,150.1' → 13303150.1; anything that is not a plain number → None."""
    if is_blank(text):
        return None
    cleaned = text.strip().replace(" ", "")
    if re.fullmatch(rf"[-+]?(?:{_NUMBER})", cleaned):
        return _finite(float(cleaned.replace(",", "")))
    return None


def parse_points(text: str | None) -> float | None:
    """A 分值 or 得分 cell: '4.5' or '4.5分' → 4.5; anything else → None."""
    if is_blank(text):
        return None
    return parse_number(text.strip().removesuffix("分"))


def _finite(number: float) -> float | None:
    """``number``, or None for a digit string too long to be a float (it overflows to inf)."""
    return number if math.isfinite(number) else None


MAX_AMOUNT = Decimal(10) ** 16  # 元: the largest DECIMAL(18,2) is just below


def parse_money(text: str | None, multiplier: int = 1) -> Decimal | None:
    """A printed amount in the form's unit → 元 as Decimal(…, 2 dp); '万元' forms pass 10000.

    Not an amount: text other than a number, and numbers of 10^16 元 or more (digits of
    neighbouring cells run together; the warehouse holds DECIMAL(18,2)).
    """
    if is_blank(text):
        return None
    cleaned = text.strip().replace(" ", "").replace(",", "")
    if cleaned.endswith("万元"):  # a unit printed in the cell overrides the form's
        cleaned, multiplier = cleaned[:-2], 10000
    cleaned = cleaned.removesuffix("元")
    if not re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)", cleaned):
        return None
    try:
        amount = (Decimal(cleaned) * multiplier).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
    return amount if abs(amount) < MAX_AMOUNT else None


def _rate_parts(text: str | None) -> tuple[str, bool] | None:
    """A rate cell's number as printed and whether it is in percent ('%', or a bare number
    above 1.5); None for anything that is not a rate."""
    if is_blank(text):
        return None
    cleaned = text.strip().replace(" ", "").replace("(%)", "%")
    match = re.fullmatch(rf"({_NUMBER})(%?)", cleaned)
    if not match:
        return None
    digits = match.group(1).replace(",", "")
    value = _finite(float(digits))
    if value is None:
        return None
    return digits, bool(match.group(2)) or value > 1.5


def parse_rate(text: str | None) -> float | None:
    """'71.67%' → 0.7167. A bare number above 1.5 is read as a percentage."""
    parts = _rate_parts(text)
    if parts is None:
        return None
    digits, percent = parts
    value = float(digits)
    return round(value / 100 if percent else value, 10)


def rate_decimals(text: str | None) -> int | None:
    """The decimals of percent a rate was printed with, trailing zeros counted: '83.50%' → 2,
    '100%' → 0, '0.835' → 1 (a fraction's two first decimals are whole percent)."""
    parts = _rate_parts(text)
    if parts is None:
        return None
    digits, percent = parts
    decimals = len(digits.partition(".")[2])
    return decimals if percent else max(decimals - 2, 0)


_OPS = [
    (">=", ">="),
    ("≥", ">="),
    ("=>", ">="),
    ("<=", "<="),
    ("≤", "<="),
    ("=<", "<="),
    ("≧", ">="),
    ("≦", "<="),
    (">", ">"),
    ("<", "<"),
    ("=", "="),
    ("大于等于", ">="),
    ("小于等于", "<="),
    ("不低于", ">="),
    ("不少于", ">="),
    ("不小于", ">="),
    ("至少", ">="),
    ("达到", ">="),
    ("不高于", "<="),
    ("不超过", "<="),
    ("不多于", "<="),
    ("不大于", "<="),
    ("至多", "<="),
    ("大于", ">"),
    ("高于", ">"),
    ("超过", ">"),
    ("小于", "<"),
    ("低于", "<"),
    ("等于", "="),
]
# words before the operator: '均大于95%', '满意度>95%' (the indicator's name said again)
_FILLER = re.compile(
    r"^(均|全部|均应|应)(?=[大小高低不等超至达><=≥≤])|^[\u4e00-\u9fff]{1,8}(?=[<>=≥≤≧≦])"
    r"|^(控制在|保持在|维持在)(?=\d)"
)
_SUFFIX_OPS = [("及以上", ">="), ("以上", ">="), ("及以下", "<="), ("以下", "<="), ("以内", "<=")]
_MULTIPLIERS = {"万": 1e4, "亿": 1e8, "千": 1e3}
# A unit: up to 4 characters, or a rate of such parts ('元/人.天', '次/台/月'); no digits.
_UNIT = re.compile(
    r"(?![^/]*[前后]$)([^\d./()（）]{0,4}|[^\d./]{1,4}(/[^\d./]{1,4}){1,2}(\.[^\d./]{1,2})?)"
    r"([(（][^\d()（）]{1,4}[)）])?"
)
_UNIT_ALIASES = {"(%)": "%", "（%）": "%", "百分比": "%", "百分点": "%"}


@dataclass(frozen=True)
class Value:
    """A target or actual value: operator, number (万 multiplied out) and unit."""

    op: str | None
    value: float | None
    unit: str | None


QUALITATIVE = Value(None, None, None)


def parse_value(text: str | None) -> Value:
    """Read '>5000人', '≥16万人次', '=100.00(%)', '95%以上', '125家'; free text is qualitative."""
    if is_blank(text) or _PLACEHOLDER.search(text):
        return QUALITATIVE
    rest = _FILLER.sub("", normalize_text(text).replace(" ", ""))
    op = None
    for token, name in _OPS:
        if rest.startswith(token):
            op, rest = name, rest[len(token) :]
            break
    for token, name in _SUFFIX_OPS:
        if rest.endswith(token):
            op = op or name
            rest = rest[: -len(token)]
            break
    match = re.fullmatch(rf"({_NUMBER})(.*)", rest)
    if not match:
        return QUALITATIVE
    number = float(match.group(1).replace(",", ""))
    unit = match.group(2)
    if unit[:1] in _MULTIPLIERS and len(unit) > 0:
        number *= _MULTIPLIERS[unit[0]]
        unit = unit[1:]
    unit = _UNIT_ALIASES.get(unit, unit)
    if not _UNIT.fullmatch(unit) or not math.isfinite(number):
        return QUALITATIVE  # '2026年12月底前', '2026.1.1': dates and prose, not quantities
    return Value(op or "=", round(number, 10), unit or None)


def parse_date(text: str | None, end: bool = False) -> date | None:
    """'2026/1/1', '2026-01-01', '2026年1月1日', or a month '2023-12' (its last day when end)."""
    if is_blank(text):
        return None
    match = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?", text)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    try:
        if match.group(3):
            return date(year, month, int(match.group(3)))
        if not end:
            return date(year, month, 1)
        next_month = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(next_month.toordinal() - 1)
    except ValueError:  # a day past the month's end, or a year such as 0000 or 9999 + 1
        return None
