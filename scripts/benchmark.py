"""Measure jixiao against the bare libraries on the same born-digital PDFs, side by side.

    .venv/bin/python scripts/benchmark.py [--copies N] [PDF_OR_FOLDER ...]

The bare libraries it compares against are the ``benchmark`` extra: ``pip install -e ".[benchmark]"``.

Each measurement runs in its own process, so peak memory is that step's alone; start-up (imports,
Prefect's temporary server, the first Great Expectations validation) is excluded from the timings.
The input defaults to samples/pdf; ``--copies`` repeats each file (made unique by a trailing
comment, so the pipeline does not skip them as duplicates) to lengthen the run. Prints a Markdown
table for the README.

    .venv/bin/python scripts/benchmark.py --formats     # forms/s of every other reader
    .venv/bin/python scripts/benchmark.py --scans       # scanned s/page and character errors
    .venv/bin/python scripts/benchmark.py --real-scans  # real pages scanned badly, cold pipeline

``--formats`` reads the samples rendered as XLSX, DOCX, HTML and LibreOffice PDF
(tests/data/rendered) and the seed text exports, each through its reader and the form parser.
``--scans`` rasterises sample pages at 200 dpi, degrades them as a scanner would (rotation, blur,
noise, JPEG; tests/data/scans/rasterize.py), reads them whole (OCR, grid, forms) after the models
are loaded, and compares each table's text with the born-digital page's (character error rate).

    .venv/bin/python scripts/benchmark.py --fuzz N [--seed S] [--degraded M] [--rulings CLASS]

``--fuzz`` generates N random forms (scripts/fuzz_forms.py: every family, varied columns, labels,
units, level layouts, page breaks and rulings; ``--rulings`` forces a class), prints each through ReportLab, LibreOffice Writer (DOCX),
LibreOffice Calc (XLSX) and headless Chromium (HTML), reads the PDFs as they are and (the first M)
as scans and as phone photos, and prints the share of cells and of 一级/二级 levels read right per
producer and degradation, then one line per form not read exactly, with its seed to reproduce it.

    .venv/bin/python scripts/benchmark.py --fixed-cost [--repeat N]

measures the fixed cost of ``jixiao ingest FILE`` on a one-form PDF, as a person runs it: cold (no
Prefect server running: the run starts jixiao's local one) and warm (a new file; the same file
again; once the warm worker server the first run started serves), in a fresh state folder and
Prefect home.

    .venv/bin/python scripts/benchmark.py --backfill [--copies N] [--repeat N] [--archive A]

measures instead ``jixiao backfill`` with 1 and 2 worker processes over two archives of three
year folders: "packages" (each file a 22-page published budget disclosure with one to five
self-evaluation forms after it, the shape of a department's 决算公开 PDF) and "forms only" (the
1–3-page sample forms themselves). Runs alternate and the best of ``--repeat`` (3) is kept, so a
busy neighbour skews less; it prints files/s, the 2-worker speed-up and the per-file figures the
README's national-scale estimate uses (a worker's seconds a file, the writer's CPU a file).
Beside each pipeline run the same files are read by one and by two bare processes (no Prefect,
checks or warehouse), in the same conditions: the machine's own two-process speed-up on the
work, which is the most the pipeline can reach.

    .venv/bin/python scripts/benchmark.py --backfill --real [--repeat N]

backfills instead the real publications (every PDF in tests/data/real/forms and, when present,
in the shared folder of real publications beside the checkout, ``../shared/real``; each content
once), every file copied twice with distinct bytes, with 1 and 2 workers, alternating. Each
timed run is a process of its own with a fresh Prefect home and warehouse, so nothing is cached
(Prefect's temporary server starts inside the run); the fixed cost of a run (the same command on
one small file, also fresh) is measured beside each and taken out. Rounds alternate which worker
count goes first. Then the same files are read
by one and by two bare processes (each taking the next file when free, largest first): the
machine's own two-process speed-up at that moment. Prints one README table row per round (with
the load average), then the median speed-up.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing import get_context
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


def _watch_workers(stop: threading.Event, peak_mb: list[float]) -> None:
    """Until ``stop`` is set: the largest peak resident size among this process's worker
    processes (multiprocessing children; not Prefect's server)."""
    import psutil

    while not stop.wait(0.1):
        for child in psutil.Process().children(recursive=True):
            try:
                if "multiprocessing" not in " ".join(child.cmdline()):
                    continue
                status = Path(f"/proc/{child.pid}/status").read_text()
            except (psutil.Error, OSError):
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                peak_mb[0] = max(peak_mb[0], int(match.group(1)) / 1024)


def jixiao_pipeline(files: list[Path]) -> int:
    """The whole ingest flow (read, parse, Great Expectations, DuckDB) on a fresh warehouse."""
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    import pypdfium2 as pdfium

    from flows.ingest import ingest
    from flows.options import RunOptions

    stop, worker_mb = threading.Event(), [0.0]
    watcher = threading.Thread(target=_watch_workers, args=(stop, worker_mb), daemon=True)
    with tempfile.TemporaryDirectory() as tmp:
        warmup = RunOptions(db=str(Path(tmp) / "warmup.duckdb"))
        ingest(paths=[str(files[0])], options=warmup)  # server, GX import
        watcher.start()
        start = time.perf_counter()
        ingest(
            paths=[str(p) for p in files], options=RunOptions(db=str(Path(tmp) / "bench.duckdb"))
        )
        elapsed = time.perf_counter() - start
        stop.set()
        watcher.join()
    pages = sum(len(pdfium.PdfDocument(p)) if p.suffix == ".pdf" else 1 for p in files)
    _report(pages, elapsed, len(files), worker_mb[0])
    return -1


MEASURES = {
    "pypdfium2 text only (floor)": pdfium_text,
    "pdfplumber find_tables": pdfplumber_tables,
    "camelot lattice (engine=vector)": camelot_lattice,
    "jixiao reader + form parser": jixiao_grids,
    "jixiao whole pipeline (Prefect flow, GX, DuckDB)": jixiao_pipeline,
}


def _report(pages: int, elapsed: float, files: int, worker_mb: float = 0.0) -> None:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "pages": pages,
                "seconds": elapsed,
                "files": files,
                "peak_mb": peak_mb,
                "worker_mb": worker_mb,
            }
        )
    )


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


def backfill_scaling(kind: str, copies: int, repeat: int) -> None:
    """Child: backfill the ``kind`` archive with 1 and 2 workers (best of ``repeat`` each)."""
    import os

    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.backfill import backfill
    from flows.options import RunOptions

    best: dict[int, float] = {}
    bare: dict[int, float] = {}  # the same files read by 1 and 2 bare processes, no pipeline
    writer_cpu: dict[int, float] = {}  # the run's process (the writer), CPU s, in the best run
    with tempfile.TemporaryDirectory() as tmp, get_context("spawn").Pool(2) as readers:
        tmp = Path(tmp)
        _archive(kind, 1, tmp / "warmup")  # server, GX import, first pool start
        backfill(
            source=str(tmp / "warmup"), options=RunOptions(db=str(tmp / "warmup.duckdb"), workers=2)
        )
        readers.map(_read_all, [[], []])  # the bare readers' imports
        for attempt in range(repeat):
            for workers in (1, 2):
                archive = tmp / f"{kind}-{workers}-{attempt}"
                files = _archive(kind, copies, archive)
                paths = sorted(str(path) for path in archive.rglob("*.pdf"))
                start = time.perf_counter()
                readers.map(_read_all, [paths[n::workers] for n in range(workers)])
                elapsed = time.perf_counter() - start
                bare[workers] = min(bare.get(workers, elapsed), elapsed)
                start, cpu = time.perf_counter(), time.process_time()
                summary = backfill(
                    source=str(archive),
                    options=RunOptions(db=str(tmp / f"{archive.name}.duckdb"), workers=workers),
                )
                elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
                assert summary.files_new == files and summary.files_failed == 0
                if elapsed < best.get(workers, float("inf")):
                    best[workers], writer_cpu[workers] = elapsed, cpu
                forms = summary.forms_landed + summary.forms_quarantined
    result = {"files": files, "forms": forms, "seconds": best, "writer_cpu": writer_cpu}
    print(json.dumps({**result, "bare": bare}))


def _read_all(paths: list[str]) -> None:
    """A bare reader process: read and parse ``paths`` one after the other."""
    from flows.extraction.extract import extract_path

    for path in paths:
        extract_path(path)


ARCHIVES = ("packages", "forms only")


def _run_child(arguments: list[str], columns: int) -> dict | None:
    """Run this script with ``arguments`` in a fresh process and return the JSON line it prints
    last; on failure print a table row of ``columns`` cells saying why, and return None."""
    out = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, cwd=ROOT
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        why = out.stderr.strip().splitlines()[-1:]
        print(f"| {arguments[1]} | failed: {why} |" + " |" * (columns - 2))
        return None
    return json.loads(lines[-1])


def _backfill_table(copies: int, repeat: int, archives: list[str]) -> None:
    print(
        "| archive | files | forms | 1 worker files/s | 2 workers files/s | speed-up "
        "| bare reading speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    per_file = []
    for kind in archives:
        arguments = ["--child-backfill", kind, "--copies", str(copies), "--repeat", str(repeat)]
        r = _run_child(arguments, columns=7)
        if r is None:
            continue
        one, two = r["seconds"]["1"], r["seconds"]["2"]
        print(
            f"| {kind} | {r['files']} | {r['forms']} | {r['files'] / one:.1f} "
            f"| {r['files'] / two:.1f} | {one / two:.2f}× | {r['bare']['1'] / r['bare']['2']:.2f}× |"
        )
        per_file.append(
            f"{kind}: one worker reads and checks a file in {one / r['files']:.3f} s (at most); "
            f"the writer's process spends {r['writer_cpu']['1'] / r['files'] * 1000:.1f} ms "
            f"of CPU a file with 1 worker, {r['writer_cpu']['2'] / r['files'] * 1000:.1f} ms "
            "with 2"
        )
    print("\n" + "\n".join(per_file))


SMALL_FILE = ROOT / "samples" / "pdf" / "self_eval_three_forms.pdf"  # a run's fixed cost


def _real_publications() -> list[Path]:
    """The real publications' PDFs, each content once: the repository's copies, then the shared
    folder of real publications (``shared/real`` beside the checkout or a folder above it)."""
    folders = [ROOT / "tests" / "data" / "real" / "forms"]
    folders += [p / "shared" / "real" for p in ROOT.parents if (p / "shared" / "real").is_dir()][:1]
    seen: set[str] = set()
    files = []
    for folder in folders:
        for path in sorted(folder.rglob("*.pdf")):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                files.append(path)
    return files


def _copies(sources: list[Path], copies: int, into: Path, salt: str) -> list[Path]:
    """``copies`` copies of each of ``sources`` under ``into``, with distinct bytes."""
    files = []
    for n in range(copies):
        folder = into / f"copy{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for index, source in enumerate(sources):
            target = folder / f"{index:03d}_{source.name}"
            shutil.copyfile(source, target)
            with target.open("ab") as handle:  # unique bytes, same document
                handle.write(f"\n% {salt} copy {n}\n".encode())
            files.append(target)
    return files


def real_backfill_run(archive: str, workers: int) -> None:
    """Child: one backfill of ``archive`` with ``workers``, timed from the flow call (imports
    done) to its end, in this process's fresh Prefect home, into a fresh warehouse."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.backfill import backfill
    from flows.options import RunOptions

    db = Path(archive).parent / f"{Path(archive).name}-{workers}.duckdb"
    start = time.perf_counter()
    summary = backfill(source=archive, options=RunOptions(db=str(db), workers=workers))
    elapsed = time.perf_counter() - start
    forms = summary.forms_landed + summary.forms_quarantined
    print(json.dumps({"seconds": elapsed, "files": summary.files_new, "forms": forms}))


def bare_read(listing: str, workers: int) -> None:
    """Child: read ``listing``'s files with ``workers`` bare processes (reader and parser only),
    each taking the next file when free, largest first; the seconds, imports excluded."""
    from flows.extraction.pool import reading_threads

    paths = sorted(Path(listing).read_text().splitlines(), key=lambda p: -Path(p).stat().st_size)
    threads = reading_threads(workers, len(paths))  # as the pipeline's workers
    with get_context("spawn").Pool(workers, _set_threads, (threads,)) as readers:
        readers.map(_read_all, [[str(SMALL_FILE)]] * workers, chunksize=1)  # imports, models
        start = time.perf_counter()
        list(readers.imap_unordered(_read_all, [[path] for path in paths], chunksize=1))
        print(json.dumps({"seconds": time.perf_counter() - start}))


def _set_threads(threads: int) -> None:
    from extractors import ocr_engine

    ocr_engine.THREADS = threads


def _timed(arguments: list[str]) -> dict:
    """Run this script with ``arguments`` in a fresh process with a fresh Prefect home; the JSON
    line it prints last."""
    with tempfile.TemporaryDirectory() as home:
        out = subprocess.run(
            [sys.executable, __file__, *arguments],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",  # a busy machine
                **os.environ,
                "PREFECT_HOME": home,
                "PYTHONPATH": str(ROOT),
            },
        )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"{arguments[0]} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(lines[-1])


def real_backfill_table(repeat: int) -> None:
    """Backfill the real publications, twice over, with 1 and 2 workers (see the docstring)."""
    sources = _real_publications()
    pages = sum(_pages(path) for path in sources) * 2
    print(
        f"{len(sources)} publications ({pages // 2} pages), each twice: {len(sources) * 2} files",
        file=sys.stderr,
    )
    print(
        "| round | load average | 1 worker: s (fixed cost) | 2 workers: s (fixed cost) "
        "| files/s 1 → 2 workers, fixed cost out | speed-up | bare reading speed-up |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for attempt in range(repeat):
            run, fixed, bare = {}, {}, {}
            load = os.getloadavg()[0]
            for workers in (1, 2) if attempt % 2 == 0 else (2, 1):  # neither always first
                small = _copies([SMALL_FILE], 1, tmp / f"small-{attempt}-{workers}", "fixed")
                fixed[workers] = _timed(
                    [
                        "--child-real-backfill",
                        str(small[0].parent.parent),
                        "--workers",
                        str(workers),
                    ]
                )["seconds"]
                archive = tmp / f"real-{attempt}-{workers}"
                files = _copies(sources, 2, archive, f"real {attempt} {workers}")
                result = _timed(["--child-real-backfill", str(archive), "--workers", str(workers)])
                assert result["files"] == len(files), result
                run[workers] = result["seconds"]
            listing = tmp / "listing.txt"
            listing.write_text("\n".join(map(str, files)))
            for workers in (1, 2) if attempt % 2 == 0 else (2, 1):
                arguments = ["--child-bare-read", str(listing), "--workers", str(workers)]
                bare[workers] = _timed(arguments)["seconds"]
            load = max(load, os.getloadavg()[0])
            net = {workers: run[workers] - fixed[workers] for workers in (1, 2)}
            rows.append((net[1] / net[2], bare[1] / bare[2]))
            print(
                f"| {attempt + 1} | {load:.1f} | {run[1]:.1f} ({fixed[1]:.1f}) "
                f"| {run[2]:.1f} ({fixed[2]:.1f}) | {len(files) / net[1]:.2f} → "
                f"{len(files) / net[2]:.2f} | {net[1] / net[2]:.2f}× | {bare[1] / bare[2]:.2f}× |",
                flush=True,
            )
    speed_ups = sorted(speed_up for speed_up, _ in rows)
    print(
        f"\n{repeat} round(s): 2 workers {statistics.median(speed_ups):.2f}× as fast as one "
        f"(median; {speed_ups[0]:.2f}–{speed_ups[-1]:.2f}×), fixed cost out; bare reading "
        f"{statistics.median(bare for _, bare in rows):.2f}× (median); {len(sources) * 2} files, "
        f"{pages} pages, {result['forms']} forms"
    )


def _pages(path: Path) -> int:
    import pypdfium2 as pdfium

    return len(pdfium.PdfDocument(path))


RENDERED = ROOT / "tests" / "data" / "rendered"
FORMAT_SOURCES = {
    "XLSX": RENDERED / "xlsx",
    "DOCX": RENDERED / "docx",
    "HTML (UTF-8 and GBK)": RENDERED / "html",
    "PDF from LibreOffice": RENDERED / "pdf_libreoffice",
    "TXT (seeds)": ROOT / "samples" / "seeds",
}
SCAN_PAGES = [("self_eval_three_forms.pdf", 1), ("self_eval_three_forms.pdf", 2)]
SCAN_PAGES += [("self_eval_multipage_repeated_header.pdf", 2), ("policy_target_declaration.pdf", 1)]
SCAN_PAGES += [("project_target_declaration_2026.pdf", 1), ("self_eval_wanyuan.pdf", 1)]


def formats_table() -> None:
    """forms/s of read_document + parse_forms per format, best of three passes."""
    from extractors import read_document
    from extractors.forms import parse_forms

    print("| format | files | forms | forms/s |")
    print("|---|---|---|---|")
    for name, folder in FORMAT_SOURCES.items():
        files = sorted(
            p for p in folder.iterdir() if p.suffix in {".xlsx", ".docx", ".html", ".pdf", ".txt"}
        )
        best, forms = float("inf"), 0
        for _ in range(3):
            start = time.perf_counter()
            forms = sum(len(parse_forms(read_document(path))) for path in files)
            best = min(best, time.perf_counter() - start)
        print(f"| {name} | {len(files)} | {forms} | {forms / best:.0f} |")


def _table_text(document: object) -> str:
    """Every table cell's text, row by row, without spaces: what the character errors count on."""
    return "".join(
        "".join(cell.text.split())
        for grid in document.grids
        if grid.is_table
        for cell in sorted(grid.cells, key=lambda c: (c.page or 0, c.row, c.col))
    )


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def scans_table() -> None:
    """Seconds per scanned page (whole read + parse, models loaded) and character error rate."""
    import importlib.util

    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    from extractors import ocr_engine, read_document
    from extractors.forms import parse_forms

    rasterize_path = ROOT / "tests" / "data" / "scans" / "rasterize.py"
    spec = importlib.util.spec_from_file_location("rasterize", rasterize_path)
    rasterize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rasterize)
    ocr_engine.engine()
    seconds, errors, characters = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, page) in enumerate(SCAN_PAGES):
            pdf = ROOT / "samples" / "pdf" / name
            subprocess.run(
                [sys.executable, str(rasterize_path), str(pdf), tmp, "200", str(page)], check=True
            )
            gray = np.asarray(Image.open(Path(tmp) / f"{pdf.stem}_p{page}.png").convert("L"))
            scan = Path(tmp) / f"{pdf.stem}_p{page}.jpg"
            degraded = rasterize.degrade(gray, seed=k, angle=(-1.2, 0.8, 1.5)[k % 3], quality=70)
            Image.fromarray(degraded).save(scan, quality=92, dpi=(200, 200))
            one_page = Path(tmp) / f"{pdf.stem}_only{page}.pdf"
            born = pdfium.PdfDocument.new()
            born.import_pages(pdfium.PdfDocument(pdf), [page - 1])
            born.save(one_page)
            truth = _table_text(read_document(one_page))
            start = time.perf_counter()
            document = read_document(scan)
            parse_forms(document)
            seconds.append(time.perf_counter() - start)
            errors += _edit_distance(_table_text(document), truth)
            characters += len(truth)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| scanned pages | s/page (mean) | s/page (max) | character error rate | peak memory |")
    print("|---|---|---|---|---|")
    print(
        f"| {len(seconds)} (200 dpi, ±1.5°, noise, JPEG 70) | {sum(seconds) / len(seconds):.2f} "
        f"| {max(seconds):.2f} | {errors / characters:.2%} ({errors}/{characters}) "
        f"| {peak_mb:.0f} MB |"
    )


def fuzz_table(
    n: int, first: int, degradations: list[str], degraded: int, rulings: list[str | None]
) -> None:
    """Round trip of ``n`` random forms through each producer: the share of cells and of
    indicator levels read right, per producer, rulings class (None: as each seed draws) and
    degradation; a reproduction of each miss."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fuzz_forms as fz

    seeds = range(first, first + n)
    rows: list[str] = []
    misses: list[str] = []
    for producer in fz.PRODUCERS:
        for ruling in rulings:
            for degradation in degradations:
                picked = seeds if degradation == "none" else seeds[:degraded]
                total, perfect, seconds = fz.Score(), 0, 0.0
                forced = f" --rulings {ruling}" if ruling else ""
                for seed in picked:
                    with tempfile.TemporaryDirectory() as tmp:
                        start = time.perf_counter()
                        try:
                            case, score, what = fz.run_case(
                                seed, producer, degradation, Path(tmp), ruling
                            )
                        except Exception as error:  # a producer or reader crash is a miss too
                            misses.append(f"{seed} {producer} {degradation}{forced}: {error!r}")
                            continue
                        seconds += time.perf_counter() - start
                    total.add(score)
                    perfect += score.perfect
                    if not score.perfect:
                        first_miss = score.differences[0] if score.differences else ""
                        misses.append(
                            f"{seed} {producer} {degradation}{forced}: {case.family}, {what}; "
                            f"{len(score.differences)} difference(s), e.g. {first_miss[:160]}"
                        )
                cells = total.cells / max(total.cells_total, 1)
                levels = total.hierarchy / max(total.hierarchy_total, 1)
                rows.append(
                    f"| {producer} | {ruling or 'drawn'} | {degradation} | {len(picked)} | "
                    f"{perfect} | {cells:.2%} ({total.cells}/{total.cells_total}) | "
                    f"{levels:.2%} ({total.hierarchy}/{total.hierarchy_total}) | "
                    f"{seconds / max(len(picked), 1):.1f} |"
                )
                print(rows[-1], file=sys.stderr)
    print(
        "| producer | rulings | degradation | forms | read exactly | cells | hierarchy | s/form |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\nmisses (seed producer degradation; reproduce: "
        "scripts/fuzz_forms.py SEED PRODUCER DEG [--rulings CLASS]):"
    )
    print("\n".join(misses) or "none")


REAL = ROOT / "tests" / "data" / "real" / "forms"
REAL_SCAN_PAGES = [  # (publication, page, dpi): two producers' forms, portrait and landscape
    *[("renwu_020_西安_卫生健康委员会_2022年度部门决算_p1-99.pdf", p, 150) for p in range(56, 66)],
    *[("renwu_020_西安_卫生健康委员会_2022年度部门决算_p1-99.pdf", p, 200) for p in range(80, 85)],
    *[("renwu_025_烟台_2026年烟台市民政局部门预算.pdf", p, 200) for p in range(35, 40)],
]


def _rasterize_module() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "rasterize", ROOT / "tests" / "data" / "scans" / "rasterize.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def real_scans_table() -> None:
    """Real publications' pages rasterised (pypdfium2) at 150/200 dpi, rulings lightened and
    broken in stretches, a red seal, rotation, noise and JPEG: rows and 一级/二级 read against the
    same page's text layer, seconds a page of the reader alone (models loaded: wall and CPU),
    then ``jixiao ingest`` of the same pages as one scanned PDF, with nothing cached
    (:func:`scanned_ingest`, in its own process)."""
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    from extractors import ocr_engine, read_document
    from extractors.forms import parse_forms

    rasterize = _rasterize_module()
    ocr_engine.engine()
    wall, cpu, rows, levels, want_rows = 0.0, 0.0, 0, 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        scan = pdfium.PdfDocument.new()
        for name, page, dpi in REAL_SCAN_PAGES:
            source = pdfium.PdfDocument(REAL / name)
            gray = source[page - 1].render(scale=dpi / 72, grayscale=True).to_numpy()
            spoiled = rasterize.spoil_rulings(np.ascontiguousarray(gray), seed=page)
            image = rasterize.degrade(spoiled, seed=page, angle=(-0.9, 0.7)[page % 2], quality=80)
            path = Path(tmp) / f"{Path(name).stem[:12]}_p{page}_{dpi}.jpg"
            Image.fromarray(image).save(path, quality=90, dpi=(dpi, dpi))
            Image.open(path).save(path.with_suffix(".pdf"), resolution=dpi)  # a scanner's page
            scan.import_pages(pdfium.PdfDocument(path.with_suffix(".pdf")))
            single = pdfium.PdfDocument.new()
            single.import_pages(source, [page - 1])
            single.save(Path(tmp) / "page.pdf")
            truth = [
                i for f in parse_forms(read_document(Path(tmp) / "page.pdf")) for i in f.indicators
            ]
            start, cpu_start = time.perf_counter(), time.process_time()
            got = [i for f in parse_forms(read_document(path)) for i in f.indicators]
            wall += time.perf_counter() - start
            cpu += time.process_time() - cpu_start
            want_rows += len(truth)
            rows += min(len(got), len(truth))
            levels += sum((a.level1, a.level2) == (b.level1, b.level2) for a, b in zip(got, truth))
        scan.save(Path(tmp) / "scan.pdf")
        pipeline = _run_child(["--child-scanned-ingest", str(Path(tmp) / "scan.pdf")], columns=7)
    n = len(REAL_SCAN_PAGES)
    print(
        "| scanned real pages | rows kept | 一级/二级 right | reader s/page | reader CPU s/page "
        "| `jixiao ingest` of them as one PDF, cold: s/page | CPU s/page | load average |"
    )
    print("|---|---|---|---|---|---|---|---|")
    whole, whole_cpu, load = ("failed",) * 3
    if pipeline:
        whole = f"{pipeline['seconds'] / pipeline['pages']:.2f}"
        whole_cpu = f"{pipeline['cpu'] / pipeline['pages']:.2f}"
        load = f"{pipeline['load'][0]:.1f} → {pipeline['load'][1]:.1f}"
    print(
        f"| {n} (150/200 dpi, faint and broken rulings, seal, JPEG) | {rows}/{want_rows} "
        f"| {levels}/{want_rows} | {wall / n:.2f} | {cpu / n:.2f} | {whole} | {whole_cpu} "
        f"| {load} |"
    )


def _worker_cpu() -> dict[int, float]:
    """The CPU seconds of each of this process's worker processes (multiprocessing children and
    theirs; not Prefect's server), by process id."""
    import psutil

    out = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if "multiprocessing" in " ".join(child.cmdline()):
                times = child.cpu_times()
                out[child.pid] = times.user + times.system
        except psutil.Error:
            continue
    return out


def _watch_cpu(stop: threading.Event, seen: dict[int, float]) -> None:
    """Until ``stop`` is set: the last CPU seconds seen of each worker process (``seen``)."""
    while not stop.wait(0.05):
        seen.update(_worker_cpu())


def scanned_ingest(pdf: Path) -> None:
    """``jixiao ingest PDF`` as the flow runs it with the ingest command's default options (one
    worker process, its OCR on every core), with nothing cached: a fresh Prefect home and
    warehouse; only the local server's start and the checks' imports are taken out, by a run on
    another file first. Prints the seconds, the CPU seconds (this process and the workers, which
    start and load the models during the run), the pages and the load average before and
    after."""
    import os

    import pypdfium2 as pdfium

    home = tempfile.mkdtemp()
    os.environ["PREFECT_HOME"] = home
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.ingest import ingest
    from flows.options import RunOptions

    with tempfile.TemporaryDirectory() as tmp:
        ingest(paths=[str(ONE_FORM)], options=RunOptions(db=str(Path(tmp) / "warmup.duckdb")))
        before = _worker_cpu()
        seen, stop = dict(before), threading.Event()
        watcher = threading.Thread(target=_watch_cpu, args=(stop, seen), daemon=True)
        load = os.getloadavg()[0]
        watcher.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        summary = ingest(paths=[str(pdf)], options=RunOptions(db=str(Path(tmp) / "scan.duckdb")))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        stop.set()
        watcher.join()
    shutil.rmtree(home, ignore_errors=True)
    assert summary.files_failed == 0, "the scanned PDF failed"
    workers = sum(seconds - before.get(pid, 0.0) for pid, seconds in seen.items())
    pages = len(pdfium.PdfDocument(pdf))
    result = {
        "seconds": elapsed,
        "cpu": cpu + workers,
        "worker_cpu": workers,
        "pages": pages,
        "load": [load, os.getloadavg()[0]],
    }
    print(json.dumps(result))


ONE_FORM = ROOT / "samples" / "pdf" / "policy_target_declaration.pdf"


def _timed_ingest(path: Path, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds a ``jixiao ingest PATH`` takes, start to exit, as a person runs it, and the CPU
    seconds of its main process (its worker processes are not counted)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flows.app.cli", "ingest", str(path), "--db", "w.duckdb"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"jixiao ingest {path.name} failed ({done.returncode}): {done.stderr}")
    return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _wait_for_warm_workers(state: Path, timeout: float = 180) -> None:
    """Wait until the warm worker server a run started in ``state`` serves (it imports Great
    Expectations in the background for the next runs)."""
    deadline = time.monotonic() + timeout
    while not any(state.glob("workers-*.sock")) and time.monotonic() < deadline:
        time.sleep(0.5)


def fixed_cost_table(repeat: int) -> None:
    """The fixed cost of ``jixiao ingest FILE`` on a one-form PDF: cold (no Prefect server
    running, nothing cached: the first run starts jixiao's local server) and warm (the server
    running, the imports in the page cache): a new file, and the same file again (nothing new).
    Each warm figure is the best of ``repeat`` runs; the load average says how busy the host was.
    """
    from flows.app.prefect_server import stop

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "JIXIAO_STATE_DIR": str(folder / "state"),
            "PREFECT_HOME": str(folder / "prefect-home"),
        }
        for name in ("PREFECT_API_URL", "JIXIAO_DB", "JIXIAO_WAIT"):
            env.pop(name, None)
        files = _inputs([str(ONE_FORM)], repeat + 1, folder)
        runs = [
            ("cold: first run, starts the local server", [files[0]]),
            ("warm: a new file", files[1:]),
            ("warm: the same file again (nothing new)", [files[1]] * repeat),
        ]
        rows = []
        try:
            for label, paths in runs:
                load = os.getloadavg()[0]
                rows.append((label, min(_timed_ingest(path, env, folder) for path in paths), load))
                _wait_for_warm_workers(folder / "state")  # what the first run left warming
        finally:
            stop(folder / "state")
    print(
        f"fixed cost of `jixiao ingest FILE` ({ONE_FORM.name}; warm: best of {repeat}), "
        f"{os.cpu_count()} cores"
    )
    print("| run | seconds | CPU seconds (main process) | load average at start |")
    print("|---|---|---|---|")
    for label, (seconds, cpu), load in rows:
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {load:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "samples" / "pdf")])
    parser.add_argument("--copies", type=int, default=5, help="copies of each file (default 5)")
    parser.add_argument(
        "--backfill", action="store_true", help="measure backfill with 1 and 2 workers instead"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="backfill runs per worker count, best kept (3)"
    )
    parser.add_argument(
        "--archive",
        choices=ARCHIVES,
        action="append",
        help="with --backfill: measure only this archive (repeatable; default both)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="with --backfill: the real publications, twice over, nothing cached",
    )
    parser.add_argument("--formats", action="store_true", help="forms/s of the other readers")
    parser.add_argument("--scans", action="store_true", help="scanned s/page and character errors")
    parser.add_argument(
        "--real-scans", action="store_true", help="real pages scanned badly: rows, levels, s/page"
    )
    parser.add_argument(
        "--fuzz", type=int, metavar="N", help="round trip of N random forms through each producer"
    )
    parser.add_argument("--seed", type=int, default=0, help="with --fuzz: the first seed (0)")
    parser.add_argument(
        "--degraded",
        type=int,
        metavar="M",
        help="with --fuzz: scan and photograph only the first M forms (default N)",
    )
    parser.add_argument(
        "--degradation",
        action="append",
        choices=("none", "scan", "photo"),
        help="with --fuzz: only this degradation (repeatable; default all three)",
    )
    parser.add_argument(
        "--rulings",
        action="append",
        choices=("full", "horizontal", "frame", "none", "partial"),
        help="with --fuzz: rule every form's tables so (repeatable; default as each seed draws)",
    )
    parser.add_argument(
        "--fixed-cost",
        action="store_true",
        help="seconds of a one-file `jixiao ingest`, cold and warm (best of --repeat)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-backfill", help=argparse.SUPPRESS)
    parser.add_argument("--listing", help=argparse.SUPPRESS)
    parser.add_argument("--child-real-backfill", help=argparse.SUPPRESS)
    parser.add_argument("--child-bare-read", help=argparse.SUPPRESS)
    parser.add_argument("--child-scanned-ingest", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fuzz:
        degradations = args.degradation or ["none", "scan", "photo"]
        degraded = args.fuzz if args.degraded is None else args.degraded
        fuzz_table(args.fuzz, args.seed, degradations, degraded, args.rulings or [None])
        return
    if args.child_backfill:
        backfill_scaling(args.child_backfill, args.copies, args.repeat)
        return
    if args.child_real_backfill:
        real_backfill_run(args.child_real_backfill, args.workers)
        return
    if args.child_scanned_ingest:
        scanned_ingest(Path(args.child_scanned_ingest))
        return
    if args.child_bare_read:
        bare_read(args.child_bare_read, args.workers)
        return
    if args.backfill and args.real:
        real_backfill_table(args.repeat)
        return
    if args.backfill:
        _backfill_table(args.copies, args.repeat, args.archive or list(ARCHIVES))
        return
    if args.fixed_cost:
        fixed_cost_table(args.repeat)
        return
    if args.formats:
        formats_table()
        return
    if args.scans:
        scans_table()
        return
    if args.real_scans:
        real_scans_table()
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
            r = _run_child(["--child", name, "--listing", str(listing)], columns=6)
            if r is None:
                continue
            workers = f" + worker {r['worker_mb']:.0f} MB" if r["worker_mb"] else ""
            print(
                f"| {name} | {r['pages']} | {r['seconds']:.2f} | {r['pages'] / r['seconds']:.1f}"
                f" | {r['files'] / r['seconds'] * 60:.0f} | {r['peak_mb']:.0f} MB{workers} |"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
