"""The DuckDB warehouse behind the SCHEMA.md views: schema, loader and run log."""

from warehouse.store import (
    Extraction,
    FileCheck,
    FileLoad,
    LoadResult,
    RunCounts,
    SourceFile,
    Unpulled,
    Warehouse,
    WarehouseBusy,
    check_writable,
    default_db_path,
    form_id_for,
    no_forms_message,
)

__all__ = [
    "FileLoad",
    "Extraction",
    "FileCheck",
    "LoadResult",
    "RunCounts",
    "SourceFile",
    "Unpulled",
    "Warehouse",
    "WarehouseBusy",
    "check_writable",
    "default_db_path",
    "form_id_for",
    "no_forms_message",
]
