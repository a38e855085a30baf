"""The words of the forms (DOMAIN.md §2): the national indicator framework's 一级/二级 names, the
header, fund and goal labels, the indicator table's header words. Shared by the form parser, the
OCR corrections and the checks."""

from __future__ import annotations

import re

# 一级指标: the 2020/2021 national framework, then the older 决策/过程/产出/效益 frameworks.
LEVEL1: frozenset[str] = frozenset(
    {
        "产出指标",
        "效益指标",
        "满意度指标",
        "成本指标",
        "决策",
        "过程",
        "产出",
        "效益",
        "投入指标",
        "过程指标",
        "效果指标",
        "项目决策",
        "项目管理",
        "项目绩效",
        "部门决策",
        "综合管理",
    }
)

LEVEL2: frozenset[str] = frozenset(
    {
        "数量指标",
        "质量指标",
        "时效指标",
        "成本指标",
        "经济效益指标",
        "社会效益指标",
        "生态效益指标",
        "可持续影响指标",
        "服务对象满意度指标",
        "满意度指标",
        "经济成本指标",
        "社会成本指标",
        "生态环境成本指标",
    }
)

# 二级 → its usual 一级. 成本指标 sits under 产出指标 in the 财预〔2020〕10号 layout; the 2021
# framework also has 成本指标 as a 一级 of its own, so 成本指标/成本指标 is valid too.
LEVEL2_PARENT: dict[str, str] = {
    "数量指标": "产出指标",
    "质量指标": "产出指标",
    "时效指标": "产出指标",
    "成本指标": "产出指标",
    "经济效益指标": "效益指标",
    "社会效益指标": "效益指标",
    "生态效益指标": "效益指标",
    "可持续影响指标": "效益指标",
    "服务对象满意度指标": "满意度指标",
    "满意度指标": "满意度指标",
    "经济成本指标": "成本指标",
    "社会成本指标": "成本指标",
    "生态环境成本指标": "成本指标",
}

LEVEL_ALIASES = {  # 二级 names printed without their 指标
    "社会效益": "社会效益指标",
    "经济效益": "经济效益指标",
    "生态效益": "生态效益指标",
    "可持续影响": "可持续影响指标",
    "服务对象满意度": "服务对象满意度指标",
    "经济成本": "经济成本指标",
    "社会成本": "社会成本指标",
    "生态环境成本": "生态环境成本指标",
}
_SPACE = re.compile(r"\s+")
_SCORE_SUFFIX = re.compile(r"[(（]\s*\d+(?:\.\d+)?\s*分\s*[)）]$")


def canonical_level(name: str) -> str:
    """Normalise a printed 一级/二级 name: drop whitespace and a '(50分)' suffix, apply aliases.

    '产出指标(50分)' → '产出指标'; '满意度指 标' (a wrapped cell) → '满意度指标'; '社会效益' → '社会效益指标'.
    """
    text = _SCORE_SUFFIX.sub("", _SPACE.sub("", name))
    return LEVEL_ALIASES.get(text, text)


# Keywords in a 三级 name → (二级, strength). Strength 1 is strong evidence, below 1 weak.
_AFFINITY_KEYWORDS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    (
        "质量指标",
        ("合格", "准确", "达标", "质量", "覆盖率", "修复率", "完好", "正确率", "通过率"),
        1.0,
    ),
    ("时效指标", ("及时", "时效", "按时", "进度", "完成时间", "期限"), 1.0),
    ("服务对象满意度指标", ("满意",), 1.0),
    ("满意度指标", ("满意",), 1.0),
    ("数量指标", ("数量", "人数", "人次", "次数", "个数", "场次", "户数", "面积", "长度"), 1.0),
    ("数量指标", ("数",), 0.5),
    ("成本指标", ("成本", "费用", "单价"), 1.0),
    ("可持续影响指标", ("长效", "制度", "可持续"), 1.0),
    ("经济效益指标", ("经济效益", "收入"), 1.0),
    ("生态效益指标", ("生态", "环境"), 0.5),
    ("社会效益指标", ("知晓率", "影响", "效益"), 0.3),
)


def level2_affinity(level3_name: str) -> dict[str, float]:
    """Keyword evidence for the 二级 a 三级 indicator name belongs to: 二级 → strength in (0, 1].

    Only 二级 with evidence appear; the strongest keyword per 二级 counts. Example:
    '职业技能鉴定合格率' → {'质量指标': 1.0}; '学员满意度' → both 满意度 二级 at 1.0.
    """
    text = _SPACE.sub("", level3_name)
    evidence: dict[str, float] = {}
    for level2, keywords, strength in _AFFINITY_KEYWORDS:
        if strength > evidence.get(level2, 0.0) and any(k in text for k in keywords):
            evidence[level2] = strength
    return dict(sorted(evidence.items(), key=lambda item: -item[1]))


# ---------------------------------------------------------------- labels of the form layout
# The printed wording of the forms → what it means: the parser reads what a cell means from these
# tables, never from where the cell sits. A new province's wording is a line added here (and a
# family in schemas/families.py if it prints a new kind of form). Labels are matched on the cell
# text with spaces removed and ASCII parentheses.

# ---------------------------------------------------------------- header fields (label → field)
# Labels are matched on the cell text with spaces removed and ASCII parentheses.
HEADER_LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), field)
    for pattern, field in (
        (r"(专项|单位)?\(?(项目|专项)\)?(资金)?名称", "name"),
        (r"政策名称", "name"),
        (r"部门\(单位\)名称|单位名称|部门名称", "unit_name"),
        (
            r"(项目)?主管部门(及代码|及编码|名称|\(单位\))?|预算主管单位|主管单位|预算部门|预算单位",
            "department",
        ),
        (r"(项目)?实施单位(名称)?|项目(承担|执行)?单位|资金使用单位|用款单位", "implementing_unit"),
        (r"计划开始日期|项目开始日期", "planned_start"),
        (r"计划完成日期|计划结束日期|项目结束日期", "planned_end"),
        (r"政策日期|项目期限|实施期限|起止时间", "policy_dates"),
        (r"项目资金总额", "project_funds_total"),
        (r"年度资金申请总额", "annual_request"),
    )
)

# Header labels printed beside those above whose values the forms table does not keep: where no
# cell borders survive (text dumped line by line), they still end the value before them.
HEADER_OTHER_LABELS = frozenset(
    {"项目性质", "项目类别", "项目类型", "项目属性", "项目负责人", "联系人", "联系电话"}
)

# Labels whose text is kept in forms.extra_fields, label → text: the ones above and the conclusions a
# self-evaluation prints after its table ('2.项目实施内容及过程概述' matches without its number).
FORM_EXTRA_LABELS = HEADER_OTHER_LABELS | {
    "项目概况",
    "项目实施内容及过程概述",
    "评价结论",
    "自评结论",
    "存在问题",
    "存在的问题",
    "主要问题",
    "改进措施",
    "整改措施",
    "改进意见",
    "下一步改进措施",
    "财务负责人",
    "填报人",
    "填报日期",
}

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
        (r"^(全年预算|调整后?预算)", "budget_full_year"),
        (
            r"^(全年执行|预算执行数|实际执行|执行数|(全年|实际)支出数|\d+-\d+月执行数)",
            "budget_executed",
        ),
        (r"^(预算|资金)?执行率", "execution_rate"),
        (r"^(分值|权重)", "weight"),
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
    "总额": "年度资金总额",
    "总计": "年度资金总额",
    "金额合计": "年度资金总额",
    "年度预算资金总额": "年度资金总额",
    "年度预算资金": "年度资金总额",
    "实施期资金总额": "年度资金总额",
    "当年财政拨款": "当年财政拨款",
    "本年财政拨款": "当年财政拨款",
    "财政拨款": "当年财政拨款",
    "财政资金": "当年财政拨款",
    "财政拨款资金": "当年财政拨款",
    "上年结转资金": "上年结转资金",
    "上年结转": "上年结转资金",
    "上年结转结余": "上年结转资金",
    "上年结转结余资金": "上年结转资金",
    "结转结余资金": "上年结转资金",
    "其他资金": "其他资金",
    "单位资金": "其他资金",
    "自筹资金": "其他资金",
    "自有资金": "其他资金",
    "财政专户管理资金": "财政专户管理资金",
}

# The label merged over the funds block, with its unit ('项目资金（万元）'), matched without spaces
# and with ASCII parentheses; text dumped line by line prints it in pieces ('专项资' / '（万元').
FUNDS_GROUPS = tuple(
    f"{word}({unit})"
    for word in ("项目资金", "专项资金情况", "资金情况", "年度资金", "资金来源")
    for unit in ("元", "万元")
)

# ---------------------------------------------------------------- the goal block
GOAL_PLANNED = (
    "预算目标",
    "预期目标",
    "年初设定目标",
    "年度总体目标",
    "年度目标",
    "项目年度目标",
    "整体绩效目标",
)
GOAL_ACTUAL = ("实际完成情况", "全年预计完成情况", "实际完成", "年度目标完成情况", "目标完成情况")
GOAL_OVERALL = ("项目总目标", "项目总体目标", "总目标", "总体目标", "长期目标")
GOAL_GROUPS = ("政策目标", "项目绩效目标", "绩效目标", "年度绩效目标")

# ---------------------------------------------------------------- the indicator table
# Header text (spaces removed, ASCII parentheses) → column role, tried in order: the first
# pattern that matches gives the role. A header matching none is kept as an extra column.
COLUMN_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern))
    for role, pattern in (
        ("outer", r"^绩效(指标|目标)(\(\d+分?\))?$"),
        ("l1", r"^一级(指标|目标)"),
        ("l2", r"^二级(指标|目标)"),
        ("l3", r"^三级(指标|目标)|^指标(内容|名称)$"),
        ("actual", r"实际完成|实际值|完成值|^(\d+-\d+月|全年|年度)?完成情况$"),
        ("weight", r"^(指标)?(分值|权重)|^满分"),
        ("score", r"得分$|^得分|^自评得分|^(自评)?评?分$"),
        ("reason", r"原因|偏差"),
        ("unit", r"^(计量|度量)?单位$"),
        ("op", r"^指标值类型|^指标性质|^指标类型"),
        (
            "target",
            r"^(本|\d{4})?(年度?|预期|全年|年初|计划)?(绩效)?(\(/?项目\))?(指标|目标)?(目标)?值"
            r"(\(.*\))?$|^预期目标$|^目标$",
        ),
    )
)
# The label merged left of the 一级 column over the whole table (the column role 'outer'), also
# printed one character a line down the side ('年' / '度' / '绩' / …).
OUTER_LEVELS = frozenset({"绩效指标", "绩效目标", "绩效目标指标", "年度绩效指标", "年度绩效目标"})
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

# ---------------------------------------------------------------- project lists
# A list of one project a row with its indicators packed into one cell (extractors/project_lists).
# Its header wording → column role, tried in order: the first pattern found in a header wins
# ('项目名称（资金使用单位）' is the project column, '财政拨款合计' the 财政拨款 column); the fund
# roles are fund_lines.line.
LIST_COLUMNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ordinal", re.compile(r"^序号$")),
    ("indicators", re.compile(r"指标")),
    ("goal", re.compile(r"目标")),
    ("code", re.compile(r"编码|代码|编号")),  # '项目编码' is no project name
    ("name", re.compile(r"项目名称|项目$|^项目|支出项目|单位[(（]项目[)）]名称")),
    ("unit", re.compile(r"单位名称|^单位$|预算单位|实施单位|资金使用单位")),
    ("当年财政拨款", re.compile(r"财政拨款|财政资金|一般公共预算")),
    ("上年结转资金", re.compile(r"上年结转|结转资金")),
    ("其他资金", re.compile(r"其他资金|财政专户|单位资金|自有资金|事业收入")),
    ("年度资金总额", re.compile(r"总计|合计|资金总额|金额|预算数|小计")),
)

# Labels before the values of an indicator packed into one cell, after its 三级 name
# (`…数量；年度指标值：≥10人`) → the indicator field they fill; 'extra' keeps them in
# indicators.extra.
PACKED_VALUE_LABELS: dict[str, str] = {
    "年度指标值": "target",
    "年度目标值": "target",
    "指标目标值": "target",
    "预期目标值": "target",
    "指标值": "target",
    "目标值": "target",
    "实际完成值": "actual",
    "完成值": "actual",
    "指标权重": "weight",
    "分值": "weight",
    "权重": "weight",
    "得分": "score",
    "计量单位": "unit",
    "度量单位": "unit",
    "实施周期指标值": "extra",
    "中长期指标值": "extra",
    "指标值类型": "extra",
    "指标性质": "extra",
    "指标解释": "extra",
    "评(扣)分标准": "extra",
    "评（扣）分标准": "extra",
    "评分标准": "extra",
    "备注": "extra",
}

# ---------------------------------------------------------------- titles and years
YEAR_IN_PARENS = re.compile(r"[(（]\s*(\d{4})\s*年度?\s*[)）]")
YEAR_OF_TITLE = re.compile(r"(\d{4})\s*年度?")
YEAR_ANYWHERE = re.compile(r"(\d{4})\s*年")
# A heading naming a budget or final-accounts package: '2026年部门预算', '2022年度部门决算'.
PACKAGE_HEADING = re.compile(r"(\d{4})\s*年度?[^，。,；;]{0,24}?(预算|决算)")
# A package's own title, naming its issuer: '西安市卫生健康委员会（汇总）2022年度部门决算',
# '2026年烟台市信访局部门预算', '2026年度福州市民政局(本级)单位预算' (matched on compacted text).
PACKAGE_TITLE = re.compile(
    r"^(?:\d{4}年度?)?(?P<issuer>[\u4e00-\u9fff]{3,30}?)(?:[(（](?:汇总|本级)[)）])?"
    r"(?:\d{4}年度?)?(?:部门|单位)(?:综合)?(?:预算|决算)"
)
# What may be printed before a title on its line: a table number ('表14-1') or a unit code.
TITLE_PREFIX = re.compile(
    r"^(附?表\s*[\d一二三四五六七八九十]+([-－—]\d+)?[:：.、]?|\d{3,}(?![\d年])[-_]?)\s*"
)
