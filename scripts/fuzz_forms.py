"""Random performance forms, printed by every producer this machine has, read back and scored.

    .venv/bin/python scripts/fuzz_forms.py SEED PRODUCER [DEGRADATION] [--rulings CLASS]

A seed gives one form of any family (project self-evaluation, project or policy target
declaration, department-wide self-evaluation or target table) with the records it was made from:
column orders and column sets vary, labels take the variants found in DOMAIN.md and the real
publications, cells are long enough to wrap, money is in 元 or 万元, 一级/二级 are merged or
repeated on every row, and page breaks fall anywhere, inside a row and inside a merged cell too.
Other provinces' templates (tests/data/real/web) add their traits, drawn from a stream of their
own so a seed's form is otherwise unchanged: the target over an operator column (指标性质 /
指标值类型), 指标值 and a unit column; the Sichuan funds block (总额 and four sources, each with
its 预算执行率) and goal block (项目年度目标 / 年度目标完成情况); the national template's
numbering left in (`指标1：`, empty `指标2：` and `……` rows, a 二级 that does not apply as
`指标1：/`); 一级 cells printing their weight or only the weight; codes before the project name;
实施单位（盖章）, 报表编号 above the title, 合计 for 总分, and 评价结论 … 财务负责人 rows under
the table.
Its tables are fully ruled (half the seeds) or ruled otherwise (``RULINGS`` of generate_samples:
horizontal rules only, the outer frame only, no rules, or some borders of a spreadsheet's merged
blocks missing), each producer drawing the same borders; ``--rulings`` forces one class.
The form is drawn as a flow of scripts/generate_samples.py (titles, tables, merged cells)
and printed by a producer:

- ``reportlab``: generate_samples' renderer (repeated header rows, rows split at the page bottom);
- ``writer``: a DOCX (scripts/render_formats.py) converted by LibreOffice Writer;
- ``calc``: an XLSX laid out for print as an office does (9-12 pt, columns from their content,
  wrapped, fitted one A4 page wide; some in 6-9 pt small print), converted by LibreOffice Calc;
- ``chromium``: an HTML page printed to PDF by headless Chromium;

and then optionally degraded: ``scan`` (the pages rasterised at 150-300 dpi, rotated, blurred,
noised, JPEG-compressed, sometimes a red seal over cells) or ``photo`` (each page a phone photo:
perspective, a margin of desk, uneven light). ``score`` compares what was read with the records:
cells (every field of the form, its fund lines and its indicator rows) and hierarchy (each
indicator's 一级/二级), as counts.
"""

from __future__ import annotations

import difflib
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sample_forms as sf  # noqa: E402
from generate_samples import (  # noqa: E402
    FONTS,
    RULINGS,
    WQY,
    C,
    Renderer,
    Space,
    Style,
    Table,
    Text,
    money,
    num,
    register_fonts,
)
from render_formats import write_docx, write_html, write_xlsx  # noqa: E402

from schemas.records import Form, FundLine, Indicator  # noqa: E402

PRODUCERS = ("reportlab", "writer", "calc", "chromium")
DEGRADATIONS = ("none", "scan", "photo")
RASTERIZE = ROOT / "tests" / "data" / "scans" / "rasterize.py"
FAMILIES = (
    "project_self_evaluation",
    "department_self_evaluation",
    "project_target_declaration",
    "policy_target_declaration",
    "department_target_declaration",
)

# --- the vocabulary forms are made of ---------------------------------------------------------

LEVELS = {
    "产出指标": ["数量指标", "质量指标", "时效指标", "成本指标"],
    "效益指标": ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"],
    "满意度指标": ["服务对象满意度指标"],
}
COST_FIRST = {"成本指标": ["经济成本指标", "社会成本指标", "生态环境成本指标"]}  # Shanghai 2026

# header words of each indicator column: the national template's first, then variants in print
HEADER_WORDS = {
    "l1": ["一级指标"],
    "l2": ["二级指标"],
    "l3": ["三级指标"],
    "target": ["年度指标值", "指标值", "年度目标值"],
    "actual": ["实际完成值", "全年实际完成值", "实际完成情况"],
    "weight": ["分值", "权重", "指标分值"],
    "score": ["得分", "自评得分"],
    "reason": ["偏差原因分析及改进措施", "偏差原因分析", "未完成原因分析及改进措施"],
}
APPROPRIATION = ["其中：当年财政拨款", "其中:本年财政拨款", "其中：财政拨款"]
PLANNED = ["预算目标", "预期目标"]
RATE = ["执行率", "预算执行率", "执行率(B/A)"]
DEPARTMENTS = [
    "上海市普陀区民政局",
    "219-池州市贵池区交通运输局",
    "烟台市自然资源和规划局",
    "杭州市交通运输局",
    "长沙市市场监督管理局",
    "西安市人力资源和社会保障局",
    "福州市民政局",
]
UNITS = ["社会福利中心", "公路事业发展中心", "信息中心", "执法支队", "就业服务中心", "机关本级"]
SUBJECTS = ["农村公路", "社区养老", "公共就业", "河道整治", "职业培训", "食品安全抽检", "老旧小区"]
WORKS = ["提档升级工程", "服务设施运营补贴", "能力提升项目", "专项资金", "信息化建设运维"]


def _pool() -> tuple[list[tuple[str, str, str]], list[str], list[str]]:
    """(三级, target, actual) triples, deviation reasons and goal texts of the sample forms."""
    forms = [
        sf.training_capacity(),
        sf.employment_fund(),
        sf.skills_bases(),
        sf.public_employment_services(),
        sf.community_elderly_care(),
        sf.rural_roads_wanyuan(),
        sf.value_notations(),
        *sf.back_to_back(),
    ]
    rows = [
        (i.level3 or "", i.target_text or "", i.actual_text or "")
        for f in forms
        for i in f.indicators
    ]
    reasons = sorted(
        {i.deviation_reason for f in forms for i in f.indicators if i.deviation_reason}
    )
    goals = [g for f in forms for g in (f.goal_planned, f.goal_actual) if g]
    return rows, reasons, goals


ROWS, REASONS, GOALS = _pool()


# --- a random form ----------------------------------------------------------------------------


@dataclass
class Case:
    """One generated form: the records, the flow that prints them and the page style."""

    seed: int
    family: str
    forms: list[Form]
    flow: list[object]
    style: Style
    traits: list[str] = field(default_factory=list)  # what this case varied, for a report
    sheet_font: float = 11  # a spreadsheet's font size (pt) and its widest column (in characters)
    sheet_widest: float = 14
    sheet_landscape: bool | None = None  # None: landscape when the table is wider than portrait
    rulings: str = "full"  # how every producer rules the tables (generate_samples.RULINGS)

    @property
    def landscape(self) -> bool:
        return self.style.pagesize[0] > self.style.pagesize[1]


def _hierarchy(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """n (一级, 二级) pairs in printed order, each 一级 and each 二级 a contiguous block."""
    tree = dict(COST_FIRST, **LEVELS) if rng.random() < 0.2 else dict(LEVELS)
    blocks = [(l1, l2) for l1, l2s in tree.items() for l2 in l2s if rng.random() < 0.7]
    blocks = blocks or [("产出指标", "数量指标")]
    counts = [1] * len(blocks)
    while sum(counts) < n:
        counts[rng.randrange(len(counts))] += 1
    while sum(counts) > n:
        k = rng.randrange(len(counts))
        if counts[k] > 0:
            counts[k] -= 1
    return [pair for pair, count in zip(blocks, counts) for _ in range(count)]


def _indicators(rng: random.Random, n: int, scored: bool, total: float) -> list[Indicator]:
    """n indicator rows; with weights summing to ``total`` and scores when ``scored``."""
    weights = [1] * n
    for _ in range(int(total) - n):
        weights[rng.randrange(n)] += 1
    out = []
    for k, ((l1, l2), w) in enumerate(zip(_hierarchy(rng, n), weights), 1):
        l3, target, actual = rng.choice(ROWS)
        if rng.random() < 0.1:  # a long name that wraps over several lines
            l3 = l3 + "及" + rng.choice(ROWS)[0] + "情况"
        score = w if rng.random() < 0.7 else round(w * rng.uniform(0.5, 0.99), rng.choice((1, 2)))
        reason = rng.choice(REASONS) if score < w else None
        out.append(
            Indicator(
                row_ordinal=k,
                level1=l1,
                level2=l2,
                level3=l3,
                target_text=target or None,
                actual_text=(actual or None) if scored else None,
                weight=float(w) if scored else None,
                score=float(score) if scored else None,
                deviation_reason=reason if scored else None,
            )
        )
    return out


def _amount(rng: random.Random, unit: str) -> Decimal:
    """A printed amount in ``unit`` (2 dp)."""
    digits = rng.randint(5, 8) if unit == "万元" else rng.randint(7, 11)  # in cents
    return Decimal(rng.randrange(10 ** (digits - 1), 10**digits)) / 100


def _style(rng: random.Random) -> Style:
    pagesize = rng.choice([(595.28, 841.89), (841.89, 595.28), (612.0, 792.0)])
    return Style(
        font=rng.choice(["ZenHei", "MicroHei"]),
        pagesize=pagesize,
        margins=tuple(rng.uniform(36, 64) for _ in range(4)),  # type: ignore[arg-type]
        size=rng.choice([7.5, 8, 9, 9.5, 10.5]),
        pad=rng.uniform(2.5, 4.5),
        line_width=rng.choice([0.4, 0.5, 0.75, 1.0]),
        outer_width=rng.choice([0.5, 1.0, 1.5]),
        lines=rng.choice(["stroke", "fill"]),
        label_valign=rng.choice(["top", "middle"]),
        close_cut_bottom=rng.random() < 0.5,
        split_rows=rng.random() < 0.6,
        footer=rng.choice(["", "- {page} -", "第 {page} 页"]),
    )


def _columns(rng: random.Random, roles: list[str], traits: list[str]) -> list[str]:
    """The indicator table's value columns in printed order; sometimes shuffled or thinned."""
    value = roles[3:]
    if "reason" in value and rng.random() < 0.2:
        value.remove("reason")
        traits.append("no reason column")
    if rng.random() < 0.25:
        rng.shuffle(value)
        traits.append("value columns shuffled")
    return roles[:3] + value


def _indicator_rows(
    inds: list[Indicator],
    roles: list[str],
    words: dict[str, str],
    merged: bool,
    outer: bool,
    shown: list[dict[str, str]] | None = None,
) -> list[list[C]]:
    """Header row and one row per indicator; 一级/二级 merged over their blocks or repeated.
    ``shown`` gives, row by row, the text a cell prints where it is not the record's value."""
    header = [C(words[r], align="center") for r in roles]
    if outer:
        header.insert(0, C("绩效指标", rowspan=len(inds) + 1, align="center", label=True))
    rows = [header]
    for i, ind in enumerate(inds):
        printed = {
            "l1": ind.level1,
            "l2": ind.level2,
            "l3": ind.level3,
            "target": ind.target_text,
            "actual": ind.actual_text,
            "weight": num(ind.weight),
            "score": num(ind.score),
            "reason": ind.deviation_reason,
            "op": "",
            "unit": "",
        } | (shown[i] if shown else {})
        cells: list[C] = []
        for role in roles:
            if role in ("l1", "l2") and merged:
                key = (ind.level1,) if role == "l1" else (ind.level1, ind.level2)

                def same(j: int, role: str = role) -> tuple:
                    other = inds[j]
                    return (other.level1,) if role == "l1" else (other.level1, other.level2)

                if i and same(i - 1) == key:
                    continue
                span = next((j for j in range(i, len(inds)) if same(j) != key), len(inds)) - i
                cells.append(C(printed[role] or "", rowspan=span, align="center", label=True))
                continue
            align = "left" if role in ("l3", "reason") else "center"
            cells.append(C(printed[role] or "", align=align))
        rows.append(cells)
    return rows


# --- traits of other provinces' templates (tests/data/real/web, DOMAIN.md) ----------------------
# Drawn from a stream of their own, so a seed's form is otherwise the one it always was.

OP_WORDS = ["指标性质", "指标值类型"]
UNIT_WORDS = ["度量单位", "计量单位"]
SPLIT_ORDERS = [("op", "target", "unit"), ("target", "unit", "op"), ("target", "op", "unit")]
NUMERIC_TARGET = re.compile(r"(>=|<=|≥|≤|>|<|=)?(\d+(?:\.\d+)?)(.*)")
OPERATOR_GLYPH = {">=": "≥", "≥": "≥", "<=": "≤", "≤": "≤", ">": ">", "<": "<", "=": "="}
OPERATOR_RECORD = {"≥": ">=", "≤": "<=", ">": ">", "<": "<", "=": "="}
SEALED_UNIT = ["实施单位（盖章）", "实施单位 (盖章)", "实施单位(盖章)"]
CONCLUSIONS = {  # the Sichuan template's rows under the table, with its instructions left in
    "评价结论": "结合自评情况,说明项目自评总分,说明项目实施取得的成效或成果。(200字以内)",
    "存在问题": "结合自评情况,分析存在的问题及原因。(200字以内)",
    "改进措施": "针对项目自评中发现的问题,提出下一步改进完善的意见及有关政策性建议。(200字以内)",
}
FUNDS_NOTE = (
    "1.预算执行率=预算执行数/调整后预算数,预算执行率未达到90%的需说明原因(100字以内);"
    "2.年中发生预算调整的(追加或调减),应单独说明理由;3.其他资金包括:社会投入资金、银行贷款."
)


def _template_rng(seed: int) -> random.Random:
    return random.Random(f"template traits {seed}")


def _split_target(
    t: random.Random,
    inds: list[Indicator],
    shown: list[dict[str, str]],
    roles: list[str],
    words: dict[str, str],
    traits: list[str],
) -> list[str]:
    """The target printed over an operator column (≥ ≤ =, or 定量/定性 with the operator left in
    指标值), 指标值 and a unit column, in varying order; the records keep the 指标值 cell as
    target_text and take operator, value and unit from the three. The roles in printed order."""
    if t.random() >= 0.3:
        return roles
    kinds = t.random() < 0.3
    words["op"], words["unit"] = t.choice(OP_WORDS), t.choice(UNIT_WORDS)
    traits.append("target over three columns" + (" (定量/定性)" if kinds else ""))
    for ind, text in zip(inds, shown):
        numeric = NUMERIC_TARGET.fullmatch(ind.target_text or "")
        if numeric is None:
            text["op"] = "定性" if ind.target_text else ""
            continue
        op, number, unit = numeric.groups()
        number = f"{Decimal(number).normalize():f}"  # '85.00' as a sheet shows the number typed
        unit = unit.replace("(%)", "%")
        glyph = OPERATOR_GLYPH[op or "="]
        text["op"] = "定量" if kinds else glyph
        text["target"] = ind.target_text = ((op or "") if kinds else "") + number
        text["unit"] = unit
        scale = 10000 if unit.startswith("万") and len(unit) > 1 else 1  # '1.2' | '万人次'
        ind.target_op = OPERATOR_RECORD[glyph]
        ind.target_value = float(Decimal(number) * scale)
        ind.target_unit = (unit[1:] if scale > 1 else unit) or None
    k = roles.index("target")
    return roles[:k] + list(t.choice(SPLIT_ORDERS)) + roles[k + 1 :]


def _template_rows(
    t: random.Random,
    inds: list[Indicator],
    shown: list[dict[str, str]],
    scored: bool,
    traits: list[str],
) -> tuple[list[Indicator], list[dict[str, str]]]:
    """The national template's rows left in: '指标1：' before each 三级, an empty '指标2：' and a
    '……' row closing each 二级, and a 二级 that does not apply printed as '指标1：/' with '/'
    values. None of them is an indicator: the printed rows and their texts, records untouched."""
    if t.random() >= 0.3:
        return inds, shown
    placeholders = t.random() < 0.7
    not_applied = t.random() < 0.5
    colon = t.choice(["：", ":"])
    traits.append("template numbering" + (", placeholder rows" if placeholders else ""))
    rows: list[Indicator] = []
    texts: list[dict[str, str]] = []

    def blank(l1: str | None, l2: str | None, l3: str, value: str = "") -> None:
        rows.append(Indicator(row_ordinal=0, level1=l1, level2=l2, level3=None))
        texts.append({"l3": l3, "target": value, "actual": value if scored else ""})

    blocks = [(ind.level1, ind.level2) for ind in inds]
    for k, (ind, text) in enumerate(zip(inds, shown)):
        number = 1 + blocks[:k].count(blocks[k])
        rows.append(ind)
        texts.append(text | {"l3": f"指标{number}{colon}{ind.level3}"})
        if k + 1 < len(inds) and blocks[k + 1] == blocks[k]:
            continue
        if placeholders:
            blank(ind.level1, ind.level2, f"指标{number + 1}{colon}")
            blank(ind.level1, ind.level2, "……")
        next_l1 = inds[k + 1].level1 if k + 1 < len(inds) else None
        tree = dict(COST_FIRST, **LEVELS)
        unused = [
            l2
            for l2 in tree.get(ind.level1 or "", [])
            if (ind.level1, l2) not in blocks and l2 not in {i.level1 for i in inds}
        ]
        if not_applied and unused and next_l1 != ind.level1:
            not_applied = False  # one 二级 of the form does not apply
            traits.append("a 二级 not applied")
            blank(ind.level1, unused[0], f"指标1{colon}/", "/")
            if placeholders:
                blank(ind.level1, unused[0], f"指标2{colon}")
                blank(ind.level1, unused[0], "……")
    return rows, texts


def _level_weights(
    t: random.Random, rows: list[Indicator], shown: list[dict[str, str]], traits: list[str]
) -> None:
    """一级 cells printing their weight, '产出指标（50分）', or only the weight, '(50分)'."""
    if t.random() >= 0.3:
        return
    only = t.random() < 0.4
    traits.append("一级 printed " + ("as its weight only" if only else "with its weight"))
    weights: dict[str | None, float] = {}
    for row in rows:
        weights[row.level1] = weights.get(row.level1, 0) + (row.weight or 0)
    for row, text in zip(rows, shown):
        weight = num(weights[row.level1])
        text["l1"] = f"({weight}分)" if only else f"{row.level1}（{weight}分）"


def _coded_name(t: random.Random, name: str) -> str:
    """A project name after its project code, as Sichuan prints it: '51000021R000000019951-…'."""
    region = t.choice(["510000", "511425", "340000"])
    return f"{region}{t.randint(19, 25)}R{t.randrange(10**11, 10**12)}-{name}"


def _sichuan_funds(
    t: random.Random, form: Form, unit: str, style: str, label_span: int, line_span: int
) -> list[list[C]]:
    """The funds block of the Sichuan template: 预算执行情况(10分) over 总额 and its sources
    (财政资金, 财政专户管理资金, 单位资金, 其他资金: each a fund line of its own), each with its
    预算执行率, '/' in the sources' 权重 and 得分, and a long 原因 note merged down the lines."""
    total = form.fund_lines[0]
    amounts = (total.budget_initial, total.budget_full_year, total.budget_executed)
    share = Decimal(t.choice(["0", "0", "0.2", "0.35"]))

    def part(value: Decimal | None) -> Decimal | None:
        if value is None or not share:
            return Decimal("0.00")
        printed = (value / (sf.WAN if unit == "万元" else 1) * share).quantize(Decimal("0.01"))
        return sf.yuan(str(printed), unit)

    own = [part(v) for v in amounts]
    fiscal = [v - o for v, o in zip(amounts, own)]
    zero = [Decimal("0.00")] * 3

    def line(name: str, values: list[Decimal] | None) -> FundLine:
        if values is None:
            return FundLine(name)
        rate = sf._rate(values[2], values[1]) if values[1] else 0.0
        return FundLine(name, *values, execution_rate=rate)

    form.fund_lines = [
        total,
        line("当年财政拨款", fiscal),
        line("财政专户管理资金", zero if t.random() < 0.7 else None),
        line("单位资金", own),
        line("其他资金", None),
    ]
    labels = {"当年财政拨款": t.choice(["其中:财政资金", "其中：财政资金"])}

    def m(value: Decimal | None) -> str:
        return money(value, unit, style)

    def rate(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.2f}%"

    label = t.choice(["预算执行情况(10分)", "预算执行情况（10分）"])
    rows = [
        [
            C(label, colspan=label_span, rowspan=6, align="center", label=True),
            C(f"年度预算数({unit})", colspan=line_span, align="center"),
        ]
        + [C(w, align="center") for w in ("年初预算", "调整后预算数", "预算执行数", "预算执行率")]
        + [C(w, align="center") for w in ("权重", "得分", "原因")],
        [C("总额", colspan=line_span)]
        + [C(m(v), align="right") for v in amounts]
        + [C(rate(total.execution_rate), align="center"), C(num(total.weight), align="center")]
        + [C(num(total.score), align="center"), C(FUNDS_NOTE, rowspan=5)],
    ]
    for fund in form.fund_lines[1:]:
        values = (fund.budget_initial, fund.budget_full_year, fund.budget_executed)
        rows.append(
            [C(labels.get(fund.line, fund.line), colspan=line_span)]
            + [C(m(v), align="right") for v in values]
            + [C(rate(fund.execution_rate), align="center")]
            + [C("/", align="center"), C("/", align="center")]
        )
    return rows


def _sichuan_goals(t: random.Random, form: Form, label_span: int, width: int) -> list[list[C]]:
    """The Sichuan template's goal block: 项目基本情况 over 项目年度目标 / 年度目标完成情况 and a
    line 项目实施内容及过程概述."""
    planned = (width - label_span - 2) // 2
    rest = width - label_span - 2 - planned
    process = t.choice(["", "按计划组织实施,资金按进度拨付。"])
    return [
        [
            C("项目基本情况", colspan=label_span, rowspan=3, align="center", label=True),
            C("1.项目年度目标完成情况", colspan=2, rowspan=2, align="center"),
            C("项目年度目标", colspan=planned, align="center"),
            C("年度目标完成情况", colspan=rest, align="center"),
        ],
        [C(form.goal_planned or "", colspan=planned), C(form.goal_actual or "", colspan=rest)],
        [C("2.项目实施内容及过程概述", colspan=2), C(process, colspan=planned + rest)],
    ]


def _closing_rows(t: random.Random, width: int) -> list[list[C]]:
    """Rows under the total: 评价结论 / 存在问题 / 改进措施 and the signatures."""
    label = t.choice([1, 2])
    rows = [
        [C(name, colspan=label, align="center"), C(text, colspan=width - label)]
        for name, text in CONCLUSIONS.items()
    ]
    half = width // 2
    rows.append([C("项目负责人:", colspan=half), C("财务负责人:", colspan=width - half)])
    return rows


def _widen(rows: list[list[C]], extra: int) -> list[list[C]]:
    """Rows of a block whose last cell reaches the right edge, ``extra`` columns wider."""
    for row in rows:
        row[-1].colspan += extra
    return rows


def self_evaluation_case(rng: random.Random, seed: int, department_wide: bool) -> Case:
    """A 项目支出绩效自评表 or a 部门整体支出绩效自评表 with scores."""
    traits: list[str] = []
    t = _template_rng(seed)
    unit = rng.choice(["元", "万元"])
    style = rng.choice(["comma", "plain"])
    full = _amount(rng, unit)
    initial = full if rng.random() < 0.5 else _amount(rng, unit)
    executed = (full * Decimal(rng.uniform(0.55, 1.0))).quantize(Decimal("0.01"))
    dept = rng.choice(DEPARTMENTS)
    name = dept if department_wide else rng.choice(SUBJECTS) + rng.choice(WORKS)
    n = rng.randint(3, 28)
    inds = _indicators(rng, n, scored=True, total=90)
    sub = None
    if rng.random() < 0.6:
        sub = {
            "当年财政拨款": (f"{initial}", f"{full}", f"{executed}"),
            "上年结转资金": ("", "", "") if rng.random() < 0.5 else ("0.00", "0.00", "0.00"),
            "其他资金": ("", "", ""),
        }
    form = sf.self_evaluation(
        name=name,
        department=dept,
        unit=dept.split("-")[-1].removesuffix("局") + rng.choice(UNITS),
        year=rng.randint(2019, 2025),
        initial=f"{initial}",
        full_year=f"{full}",
        executed=f"{executed}",
        rows=[
            (i.level1, i.level2, i.level3, i.target_text or "", i.actual_text or "", i.weight)
            + (i.score, i.deviation_reason or "")
            for i in inds
        ],
        goal_planned=rng.choice(GOALS),
        goal_actual=rng.choice(GOALS),
        money_unit=unit,
        sub_lines=sub,
        budget_score_digits=rng.choice((1, 2)),
    )
    if department_wide:
        form.form_type = "department_self_evaluation"
        form.implementing_unit = None
    elif t.random() < 0.2:
        form.name = name = _coded_name(t, name)
        traits.append("code before the project name")
    traits.append(unit)

    def m(value: Decimal | None) -> str:
        return money(value, unit, style)

    merged = rng.random() < 0.75
    outer = rng.random() < 0.2
    traits += ["levels merged" if merged else "levels on every row"] + (["outer column"] * outer)
    roles = _columns(rng, list(HEADER_WORDS), traits)
    if "reason" not in roles:
        for ind in form.indicators:
            ind.deviation_reason = None
    words = {
        r: rng.choice(HEADER_WORDS[r]) if rng.random() < 0.3 else HEADER_WORDS[r][0] for r in roles
    }
    one_table = len(roles) == 8 and rng.random() < 0.6
    rate_word, appropriation, planned_word = (
        rng.choice(RATE),
        rng.choice(APPROPRIATION),
        rng.choice(PLANNED),
    )
    shown: list[dict[str, str]] = [{} for _ in form.indicators]
    roles = _split_target(t, form.indicators, shown, roles, words, traits)
    printed, shown = _template_rows(t, form.indicators, shown, True, traits)
    _level_weights(t, printed, shown, traits)
    body = _indicator_rows(printed, roles, words, merged, outer, shown)
    width = len(roles) + outer if one_table else 8
    sichuan_funds = t.random() < 0.3
    if sichuan_funds and not one_table:
        width = 9  # the funds block's 原因 column
    sichuan_funds = sichuan_funds and width >= 9
    label_span = 1 + (width - 7 - sichuan_funds) // 2  # the labels and the fund lines share
    line_span = width - label_span - 6 - sichuan_funds  # the columns beyond the block's own
    fund = form.fund_lines[0]
    name_label = "部门名称" if department_wide else "项目名称"
    head: list[list[C]] = [
        [C(name_label, colspan=label_span, align="center"), C(name, colspan=width - label_span)]
    ]
    if not department_wide:
        unit_label = "实施单位"
        if t.random() < 0.25:
            unit_label = t.choice(SEALED_UNIT)
            traits.append(unit_label)
        head.append(
            [
                C("主管部门", colspan=label_span, align="center"),
                C(form.department or "", colspan=3),
                C(unit_label, align="center"),
                C(form.implementing_unit or "", colspan=width - label_span - 4),
            ]
        )
    if sichuan_funds:
        head += _sichuan_funds(t, form, unit, style, label_span, line_span)
        traits.append("Sichuan funds block")
    else:
        head.append(
            [
                C(f"项目资金（{unit}）", colspan=label_span, rowspan=5, align="center", label=True),
                C("", colspan=line_span),
            ]
            + [
                C(w, align="center")
                for w in ("年初预算数", "全年预算数", "全年执行数", "分值", rate_word, "得分")
            ]
        )
        head.append(
            [
                C("年度资金总额", colspan=line_span),
                C(m(fund.budget_initial), align="right"),
                C(m(fund.budget_full_year), align="right"),
                C(m(fund.budget_executed), align="right"),
                C(num(fund.weight), align="center"),
                C(f"{form.execution_rate * 100:.2f}%", align="center"),
                C(num(fund.score), align="center"),
            ]
        )
        for line in form.fund_lines[1:]:
            label = appropriation if line.line == "当年财政拨款" else line.line
            head.append(
                [C(label, colspan=line_span)]
                + [C(m(v), align="right") for v in (line.budget_initial, line.budget_full_year)]
                + [C(m(line.budget_executed), align="right"), C("—", align="center")]
                + [C(""), C("")]
            )
    if not department_wide and t.random() < 0.3:
        head += _sichuan_goals(t, form, label_span, width)
        traits.append("项目年度目标 / 年度目标完成情况")
    else:
        head += [
            [
                C("年度总体目标", colspan=label_span, rowspan=2, align="center", label=True),
                C(planned_word, colspan=3, align="center"),
                C("实际完成情况", colspan=width - label_span - 3, align="center"),
            ],
            [
                C(form.goal_planned or "", colspan=3),
                C(form.goal_actual or "", colspan=width - label_span - 3),
            ],
        ]
    values = ("weight", "score", "target", "actual", "reason", "op", "unit")
    first_value = min(k for k, r in enumerate(roles) if r in values) + outer
    total_word = "总分"
    if t.random() < 0.25:
        total_word = "合计"
        traits.append("合计")
    total = [C(total_word, colspan=first_value, align="center")] + [
        C(
            {"weight": num(form.total_weight), "score": num(form.total_score)}.get(r, ""),
            align="center",
        )
        for r in roles[first_value - outer :]
    ]
    closing = _closing_rows(t, len(roles) + outer) if t.random() < 0.25 else []
    traits += ["评价结论 and signatures below"] * bool(closing)
    widths = ([0.6] if outer else []) + [
        {"l1": 1.2, "l2": 1.5, "l3": 2.4, "reason": 2.6, "weight": 0.7, "score": 0.7}.get(r, 1.3)
        for r in roles
    ]
    title = (
        "部门整体支出绩效自评表"
        if department_wide
        else rng.choice(["项目支出绩效自评表", "财政项目支出绩效自评表"])
    )
    flow: list[object] = [Space(rng.uniform(0, 300))] if rng.random() < 0.7 else []
    if t.random() < 0.2:
        flow.append(Text("报表编号:510000_0013zp", align="left"))
        title = title if department_wide else "部门预算项目支出绩效自评表"
        traits.append("报表编号 above the title")
    flow += [
        Text(title),
        Text(rng.choice(["（{y}年度）", "({y} 年度)", "{y}年度"]).format(y=form.fiscal_year)),
    ]
    if rng.random() < 0.3:
        flow.append(Text(f"单位：{unit}", align="right"))
    if one_table:
        flow.append(Table(widths, head + body + [total] + closing))
        traits.append("one table")
    else:
        repeat = rng.random() < 0.5
        head_widths = [1.4, 1.8, 1.5, 1.5, 1.5, 0.8, 1.0, 0.8] + [2.0] * (width - 8)
        flow.append(Table(head_widths, head))
        flow.append(Space(rng.choice([0, 8])))
        flow.append(Table(widths, body + [total] + closing, header_rows=1 if repeat else 0))
        traits += ["two tables"] + (["header repeated"] * repeat)
    return Case(seed, form.form_type, [form], flow, Style(), traits)


def declaration_case(rng: random.Random, seed: int, family: str) -> Case:
    """A target declaration (project, policy or department-wide): one value column, no scores."""
    traits: list[str] = []
    t = _template_rng(seed)
    dept = rng.choice(DEPARTMENTS)
    year = rng.randint(2019, 2026)
    unit = rng.choice(["元", "万元"])
    amount = _amount(rng, unit)
    n = rng.randint(3, 24)
    inds = _indicators(rng, n, scored=False, total=n)
    policy = family == "policy_target_declaration"
    word = "目标" if policy else "指标"
    merged = rng.random() < 0.75
    traits += [unit, "levels merged" if merged else "levels on every row"]
    target_word = (
        "指标目标值" if policy else rng.choice(["年度(/项目)指标值", "年度指标值", "指标值"])
    )
    words = {"l1": f"一级{word}", "l2": f"二级{word}", "l3": f"三级{word}", "target": target_word}
    shown: list[dict[str, str]] = [{} for _ in inds]
    roles = _split_target(t, inds, shown, ["l1", "l2", "l3", "target"], words, traits)
    printed, shown = _template_rows(t, inds, shown, False, traits)
    body = _indicator_rows(printed, roles, words, merged, False, shown)
    extra = len(roles) - 4
    total_yuan = sf.yuan(f"{amount}", unit)
    form = Form(
        form_type=family,
        fiscal_year=year,
        department=dept,
        money_unit=unit,
        goal_planned=rng.choice(GOALS),
        indicators=inds,
    )
    printed_amount = money(total_yuan, unit, "comma")
    if family == "project_target_declaration":
        form.name = rng.choice(SUBJECTS) + rng.choice(WORKS)
        form.implementing_unit = dept.split("-")[-1].removesuffix("局") + rng.choice(UNITS)
        form.budget_full_year = total_yuan
        form.project_funds_total = total_yuan * rng.choice([1, 2, 3])
        form.planned_start, form.planned_end = date(year, 1, 1), date(year, 12, 31)
        form.goal_overall = rng.choice(GOALS)
        form.fund_lines = [
            FundLine("年度资金总额", budget_full_year=total_yuan),
            FundLine("当年财政拨款", budget_full_year=total_yuan),
            FundLine("上年结转资金", budget_full_year=Decimal("0.00")),
            FundLine("其他资金", budget_full_year=Decimal("0.00")),
        ]
        if t.random() < 0.2:
            form.name = _coded_name(t, form.name)
            traits.append("code before the project name")
        unit_label = "实施单位"
        if t.random() < 0.25:
            unit_label = t.choice(SEALED_UNIT)
            traits.append(unit_label)
        head = [
            [C("项目名称", align="center"), C(form.name, colspan=3)],
            [
                C("主管部门", align="center"),
                C(dept),
                C(unit_label, align="center"),
                C(form.implementing_unit),
            ],
            [
                C("计划开始日期", align="center"),
                C(f"{year}/1/1"),
                C("计划完成日期", align="center"),
                C(f"{year}/12/31"),
            ],
            [
                C(f"项目资金（{unit}）", rowspan=5, align="center", label=True),
                C("项目资金总额"),
                C(money(form.project_funds_total, unit, "comma"), colspan=2, align="right"),
            ],
            [C("年度资金申请总额"), C(printed_amount, colspan=2, align="right")],
            [C("其中：当年财政拨款"), C(printed_amount, colspan=2, align="right")],
            [C("上年结转资金"), C("0", colspan=2, align="right")],
            [C("其他资金"), C("0", colspan=2, align="right")],
            [C("项目总目标", align="center"), C(form.goal_overall, colspan=3)],
            [C("年度总体目标", align="center"), C(form.goal_planned or "", colspan=3)],
        ]
        title = rng.choice(["财政项目支出绩效目标申报表", "项目支出绩效目标申报表"])
    elif policy:
        form.name = rng.choice(SUBJECTS) + "专项资金"
        form.goal_overall = rng.choice(GOALS)
        form.goal_actual = rng.choice(GOALS)
        form.fund_lines = [FundLine(rng.choice(SUBJECTS) + "补助", budget_full_year=total_yuan)]
        head = [
            [C(f"预算主管单位：{dept}", colspan=4)],
            [C("政策名称", align="center"), C(form.name, colspan=3)],
            [
                C("政策目标", rowspan=3, align="center", label=True),
                C("总目标", align="center"),
                C(form.goal_overall, colspan=2),
            ],
            [
                C("年度目标", rowspan=2, align="center", label=True),
                C("年初设定目标", align="center"),
                C("全年预计完成情况", align="center"),
            ],
            [C(form.goal_planned or ""), C(form.goal_actual or "")],
            [
                C("当年投入资金构成", rowspan=2, align="center", label=True),
                C("子项目名称", colspan=2, align="center"),
                C(f"预算金额（{unit}）", align="center"),
            ],
            [C(form.fund_lines[0].line, colspan=2), C(printed_amount, align="right")],
        ]
        title = "财政政策绩效目标申报表"
    else:
        form.name = dept
        form.money_unit = "元"  # no money printed
        head = [
            [C(rng.choice(["部门名称", "部门（单位）名称"]), align="center"), C(dept, colspan=3)],
            [C("年度总体目标", align="center"), C(form.goal_planned or "", colspan=3)],
        ]
        title = rng.choice(["部门整体支出绩效目标表", "部门整体绩效目标申报表"])
    head = _widen(head, extra)
    flow: list[object] = [Space(rng.uniform(0, 300))] if rng.random() < 0.7 else []
    flow += [Text(title), Text(f"（{year}年度）")]
    widths = [{"l1": 1.2, "l2": 1.5, "l3": 2.6, "op": 0.8, "unit": 0.8}.get(r, 1.8) for r in roles]
    if rng.random() < 0.5:
        flow.append(Table(widths, head + body))
        traits.append("one table")
    else:
        flow += [Table(widths, head), Space(rng.choice([0, 8])), Table(widths, body, header_rows=1)]
        traits.append("two tables, header repeated")
    return Case(seed, family, [form], flow, Style(), traits)


def _rulings(seed: int) -> str:
    """The rulings class of ``seed``: full for half the seeds, each other class an eighth; drawn
    from a generator of its own, so that every other trait of a seed stays as it was."""
    draw = random.Random(f"rulings {seed}").random()
    return "full" if draw < 0.5 else RULINGS[1 + min(int((draw - 0.5) * 8), 3)]


def random_case(seed: int, rulings: str | None = None) -> Case:
    """The form, flow and page style of ``seed``; its tables ruled as ``rulings`` says, or as the
    seed draws."""
    rng = random.Random(seed)
    family = rng.choice(FAMILIES)
    if family.endswith("self_evaluation"):
        case = self_evaluation_case(rng, seed, department_wide=family.startswith("department"))
    else:
        case = declaration_case(rng, seed, family)
    case.style = _style(rng)
    case.sheet_font = rng.choice([9, 10, 11, 12])
    case.sheet_widest = rng.choice([8, 10, 12, 14])
    if rng.random() < 0.2:  # wide columns fitted to a portrait page: small print (6-7 pt)
        case.sheet_widest, case.sheet_landscape = 20, False
        case.traits.append("sheet in small print")
    case.rulings = case.style.rulings = rulings or _rulings(seed)
    if case.rulings != "full":
        case.traits.append(f"rulings: {case.rulings}")
    for k, form in enumerate(case.forms, 1):
        form.form_ordinal = k
    return case


# --- producers --------------------------------------------------------------------------------


def _soffice(source: Path, target: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit(
            "LibreOffice is needed: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui"
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless"]
            + ["--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.move(Path(tmp) / f"{source.stem}.pdf", target)


def _chromium(source: Path, target: Path, landscape: bool) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is needed: apt-get install chromium")
    page = source.read_text(encoding="utf-8")
    size = "A4 landscape" if landscape else "A4"
    css = f"<style>@page {{ size: {size}; margin: 15mm }} body {{ font-size: 9pt }} td {{ padding: 2px }}</style>"
    source.write_text(page.replace("</head>", css + "</head>"), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp}"]
            + ["--no-pdf-header-footer", f"--print-to-pdf={target}", source.as_uri()],
            check=True,
            capture_output=True,
            timeout=180,
        )


def fonts_installed() -> bool:
    """Whether the WenQuanYi fonts ReportLab prints with are installed (fonts-wqy-*)."""
    return all((WQY / name).exists() for name in FONTS.values())


def produce(case: Case, producer: str, out: Path) -> Path:
    """Print ``case`` with ``producer`` into the folder ``out``; the PDF's path."""
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / f"fuzz_{case.seed}_{producer}.pdf"
    if producer == "reportlab":
        register_fonts()
        Renderer(pdf, case.style).render(case.flow)
    elif producer == "writer":
        docx = out / f"fuzz_{case.seed}.docx"
        write_docx(case.flow, docx, case.landscape, case.rulings)
        _soffice(docx, pdf)
    elif producer == "calc":
        xlsx = out / f"fuzz_{case.seed}.xlsx"
        write_xlsx(
            case.flow, xlsx, case.sheet_font, case.sheet_widest, case.sheet_landscape, case.rulings
        )
        _soffice(xlsx, pdf)
    elif producer == "chromium":
        html = out / f"fuzz_{case.seed}.html"
        write_html(case.flow, html, "utf-8", case.rulings)
        _chromium(html, pdf, case.landscape)
    else:
        raise ValueError(f"unknown producer {producer!r} (one of {', '.join(PRODUCERS)})")
    return pdf


# --- scans and photos -------------------------------------------------------------------------


def rasterise(pdf: Path, dpi: int) -> list[np.ndarray]:
    """Every page of ``pdf`` as a grey image at ``dpi`` (CJK glyphs drawn even where not embedded)."""
    import pypdfium2 as pdfium
    from PIL import Image

    n = len(pdfium.PdfDocument(pdf))
    with tempfile.TemporaryDirectory() as tmp:
        pages = [str(p) for p in range(1, n + 1)]
        subprocess.run(
            [sys.executable, str(RASTERIZE), str(pdf), tmp, str(dpi), *pages], check=True
        )
        return [
            np.asarray(Image.open(Path(tmp) / f"{pdf.stem}_p{p}.png").convert("L")) for p in pages
        ]


def red_seal(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An RGB page with a red round seal (公章) stamped over part of it."""
    import cv2

    rgb = np.dstack([page] * 3).astype(np.float32)
    h, w = page.shape
    radius = int(min(h, w) * rng.uniform(0.07, 0.1))
    centre = (int(rng.uniform(0.3, 0.8) * w), int(rng.uniform(0.2, 0.8) * h))
    stamp = np.zeros((h, w), np.uint8)
    cv2.circle(stamp, centre, radius, 255, max(3, radius // 12))
    cv2.circle(stamp, centre, radius // 4, 255, -1)  # the star, as a disc
    for k in range(12):  # the ring of characters, as short strokes
        a = 2 * np.pi * k / 16 + np.pi * 0.6
        x, y = centre[0] + 0.72 * radius * np.cos(a), centre[1] + 0.72 * radius * np.sin(a)
        cv2.circle(stamp, (int(x), int(y)), max(2, radius // 10), 255, -1)
    ink = (stamp > 0)[..., None] * rng.uniform(0.55, 0.85)
    red = np.array([205.0, 40.0, 45.0])
    return np.clip(rgb * (1 - ink) + np.minimum(rgb, red) * ink, 0, 255).astype(np.uint8)


def scan_pages(pdf: Path, seed: int, out: Path) -> tuple[Path, str]:
    """``pdf`` printed and scanned: an image-only PDF, and what was done to it."""
    sys.path.insert(0, str(RASTERIZE.parent))
    from PIL import Image
    from rasterize import degrade

    rng = np.random.default_rng(seed)
    dpi = int(rng.choice([150, 200, 300]))
    angle = float(rng.uniform(-1.5, 1.5))
    quality = int(rng.integers(55, 90))
    sealed = bool(rng.random() < 0.4)
    images = []
    for k, page in enumerate(rasterise(pdf, dpi)):
        scanned = degrade(page, seed=seed + k, angle=angle, quality=quality)
        images.append(Image.fromarray(red_seal(scanned, rng) if sealed and k == 0 else scanned))
    target = out / f"{pdf.stem}_scan.pdf"
    images[0].save(target, save_all=True, append_images=images[1:], resolution=dpi)
    what = f"{dpi} dpi, {angle:+.1f}°, JPEG {quality}" + (", red seal" if sealed else "")
    return target, what


def photograph(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A phone photo of a printed page: on a desk, in perspective, under uneven light (RGB)."""
    import cv2

    h, w = page.shape
    frame_w, frame_h = int(w * 1.3), int(h * 1.3)
    desk = np.empty((frame_h, frame_w, 3), np.float32)
    desk[:] = rng.uniform(90, 160, 3)  # wood, a grey desk
    desk += cv2.GaussianBlur(rng.normal(0, 18, (frame_h, frame_w)).astype(np.float32), (0, 0), 9)[
        ..., None
    ]
    mx, my = (frame_w - w) / 2, (frame_h - h) / 2
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(-0.05, 0.05, (4, 2)) * [w, h]  # the page stays inside the frame
    dst = np.float32([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]] + jitter)
    matrix = cv2.getPerspectiveTransform(src, dst)
    paper = cv2.warpPerspective(
        page.astype(np.float32), matrix, (frame_w, frame_h), flags=cv2.INTER_LINEAR
    )
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, (frame_w, frame_h))
    shade = np.array([0.97, 0.96, 0.92], np.float32)  # paper under warm light
    photo = desk * (1 - mask[..., None]) + (paper[..., None] * shade) * mask[..., None]
    yy, xx = np.mgrid[0:frame_h, 0:frame_w].astype(np.float32)
    cx, cy = rng.uniform(0, frame_w), rng.uniform(0, frame_h)
    fall = 1 - rng.uniform(0.25, 0.45) * np.hypot(xx - cx, yy - cy) / np.hypot(frame_w, frame_h)
    photo *= fall[..., None]
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.5, 1.0))
    photo += rng.normal(0, 5, photo.shape)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    _, data = cv2.imencode(".jpg", photo[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1]


def photograph_pages(pdf: Path, seed: int, out: Path) -> tuple[Path, str]:
    """``pdf`` printed and each page photographed: a PDF of the photos, and what was done."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(photograph(page, rng)) for page in rasterise(pdf, 200)]
    target = out / f"{pdf.stem}_photo.pdf"
    photos[0].save(target, save_all=True, append_images=photos[1:], resolution=200, quality=85)
    return target, "phone photo (perspective, desk, uneven light)"


def degrade_pdf(pdf: Path, degradation: str, seed: int, out: Path) -> tuple[Path, str]:
    if degradation == "none":
        return pdf, "born-digital"
    if degradation == "scan":
        return scan_pages(pdf, seed, out)
    if degradation == "photo":
        return photograph_pages(pdf, seed, out)
    raise ValueError(f"unknown degradation {degradation!r} (one of {', '.join(DEGRADATIONS)})")


# --- scoring ----------------------------------------------------------------------------------

FORM_FIELDS = (
    "form_type",
    "fiscal_year",
    "name",
    "department",
    "implementing_unit",
    "money_unit",
    "budget_initial",
    "budget_full_year",
    "budget_executed",
    "execution_rate",
    "budget_weight",
    "budget_score",
    "total_weight",
    "total_score",
    "project_funds_total",
    "planned_start",
    "planned_end",
    "goal_planned",
    "goal_actual",
    "goal_overall",
)
LINE_FIELDS = (
    "budget_initial",
    "budget_full_year",
    "budget_executed",
    "weight",
    "execution_rate",
    "score",
)
ROW_FIELDS = ("level3", "target_text", "actual_text", "weight", "score", "deviation_reason")
TARGET_FIELDS = (
    "target_op",
    "target_value",
    "target_unit",
)  # where printed in columns of their own


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and abs(float(a) - float(b)) < 1e-6
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return a == b


@dataclass
class Score:
    """Cells and hierarchy read right, of those generated; the differences, for a report."""

    cells: int = 0
    cells_total: int = 0
    hierarchy: int = 0
    hierarchy_total: int = 0
    differences: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        self.cells += other.cells
        self.cells_total += other.cells_total
        self.hierarchy += other.hierarchy
        self.hierarchy_total += other.hierarchy_total
        self.differences += other.differences

    @property
    def perfect(self) -> bool:
        return self.cells == self.cells_total and self.hierarchy == self.hierarchy_total


def _cell(score: Score, what: str, want: object, got: object) -> None:
    if want is None and got is None:
        return
    score.cells_total += 1
    if _same(want, got):
        score.cells += 1
    else:
        score.differences.append(f"{what}: want {want!r}, got {got!r}")


def score_form(want: Form, got: Form | None) -> Score:
    """Every printed field, fund line and indicator cell of ``want`` compared with ``got``."""
    score = Score()
    for name in FORM_FIELDS:
        _cell(score, name, getattr(want, name), getattr(got, name) if got else None)
    got_lines = {line.line: line for line in got.fund_lines} if got else {}
    for line in want.fund_lines:
        for name in LINE_FIELDS:
            other = got_lines.get(line.line)
            _cell(
                score,
                f"{line.line}.{name}",
                getattr(line, name),
                getattr(other, name) if other else None,
            )
    got_rows = got.indicators if got else []
    matcher = difflib.SequenceMatcher(
        a=[i.level3 for i in want.indicators], b=[i.level3 for i in got_rows], autojunk=False
    )
    pairs = {
        a: b
        for block in matcher.get_matching_blocks()
        for a, b in zip(range(block.a, block.a + block.size), range(block.b, block.b + block.size))
    }
    for k, row in enumerate(want.indicators):
        other = got_rows[pairs[k]] if k in pairs else None
        if other is None and k < len(got_rows) and len(got_rows) == len(want.indicators):
            other = got_rows[k]  # the same row with its 三级 misread
        for name in ROW_FIELDS + TARGET_FIELDS * (row.target_value is not None):
            _cell(
                score,
                f"row {row.row_ordinal}.{name}",
                getattr(row, name),
                getattr(other, name) if other else None,
            )
        score.hierarchy_total += 1
        levels = (other.level1, other.level2) if other else None
        if levels == (row.level1, row.level2):
            score.hierarchy += 1
        else:
            score.differences.append(
                f"row {row.row_ordinal} levels: want {(row.level1, row.level2)}, got {levels}"
            )
    extra = len(got_rows) - len(pairs)
    if extra > 0 and len(got_rows) > len(want.indicators):
        score.cells_total += extra  # rows read that were never printed count against the reader
        score.differences.append(f"{extra} indicator row(s) read that were not printed")
    return score


def score_forms(wanted: list[Form], got: list[Form]) -> Score:
    """All forms of a case; forms matched in order, missing ones score nothing."""
    total = Score()
    for k, want in enumerate(wanted):
        total.add(score_form(want, got[k] if k < len(got) else None))
    if len(got) > len(wanted):
        total.differences.append(f"{len(got) - len(wanted)} form(s) read that were not printed")
        total.cells_total += len(got) - len(wanted)
    return total


def read_forms(path: Path) -> list[Form]:
    from extractors import read_document
    from extractors.forms import parse_forms

    return parse_forms(read_document(path))


def run_case(
    seed: int, producer: str, degradation: str, out: Path, rulings: str | None = None
) -> tuple[Case, Score, str]:
    """Generate, print, degrade, read and score one case (its rulings forced by ``rulings``)."""
    case = random_case(seed, rulings)
    pdf = produce(case, producer, out)
    source, what = degrade_pdf(pdf, degradation, seed, out)
    return case, score_forms(case.forms, read_forms(source)), what


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Print one random form and read it back.")
    parser.add_argument("seed", type=int)
    parser.add_argument("producer", choices=PRODUCERS)
    parser.add_argument("degradation", nargs="?", default="none", choices=DEGRADATIONS)
    parser.add_argument("--rulings", choices=RULINGS, help="rule the tables so (default: drawn)")
    args = parser.parse_args()
    seed, producer, degradation = args.seed, args.producer, args.degradation
    out = Path(tempfile.mkdtemp(prefix="fuzz_"))
    case, score, what = run_case(seed, producer, degradation, out, args.rulings)
    print(
        f"seed {seed}: {case.family} ({', '.join(case.traits)}), {producer}, {what}; files in {out}"
    )
    print(
        f"cells {score.cells}/{score.cells_total}, hierarchy {score.hierarchy}/{score.hierarchy_total}"
    )
    for line in score.differences[:40]:
        print("  " + line)


if __name__ == "__main__":
    main()
