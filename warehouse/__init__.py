"""The DuckDB warehouse behind the SCHEMA.md views: schema, loader and run log."""

from warehouse.store import (
    FileCheck,
    FileLoad,
    LoadResult,
    RunCounts,
    SourceFile,
    Unpulled,
    Warehouse,
    WarehouseBusy,
    check_writable,
    db_path,
    no_forms_message,
)

__all__ = [
    "FileLoad",
    "FileCheck",
    "LoadResult",
    "RunCounts",
    "SourceFile",
    "Unpulled",
    "Warehouse",
    "WarehouseBusy",
    "check_writable",
    "db_path",
    "no_forms_message",
]
