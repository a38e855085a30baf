"""Recover merged 一级/二级 spans where the source kept no geometry (DOMAIN.md §0).

A flat extraction prints a merged cell's label on one row of its span: the first (top-aligned),
the middle (vertically centred) or a row on the next page. Each label's span must contain the row
it was printed on and spans tile the table in order, so only the boundary between two consecutive
labels is unknown. Each boundary is chosen to agree best with the indicator vocabulary; a tie keeps
the top-aligned (fill-down) reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SpanChoice:
    """Labels per row, and the rows whose parent differs from the fill-down reading."""

    labels: list[str | None]
    moved_rows: list[int]


def infer_spans(
    n_rows: int,
    anchors: dict[int, str],
    affinity: Callable[[int, str], float],
    allowed_starts: set[int] | None = None,
) -> SpanChoice:
    """Assign each row to one printed label.

    ``anchors`` maps a row to the label printed on it; ``affinity(row, label)`` scores how well the
    row fits under the label; ``allowed_starts`` restricts where a span may begin (a parent span
    must start where a child span starts).
    """
    labels: list[str | None] = [None] * n_rows
    if not anchors:
        return SpanChoice(labels, [])
    rows = sorted(anchors)
    starts = [0]
    moved: list[int] = []
    for here, nxt in zip(rows, rows[1:], strict=False):
        candidates = [
            s
            for s in range(here + 1, nxt + 1)
            if allowed_starts is None or s in allowed_starts or s == nxt
        ]
        best, best_score = nxt, None
        for s in candidates:
            score = sum(affinity(i, anchors[here]) for i in range(here + 1, s)) + sum(
                affinity(i, anchors[nxt]) for i in range(s, nxt)
            )
            if best_score is None or score > best_score or (score == best_score and s > best):
                best, best_score = s, score
        starts.append(best)
        moved.extend(range(best, nxt))
    starts.append(n_rows)
    for k, row in enumerate(rows):
        for i in range(starts[k], starts[k + 1]):
            labels[i] = anchors[row]
    moved.extend(range(0, rows[0]))  # rows above the first label belong to it (centred label)
    return SpanChoice(labels, sorted(moved))
