"""The printed wording of performance forms → what it means: the one vocabulary the parser reads.

Every label, header and line name the form parser recognises is here, as data; the parser reads
what a cell means from these tables, never from where the cell sits. A new province's wording is
a line added here (and a family in schemas/families.py if it prints a new kind of form).
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- header fields (label → field)
# Labels are matched on the cell text with spaces removed and ASCII parentheses.
HEADER_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), field)
    for pattern, field in (
        (r"(专项|单位)?\(?(项目|专项)\)?(资金)?名称", "name"),
        (r"政策名称", "name"),
        (r"部门\(单位\)名称|单位名称|部门名称", "unit_name"),
        (r"主管部门(及代码|名称)?|预算主管单位|主管单位|预算部门|预算单位", "department"),
        (r"实施单位(名称)?", "implementing_unit"),
        (r"计划开始日期|项目开始日期", "planned_start"),
        (r"计划完成日期|计划结束日期|项目结束日期", "planned_end"),
        (r"政策日期|项目期限|实施期限|起止时间", "policy_dates"),
        (r"项目资金总额", "project_funds_total"),
        (r"年度资金申请总额", "annual_request"),
    )
)

# The labels as printed on the national forms (OCR snaps to them).
HEADER_WORDS = (
    "项目名称",
    "政策名称",
    "部门名称",
    "单位名称",
    "部门(单位)名称",
    "部门（单位）名称",
    "主管部门",
    "预算主管单位",
    "主管单位",
    "预算部门",
    "实施单位",
    "计划开始日期",
    "计划完成日期",
    "政策日期",
    "项目资金总额",
    "年度资金申请总额",
)

# ---------------------------------------------------------------- the funds block
# Column headers of a funds block with one column per amount (self-evaluations).
FUND_COLUMNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), role)
    for pattern, role in (
        (r"^年初预算", "budget_initial"),
        (r"^(全年预算|调整后预算)", "budget_full_year"),
        (r"^(全年执行|预算执行数|实际执行|执行数)", "budget_executed"),
        (r"^(预算)?执行率", "execution_rate"),
        (r"^分值", "weight"),
        (r"^得分", "score"),
    )
)
FUND_COLUMN_WORDS = (
    "年初预算数",
    "全年预算数",
    "全年执行数",
    "分值",
    "执行率",
    "预算执行率",
    "得分",
)
# Line names of the funds block → the canonical line (SCHEMA.md fund_lines.line).
FUND_LINES: dict[str, str] = {
    "年度资金总额": "年度资金总额",
    "资金总额": "年度资金总额",
    "合计": "年度资金总额",
    "金额合计": "年度资金总额",
    "年度预算资金总额": "年度资金总额",
    "年度预算资金": "年度资金总额",
    "实施期资金总额": "年度资金总额",
    "当年财政拨款": "当年财政拨款",
    "本年财政拨款": "当年财政拨款",
    "财政拨款": "当年财政拨款",
    "财政资金": "当年财政拨款",
    "上年结转资金": "上年结转资金",
    "上年结转": "上年结转资金",
    "其他资金": "其他资金",
    "单位资金": "其他资金",
    "财政专户管理资金": "财政专户管理资金",
}

# ---------------------------------------------------------------- the goal block
GOAL_PLANNED = ("预算目标", "预期目标", "年初设定目标", "年度总体目标", "年度目标", "整体绩效目标")
GOAL_ACTUAL = ("实际完成情况", "全年预计完成情况", "实际完成")
GOAL_OVERALL = ("项目总目标", "总目标", "总体目标", "长期目标")
GOAL_GROUPS = ("政策目标", "项目绩效目标", "绩效目标", "年度绩效目标")

# ---------------------------------------------------------------- the indicator table
# Header text (spaces removed, ASCII parentheses) → column role, tried in order: the first
# pattern that matches gives the role. A header matching none is kept as an extra column.
COLUMN_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("outer", r"^绩效(指标|目标)$"),
        ("l1", r"^一级(指标|目标)"),
        ("l2", r"^二级(指标|目标)"),
        ("l3", r"^三级(指标|目标)|^指标(内容|名称)$"),
        ("actual", r"实际完成|实际值|^(全年)?完成值"),
        ("weight", r"^(指标)?(分值|权重)"),
        ("score", r"得分$|^得分|^自评得分"),
        ("reason", r"原因|偏差"),
        ("unit", r"^(计量|度量)?单位$"),
        ("op", r"^指标值类型|^指标性质|^指标类型"),
        (
            "target",
            r"^(年度|预期|全年)?(\(/?项目\))?(指标|目标)?(目标)?值(\(.*\))?$|^预期目标$|^目标$",
        ),
    )
)
# Columns of a table holding several projects' blocks, each project's cells merged over its rows.
BLOCK_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("project_code", r"^(单位|项目)(编码|代码|编号)$"),
        ("project_name", r"^(单位)?\(?项目\)?名称$|^单位名称$|^项目$"),
        ("project_funds", r"^(资金总额|项目金额|金额|项目资金)"),
        ("project_goal", r"^(绩效目标|年度(绩效)?目标|项目目标|整体绩效目标)$"),
    )
)
# The indicator header words as printed on the national forms (OCR snaps to them).
INDICATOR_HEADER_WORDS = (
    "绩效指标",
    "一级指标",
    "二级指标",
    "三级指标",
    "一级目标",
    "二级目标",
    "三级目标",
    "年度指标值",
    "指标目标值",
    "年度(/项目)指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
    "计量单位",
)
TOTAL_WORDS = ("总分", "合计", "总计")
# What an operator column holds: an operator, or 定性/定量 (no operator).
OPERATORS = {"≥": ">=", "≧": ">=", ">=": ">=", "≤": "<=", "≦": "<=", "<=": "<="} | {
    ">": ">",
    "<": "<",
    "=": "=",
    "＝": "=",
    "大于等于": ">=",
    "小于等于": "<=",
    "大于": ">",
    "小于": "<",
    "等于": "=",
}
# A weight printed in a level cell: '产出指标（50分）', '产出指标(50)'.
LEVEL_WEIGHT = re.compile(
    r"[(（]\s*(\d+(?:\.\d+)?)\s*分?\s*[)）]\s*$|(?<=指标)\s*(\d+(?:\.\d+)?)\s*分?\s*$"
)
# A numbering prefix of a 三级 cell: '指标1：', '指标：', '1.', '（1）'.
INDICATOR_PREFIX = re.compile(
    r"^(指标\s*\d*\s*[:：]|\d{1,2}\s*[.、．]\s*(?=\D)|[(（]\d{1,2}[)）])\s*"
)

# ---------------------------------------------------------------- titles and years
YEAR_IN_PARENS = re.compile(r"[(（]\s*(\d{4})\s*年度?\s*[)）]")
YEAR_OF_TITLE = re.compile(r"(\d{4})\s*年度?")
YEAR_ANYWHERE = re.compile(r"(\d{4})\s*年")
# A heading naming a budget or final-accounts package: '2026年部门预算', '2022年度部门决算'.
PACKAGE_HEADING = re.compile(r"(\d{4})\s*年度?[^，。,；;]{0,24}?(预算|决算)")
# What may be printed before a title on its line: a table number ('表14-1') or a unit code.
TITLE_PREFIX = re.compile(
    r"^(附?表\s*[\d一二三四五六七八九十]+([-－—]\d+)?[:：.、]?|\d{3,}(?![\d年])[-_]?)\s*"
)
