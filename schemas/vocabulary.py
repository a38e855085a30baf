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

_ALIASES = {
    "社会效益": "社会效益指标",
    "经济效益": "经济效益指标",
    "生态效益": "生态效益指标",
    "可持续影响": "可持续影响指标",
}
_SPACE = re.compile(r"\s+")
_SCORE_SUFFIX = re.compile(r"[(（]\s*\d+(?:\.\d+)?\s*分\s*[)）]$")


def canonical_level(name: str) -> str:
    """Normalise a printed 一级/二级 name: drop whitespace and a '(50分)' suffix, apply aliases.

    '产出指标(50分)' → '产出指标'; '满意度指 标' (a wrapped cell) → '满意度指标'; '社会效益' → '社会效益指标'.
    """
    text = _SCORE_SUFFIX.sub("", _SPACE.sub("", name))
    return _ALIASES.get(text, text)


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

HEADER_LABELS = {
    "项目名称": "name",
    "政策名称": "name",
    "部门名称": "name",
    "单位名称": "name",
    "部门(单位)名称": "name",
    "部门（单位）名称": "name",
    "主管部门": "department",
    "预算主管单位": "department",
    "主管单位": "department",
    "预算部门": "department",
    "实施单位": "implementing_unit",
    "计划开始日期": "planned_start",
    "计划完成日期": "planned_end",
    "政策日期": "policy_dates",
    "项目资金总额": "project_funds_total",
    "年度资金申请总额": "annual_request",
}

FUND_COLUMNS = {
    "年初预算数": "budget_initial",
    "全年预算数": "budget_full_year",
    "全年执行数": "budget_executed",
    "分值": "weight",
    "执行率": "execution_rate",
    "预算执行率": "execution_rate",
    "得分": "score",
}
FUND_LINES = {
    "年度资金总额": "年度资金总额",
    "当年财政拨款": "当年财政拨款",
    "本年财政拨款": "当年财政拨款",
    "财政拨款": "当年财政拨款",
    "上年结转资金": "上年结转资金",
    "其他资金": "其他资金",
}
GOAL_PLANNED = ("预算目标", "预期目标", "年初设定目标", "年度总体目标")
GOAL_ACTUAL = ("实际完成情况", "全年预计完成情况", "实际完成")
GOAL_OVERALL = ("项目总目标", "总目标")
# the indicator table's header words as printed on the national forms (OCR snaps to them)
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
