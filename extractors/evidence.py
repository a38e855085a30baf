"""Whether a document that gave no form holds one all the same: the words of an indicator table.

A budget package speaks of 绩效目标 in its prose and lists projects with a goal sentence beside
each; a performance form prints its indicator table: header cells such as 一级指标 / 三级指标 /
指标值 and level cells such as 产出指标 / 满意度指标, each a cell of its own. So the evidence is a
table on a page with two of those words as whole cells, or one header word as a whole cell and
indicators packed into another cell of the table (``1.1－产出指标，11－数量指标，…``), or a line
of text outside any table with two of them as words between spaces (a table whose rulings were
not found). A page of prose, or a list whose only performance column is 绩效目标, gives none.
"""

from __future__ import annotations

from pathlib import Path

from extractors.values import compact, normalize_text
from schemas.grid import Document
from schemas.vocabulary import INDICATOR_HEADER_WORDS, LEVEL1

# the header words that name an indicator's levels or values (分值/得分 head score tables too),
# and the template wording that heads the 三级 column 指标内容 and the value column 指标值
HEADER_WORDS = frozenset(
    {compact(w) for w in INDICATOR_HEADER_WORDS if "指标" in w or "目标" in w}
    | {"指标内容", "指标值"}
)
LEVEL1_WORDS = frozenset(w for w in LEVEL1 if w.endswith("指标"))  # long enough to find in text


def form_word_pages(document: Document) -> list[int | None]:
    """The pages (None where the source has none) whose tables print a performance form's
    indicator words, in order."""
    pages: dict[int | None, tuple[set[str], bool]] = {}
    for grid in document.grids:
        for cell in grid.cells:
            page = cell.page if cell.page is not None else grid.page_of_row(cell.row)
            # a table of one column is a page's text dumped line by line, and a line outside
            # any table is a table whose rulings were not found (a scan of a table ruled by
            # rows only, or not at all): its cells are the words between spaces ('一级指标
            # 二级指标 三级指标 年度指标值')
            for piece in cell.text.split() if grid.n_cols == 1 else [cell.text]:
                text = compact(normalize_text(piece)).rstrip(":：")
                if not text:
                    continue
                whole, packed = pages.setdefault(page, (set(), False))
                if text in HEADER_WORDS or text in LEVEL1:
                    whole.add(text)
                elif grid.is_table and any(word in text for word in LEVEL1_WORDS):
                    pages[page] = (whole, True)
    found = [
        page
        for page, (whole, packed) in pages.items()
        if whole & HEADER_WORDS and (len(whole) >= 2 or packed)
    ]
    return sorted(found, key=lambda p: (p is None, p or 0))


def unread_forms_message(path: Path, document: Document) -> str | None:
    """For a document that gave no form: what to say when its tables hold a form's words, else
    None (it holds no form)."""
    pages = form_word_pages(document)
    if not pages:
        return None
    numbered = [p for p in pages if p is not None]
    where = f" on {_page_ranges(numbered)}" if numbered else ""
    page = f" --page {numbered[0]} --png out.png" if numbered else ""
    return (
        f"{path.name} holds performance-form words{where} but no form could be read; run "
        f"jixiao debug {path}{page} and report it"
    )


def _page_ranges(pages: list[int]) -> str:
    """'page 3', 'pages 3–4, 7'."""
    runs: list[list[int]] = []
    for page in pages:
        if runs and page == runs[-1][-1] + 1:
            runs[-1].append(page)
        else:
            runs.append([page])
    text = ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"page {text}" if len(pages) == 1 else f"pages {text}"
