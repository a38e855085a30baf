"""Value notation (DOMAIN.md §4): operators, 万 multipliers, units, suffixes, money, rates, text."""

from datetime import date
from decimal import Decimal

import pytest

from extractors.values import (
    Value,
    normalize_text,
    parse_date,
    parse_money,
    parse_number,
    parse_rate,
    parse_value,
    rate_decimals,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">5000人", Value(">", 5000, "人")),
        (">=85%", Value(">=", 85, "%")),
        ("≥25000", Value(">=", 25000, None)),
        ("≥16万人次", Value(">=", 160000, "人次")),
        ("≤90万元", Value("<=", 900000, "元")),
        ("=100.00(%)", Value("=", 100, "%")),
        ("≥100百分比", Value(">=", 100, "%")),
        ("＞９０％", Value(">", 90, "%")),
        ("=0", Value("=", 0, None)),
        ("125家", Value("=", 125, "家")),
        ("95%以上", Value(">=", 95, "%")),
        ("10000人及以上", Value(">=", 10000, "人")),
        ("达到95%", Value(">=", 95, "%")),  # operators in words
        ("至少3次", Value(">=", 3, "次")),
        ("不大于5天", Value("<=", 5, "天")),
        ("控制在100万元以内", Value("<=", 1000000, "元")),
        ("保持在95%以上", Value(">=", 95, "%")),
        ("达到预期", Value(None, None, None)),
        ("13,303,150.1", Value("=", 13303150.1, None)),
        ("及时", Value(None, None, None)),
        ("较有提高", Value(None, None, None)),
        ("2026年12月底前", Value(None, None, None)),
        ("2026.1.1", Value(None, None, None)),
        ("≥**%", Value(None, None, None)),
        ("XX人", Value(None, None, None)),
        ("—", Value(None, None, None)),
        ("", Value(None, None, None)),
    ],
)
def test_parse_value(text, expected):
    assert parse_value(text) == expected


def test_money_rates_numbers_and_dates():
    assert parse_money("13,303,150.1") == Decimal("13303150.10")
    assert parse_money("1,234.56", 10000) == Decimal("12345600.00")
    assert parse_money("1,856.27万元") == Decimal("18562700.00")
    assert parse_money("18,562,710.00元") == Decimal("18562710.00")
    assert parse_money("—") is None and parse_money("待定") is None
    assert parse_money("9999999999999999.99") == Decimal("9999999999999999.99")
    assert parse_money("20002000100020001000") is None  # cells run together: no such amount
    assert parse_money("1000000000000", 10000) is None
    assert parse_rate("71.67%") == 0.7167 and parse_rate("95.42") == 0.9542
    assert parse_rate("1") == 1 and parse_rate("—") is None
    printed = ("83.50%", "1000%", "95.4", "0.835", "1", "—")
    assert [rate_decimals(text) for text in printed] == [2, 0, 1, 1, 0, None]
    assert parse_number("4.7") == 4.7 and parse_number("5分") is None
    assert parse_date("2026/1/1") == date(2026, 1, 1)
    assert parse_date("2023-12", end=True) == date(2023, 12, 31)
    assert parse_date("2017年1月") == date(2017, 1, 1)


def test_normalize_text():
    assert normalize_text("<p>年度 总体 目标</p>") == "年度总体目标"
    assert normalize_text("提高劳动者技能水平， 提高创业者") == "提高劳动者技能水平，提高创业者"
    assert normalize_text("ＡＢＣ　１２３ and  more") == "ABC 123 and more"
    assert normalize_text("⼀级指标") == "一级指标"  # a Kangxi radical some exporters emit
    assert normalize_text("&lt;=85%") == "<=85%"
    assert normalize_text("≥90%") == "≥90%"  # ≥ stays in text; it becomes '>=' only in *_op
