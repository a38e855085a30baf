"""Measure jixiao against the bare libraries on the same born-digital PDFs, side by side.

    .venv/bin/python scripts/benchmark.py [--copies N] [PDF_OR_FOLDER ...]

Each measurement runs in its own process, so peak memory is that step's alone; start-up (imports,
Prefect's temporary server, the first Great Expectations validation) is excluded from the timings.
The input defaults to samples/pdf; ``--copies`` repeats each file (made unique by a trailing
comment, so the pipeline does not skip them as duplicates) to lengthen the run. Prints a Markdown
table for the README.

    .venv/bin/python scripts/benchmark.py --backfill [--copies N]

measures instead ``jixiao backfill`` with 1 and 2 worker processes over two archives of three
year folders: "packages" (each file a 22-page published budget disclosure with one to five
self-evaluation forms after it, the shape of a department's 决算公开 PDF) and "forms only" (the
1–3-page sample forms themselves). Runs alternate and the best of two is kept, so a busy
neighbour process skews less; it prints files/s, the 2-worker speed-up and the per-file figures
the README's national-scale estimate uses.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pdfium_text(files: list[Path]) -> int:
    """pypdfium2 text extraction alone: the floor."""
    import pypdfium2 as pdfium

    pages = 0
    for path in files:
        pdf = pdfium.PdfDocument(path)
        for page in pdf:
            page.get_textpage().get_text_range()
            pages += 1
        pdf.close()
    return pages


def pdfplumber_tables(files: list[Path]) -> int:
    """pdfplumber's table finder alone (page.find_tables on every page)."""
    import pdfplumber

    pages = 0
    for path in files:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.find_tables()
                pages += 1
    return pages


def camelot_lattice(files: list[Path]) -> int:
    """camelot's lattice parser with its render-free vector engine."""
    import camelot
    import pypdfium2 as pdfium

    pages = 0
    for path in files:
        camelot.read_pdf(str(path), pages="all", flavor="lattice", engine="vector")
        pages += len(pdfium.PdfDocument(path))
    return pages


def jixiao_grids(files: list[Path]) -> int:
    """jixiao's PDF reader and form parser, without checks or warehouse."""
    from extractors import read_document
    from extractors.forms import parse_forms

    pages = 0
    for path in files:
        document = read_document(path)
        parse_forms(document)
        pages += document.pages or 0
    return pages


def jixiao_pipeline(files: list[Path]) -> int:
    """The whole ingest flow (read, parse, Great Expectations, DuckDB) on a fresh warehouse."""
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    import pypdfium2 as pdfium

    from flows.ingest import ingest

    with tempfile.TemporaryDirectory() as tmp:
        ingest(paths=[str(files[0])], db=str(Path(tmp) / "warmup.duckdb"))  # server, GX import
        start = time.perf_counter()
        ingest(paths=[str(p) for p in files], db=str(Path(tmp) / "bench.duckdb"))
        elapsed = time.perf_counter() - start
    pages = sum(len(pdfium.PdfDocument(p)) for p in files)
    _report(pages, elapsed, len(files))
    return -1


MEASURES = {
    "pypdfium2 text only (floor)": pdfium_text,
    "pdfplumber find_tables": pdfplumber_tables,
    "camelot lattice (engine=vector)": camelot_lattice,
    "jixiao reader + form parser": jixiao_grids,
    "jixiao whole pipeline (Prefect flow, GX, DuckDB)": jixiao_pipeline,
}


def _report(pages: int, elapsed: float, files: int) -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"pages": pages, "seconds": elapsed, "files": files, "peak_mb": peak_mb}))


def _child(name: str, listing: Path) -> None:
    files = [Path(line) for line in listing.read_text().splitlines()]
    measure = MEASURES[name]
    measure(files[:1])  # warm-up: imports and first-call costs are start-up, not throughput
    start = time.perf_counter()
    pages = measure(files)
    if pages >= 0:
        _report(pages, time.perf_counter() - start, len(files))


def _inputs(paths: list[str], copies: int, into: Path) -> list[Path]:
    sources: list[Path] = []
    for given in map(Path, paths):
        sources += sorted(given.rglob("*.pdf")) if given.is_dir() else [given]
    files = []
    for n in range(copies):
        for source in sources:
            target = into / f"{n:03d}_{source.name}"
            shutil.copyfile(source, target)
            with target.open("ab") as handle:  # unique bytes, same document
                handle.write(f"\n% benchmark copy {n}\n".encode())
            files.append(target)
    return files


def _package(form: Path, target: Path) -> None:
    """A disclosure-shaped PDF: a real 22-page budget document, then the form's pages."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    pdf.import_pages(pdfium.PdfDocument(ROOT / "tests" / "data" / "real" / PACKAGE_BODY))
    pdf.import_pages(pdfium.PdfDocument(form))
    pdf.save(target)


PACKAGE_BODY = "putuo_district_office_2025_budget_wps.pdf"
YEARS = (2021, 2022, 2023)


def _archive(kind: str, copies: int, into: Path) -> int:
    """Year folders of unique files; returns how many."""
    forms = sorted((ROOT / "samples" / "pdf").glob("self_eval_*.pdf"))
    count = 0
    for year in YEARS:
        folder = into / str(year)
        folder.mkdir(parents=True)
        for n in range(copies):
            for form in forms:
                target = folder / f"{n:03d}_{form.name}"
                if kind == "packages":
                    _package(form, target)
                else:
                    shutil.copyfile(form, target)
                with target.open("ab") as handle:
                    handle.write(f"\n% {into.name} {year} {n}\n".encode())
                count += 1
    return count


def backfill_scaling(kind: str, copies: int) -> None:
    """Child: backfill the ``kind`` archive with 1 and 2 workers (best of two each)."""
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.backfill import backfill

    best: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _archive(kind, 1, tmp / "warmup")  # server, GX import, first pool start
        backfill(source=str(tmp / "warmup"), db=str(tmp / "warmup.duckdb"), workers=2)
        for attempt in range(2):
            for workers in (1, 2):
                archive = tmp / f"{kind}-{workers}-{attempt}"
                files = _archive(kind, copies, archive)
                start = time.perf_counter()
                summary = backfill(
                    source=str(archive), db=str(tmp / f"{archive.name}.duckdb"), workers=workers
                )
                elapsed = time.perf_counter() - start
                assert summary.files_new == files and summary.files_failed == 0
                best[workers] = min(best.get(workers, elapsed), elapsed)
                forms = summary.forms_landed + summary.forms_quarantined
    print(json.dumps({"files": files, "forms": forms, "seconds": best}))


def _backfill_table(copies: int) -> None:
    print("| archive | files | forms | 1 worker files/s | 2 workers files/s | speed-up |")
    print("|---|---|---|---|---|---|")
    for kind in ("packages", "forms only"):
        out = subprocess.run(
            [sys.executable, __file__, "--child-backfill", kind, "--copies", str(copies)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode != 0 or not lines:
            print(f"| {kind} | failed: {out.stderr.strip().splitlines()[-1:]} | | | | |")
            continue
        r = json.loads(lines[-1])
        one, two = r["seconds"]["1"], r["seconds"]["2"]
        print(
            f"| {kind} | {r['files']} | {r['forms']} | {r['files'] / one:.1f} "
            f"| {r['files'] / two:.1f} | {one / two:.2f}× |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "samples" / "pdf")])
    parser.add_argument("--copies", type=int, default=5, help="copies of each file (default 5)")
    parser.add_argument(
        "--backfill", action="store_true", help="measure backfill with 1 and 2 workers instead"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-backfill", help=argparse.SUPPRESS)
    parser.add_argument("--listing", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_backfill:
        backfill_scaling(args.child_backfill, args.copies)
        return
    if args.backfill:
        _backfill_table(args.copies)
        return
    if args.child:
        _child(args.child, Path(args.listing))
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = _inputs(args.paths, args.copies, Path(tmp))
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(map(str, files)))
        print(f"{len(files)} files, measuring each step in its own process…", file=sys.stderr)
        print("| step | pages | seconds | pages/s | files/min | peak memory |")
        print("|---|---|---|---|---|---|")
        for name in MEASURES:
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, "--listing", str(listing)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
            if out.returncode != 0 or not lines:
                print(f"| {name} | failed: {out.stderr.strip().splitlines()[-1:]} | | | | |")
                continue
            r = json.loads(lines[-1])
            print(
                f"| {name} | {r['pages']} | {r['seconds']:.2f} | {r['pages'] / r['seconds']:.1f}"
                f" | {r['files'] / r['seconds'] * 60:.0f} | {r['peak_mb']:.0f} MB |"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
