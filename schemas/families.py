"""The form families: one declaration each (form_type, title, marking labels, checks, weight rule).

The parser finds a form's family here (by its title, else by the header labels it prints) and the
checks apply to each form only the arithmetic its family prints. Adding a family is one `Family`
in `FAMILIES`, placed before any family whose title pattern would also match its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Checks every family's forms can fail: what a form must hold, how its levels are named, how its
# funds lines add up, and the reader's own flags.
COMMON_CHECKS = frozenset(
    {
        "required_fields",
        "total_weight_100",
        "level_weight_consistent",
        "levels_known",
        "fund_lines_sum",
        "ocr_low_confidence",
        "value_unreadable",
    }
)
# Checks of what only a self-evaluation prints: 全年执行数, 执行率, 得分 and the reasons for a
# score below its weight.
SELF_EVALUATION_CHECKS = COMMON_CHECKS | {
    "score_le_weight",
    "executed_le_budget",
    "execution_rate_consistent",
    "budget_score_consistent",
    "total_score_consistent",
    "deviation_reason_present",
}


@dataclass(frozen=True)
class WeightRule:
    """How a family's 分值 add up to its full marks (DOMAIN.md §3).

    ``implied_funds_weight`` is the 执行率分值 counted in the full marks but printed on no line of
    the form (target declarations: 10, so the indicator rows sum to 90); 0 where the funds line
    prints its own 分值 (self-evaluations: 年度资金总额 10 + rows = 100).
    """

    full_marks: float = 100.0
    implied_funds_weight: float = 0.0

    def row_sum(self, funds_weight: float | None, printed_total: float | None) -> float:
        """What the indicator rows' 分值 must add up to on one form.

        A funds 分值 printed on the form is taken from the full marks. Where the table prints a
        total of the full marks itself, its rows carry all of them; else the implied 执行率分值
        is set aside.
        """
        if funds_weight is not None:
            return self.full_marks - funds_weight
        if printed_total is not None and abs(printed_total - self.full_marks) < 1e-6:
            return self.full_marks
        return self.full_marks - self.implied_funds_weight


SELF_EVALUATION_WEIGHTS = WeightRule()
TARGET_DECLARATION_WEIGHTS = WeightRule(implied_funds_weight=10.0)


@dataclass(frozen=True)
class Family:
    """One form family as it is printed."""

    form_type: str  # forms.form_type
    name: str  # the family's Chinese name (the national title)
    titles: tuple[re.Pattern[str], ...]  # a title line naming this family (spaces removed)
    marks: tuple[str, ...]  # header labels only this family prints: its family where no title is
    checks: frozenset[str]  # the check names that apply to its forms
    weights: WeightRule
    self_evaluation: bool  # reports what was done (actuals, scores), not what is planned
    department_wide: bool = False  # a department's whole spending, not one project
    monitoring: bool = False  # progress during the year (绩效运行监控): neither plan nor result


# Monitoring forms report the year's progress (1-7月执行数, 全年预计完成情况): the checks of what
# every form prints; the progress columns are kept in indicators.extra.
MONITORING_CHECKS = COMMON_CHECKS

FAMILIES: tuple[Family, ...] = (
    Family(
        form_type="department_monitoring",
        name="部门整体支出绩效运行监控表",
        titles=(re.compile(r"(?<!资金)整体(支出)?绩效(运行)?监控(情况)?表"),),
        marks=(),
        checks=MONITORING_CHECKS,
        weights=TARGET_DECLARATION_WEIGHTS,
        self_evaluation=False,
        department_wide=True,
        monitoring=True,
    ),
    Family(
        form_type="project_monitoring",
        name="项目支出绩效运行监控表",
        titles=(re.compile(r"绩效(运行)?监控(情况)?表"),),
        marks=("全年预计完成情况", "全年预计执行数"),
        checks=MONITORING_CHECKS,
        weights=TARGET_DECLARATION_WEIGHTS,
        self_evaluation=False,
        monitoring=True,
    ),
    Family(
        form_type="department_self_evaluation",
        name="部门整体支出绩效自评表",
        titles=(re.compile(r"(?<!资金)整体(支出)?绩效(自评|自评价|评价|评价自评)表"),),
        marks=(),
        checks=SELF_EVALUATION_CHECKS,
        weights=SELF_EVALUATION_WEIGHTS,
        self_evaluation=True,
        department_wide=True,
    ),
    Family(
        form_type="department_target_declaration",
        name="部门整体支出绩效目标表",
        titles=(re.compile(r"(?<!资金)整体(支出)?绩效目标(申报|批复)?表"),),
        marks=("部门职责", "部门(单位)职责", "年度主要任务"),
        checks=COMMON_CHECKS,
        weights=TARGET_DECLARATION_WEIGHTS,
        self_evaluation=False,
        department_wide=True,
    ),
    Family(
        form_type="policy_target_declaration",
        name="政策绩效目标申报表",
        titles=(re.compile(r"(?<!和)(政策|专项资金)(整体)?(支出)?绩效目标(申报|批复)?表"),),
        marks=("政策名称", "政策日期"),
        checks=COMMON_CHECKS,
        weights=TARGET_DECLARATION_WEIGHTS,
        self_evaluation=False,
    ),
    Family(
        form_type="project_target_declaration",
        name="项目支出绩效目标申报表",
        titles=(re.compile(r"绩效目标(申报|批复)?表"),),
        marks=("项目资金总额", "年度资金申请总额", "年度预算资金总额", "实施期资金总额"),
        checks=COMMON_CHECKS,
        weights=TARGET_DECLARATION_WEIGHTS,
        self_evaluation=False,
    ),
    Family(
        form_type="project_self_evaluation",
        name="项目支出绩效自评表",
        titles=(re.compile(r"绩效(自评|自评价|评价|评价自评)表"),),
        marks=("实际完成值", "全年执行数"),
        checks=SELF_EVALUATION_CHECKS,
        weights=SELF_EVALUATION_WEIGHTS,
        self_evaluation=True,
    ),
)
BY_FORM_TYPE: dict[str, Family] = {family.form_type: family for family in FAMILIES}
DEFAULT_FAMILY = BY_FORM_TYPE["project_self_evaluation"]  # a form read with no title nor marks
DECLARATION_FAMILY = BY_FORM_TYPE["project_target_declaration"]  # … and printing no actuals


def family_of_title(text: str) -> Family | None:
    """The family a title line names (it ends the line), or None when the text names no form."""
    key = re.sub(r"[(（][^()（）]*[)）]$", "", re.sub(r"\s+", "", text))  # '…表（2026年度）'
    return next(
        (f for f in FAMILIES for t in f.titles if (m := t.search(key)) and m.end() == len(key)),
        None,
    )


def family_of_marks(labels: set[str]) -> Family | None:
    """The family whose marking header labels were printed, where no title said it."""
    return next((f for f in FAMILIES if labels.intersection(f.marks)), None)


__all__ = [
    "BY_FORM_TYPE",
    "DECLARATION_FAMILY",
    "DEFAULT_FAMILY",
    "FAMILIES",
    "Family",
    "WeightRule",
    "family_of_marks",
    "family_of_title",
]
