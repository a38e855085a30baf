"""Typed records shared by every step: the grid model and the form records."""

from schemas.grid import Cell, Document, Grid, text_block
from schemas.records import (
    CheckResult,
    Extraction,
    FlaggedCell,
    Form,
    FundLine,
    Indicator,
    form_id_for,
    form_status,
)

__all__ = [
    "Cell",
    "CheckResult",
    "Document",
    "Extraction",
    "FlaggedCell",
    "Form",
    "FundLine",
    "Grid",
    "Indicator",
    "form_id_for",
    "form_status",
    "text_block",
]
