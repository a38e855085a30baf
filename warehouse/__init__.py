"""The DuckDB warehouse behind the SCHEMA.md views: schema, loader and run log."""

from warehouse.store import (
    FileCheck,
    FileLoad,
    LoadResult,
    NotAWarehouse,
    RunCounts,
    SourceFile,
    Unpulled,
    Warehouse,
    WarehouseBusy,
    WarehouseTooNew,
    check_writable,
    db_path,
    interrupted_query,
    no_forms_message,
)

__all__ = [
    "FileLoad",
    "FileCheck",
    "LoadResult",
    "NotAWarehouse",
    "RunCounts",
    "SourceFile",
    "Unpulled",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseTooNew",
    "check_writable",
    "db_path",
    "interrupted_query",
    "no_forms_message",
]
