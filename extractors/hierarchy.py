"""Recover merged 一级/二级 spans where the source kept no geometry (DOMAIN.md §0).

A flat extraction prints a merged cell's label on one row of its span: the first (top-aligned,
Word's default), the middle (vertically centred, the Excel/WPS default) or a row on the next page.
Each label's span contains the row it was printed on and the spans tile the table in order, so only
the boundaries between consecutive labels are unknown. They are chosen to agree best with the
indicator vocabulary; among equally good readings the alignment prior decides: labels at the top of
their spans, or labels in the middle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SpanChoice:
    """The label of every row, and the rows that lie above their label's printed row."""

    labels: list[str | None]
    moved_rows: list[int]


def infer_spans(
    n_rows: int,
    anchors: dict[int, str],
    affinity: Callable[[int, str], float],
    allowed_starts: set[int] | None = None,
    centred: bool = False,
) -> SpanChoice:
    """Assign each row to one printed label.

    ``anchors`` maps a row to the label printed on it; ``affinity(row, label)`` scores how well a
    row fits under a label; ``allowed_starts`` restricts where a span may begin (a parent span
    starts where a child span starts); ``centred`` prefers labels in the middle of their spans.
    """
    labels: list[str | None] = [None] * n_rows
    if not anchors:
        return SpanChoice(labels, [])
    rows = sorted(anchors)
    names = [anchors[r] for r in rows]
    prefix = {name: _prefix_sums(n_rows, name, affinity) for name in set(names)}

    def span_value(k: int, start: int, end: int) -> float:
        """Vocabulary agreement first, closeness to the alignment prior second."""
        fit = prefix[names[k]][end] - prefix[names[k]][start]
        anchor = rows[k]
        if centred:
            middle = (start + end - 1) / 2
            offset = abs(anchor - middle) - (0.5 if (end - start) % 2 == 0 else 0)
        else:
            offset = anchor - start
        return fit * 1000 - max(offset, 0)

    # best[k][s]: best value of spans 0..k-1 when span k starts at s (dynamic programme)
    best: list[dict[int, tuple[float, int]]] = [{0: (0.0, -1)}]
    for k in range(1, len(rows)):
        options = [
            s
            for s in range(rows[k - 1] + 1, rows[k] + 1)
            if allowed_starts is None or s in allowed_starts or s == rows[k]
        ]
        layer: dict[int, tuple[float, int]] = {}
        for s in options:
            for prev, (value, _) in best[k - 1].items():
                total = value + span_value(k - 1, prev, s)
                if (
                    s not in layer
                    or total > layer[s][0]
                    or (total == layer[s][0] and prev > layer[s][1])
                ):
                    layer[s] = (total, prev)
        best.append(layer)
    last = len(rows) - 1
    start = max(best[last], key=lambda s: (best[last][s][0] + span_value(last, s, n_rows), s))
    starts = [start]
    for k in range(last, 0, -1):
        start = best[k][start][1]
        starts.append(start)
    starts.reverse()
    starts.append(n_rows)
    moved: list[int] = []
    for k, row in enumerate(rows):
        for i in range(starts[k], starts[k + 1]):
            labels[i] = names[k]
        moved.extend(range(starts[k], row))
    return SpanChoice(labels, moved)


def _prefix_sums(n_rows: int, name: str, affinity: Callable[[int, str], float]) -> list[float]:
    sums = [0.0]
    for i in range(n_rows):
        sums.append(sums[-1] + affinity(i, name))
    return sums
