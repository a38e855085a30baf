"""Typed records shared by every step: the grid model and the form records."""

from schemas.grid import Cell, Document, Grid, text_block
from schemas.records import CheckResult, FlaggedCell, Form, FundLine, Indicator

__all__ = [
    "Cell",
    "CheckResult",
    "Document",
    "FlaggedCell",
    "Form",
    "FundLine",
    "Grid",
    "Indicator",
    "text_block",
]
