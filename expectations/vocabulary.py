"""The national indicator framework's 一级/二级 names (DOMAIN.md §2), shared by parser and checks."""

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
