"""Backfill over an archive of year folders: every form lands, a rerun reads nothing, an
interrupted run resumes without reading anything twice, timeouts, and the Dask path."""

import shutil
import uuid
from pathlib import Path

import pytest

from expectations import validate
from flows.backfill import backfill, per_year, year_table
from flows.engine import largest_first
from flows.extraction.extract import extract_path
from flows.extraction.pool import ExtractionPool, ExtractionTimeout, reading_threads
from flows.ingest import ingest
from flows.options import RunOptions
from warehouse import Warehouse

ROOT = Path(__file__).parents[2]
ORIGINALS = [
    *sorted((ROOT / "tests" / "data" / "seeds").glob("*.txt")),
    ROOT / "samples" / "pdf" / "self_eval_three_forms.pdf",
    ROOT / "samples" / "pdf" / "budget_summary_no_forms.pdf",
    ROOT / "tests" / "data" / "rendered" / "html" / "self_eval_arithmetic_faults.html",
]
YEARS = (2021, 2022, 2023)
DATA_VIEWS = ["forms", "fund_lines", "indicators", "check_results", "quarantine", "source_files"]

pytestmark = pytest.mark.usefixtures("prefect_harness")


def build_archive(root: Path, years=YEARS, originals=ORIGINALS) -> list[Path]:
    """Year folders of copies, each made unique (here and across runs: no cached extraction) by
    a trailing comment in its format."""
    salt = uuid.uuid4().hex
    files = []
    for year in years:
        folder = root / (str(year) if year % 2 else f"{year}年")
        folder.mkdir(parents=True)
        for original in originals:
            copy = folder / original.name
            shutil.copyfile(original, copy)
            mark = {".pdf": f"\n% {year} {salt}\n", ".html": f"<!-- {year} {salt} -->"}.get(
                original.suffix, f"\n# {year} {salt}\n"
            )
            with copy.open("a", encoding="utf-8") as handle:
                handle.write(mark)
            files.append(copy)
    return files


@pytest.fixture(scope="module")
def forms_per_original() -> dict[str, int]:
    return {path.name: len(extract_path(str(path)).forms) for path in ORIGINALS}


def query(db: Path, sql: str, parameters=()) -> list[tuple]:
    with Warehouse.open(db, read_only=True) as warehouse:
        return warehouse.connection.execute(sql, list(parameters)).fetchall()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    return {view: query(db, f"SELECT * FROM {view} ORDER BY ALL") for view in DATA_VIEWS}


def held_forms(db: Path) -> int:
    return query(db, "SELECT (SELECT count(*) FROM forms) + (SELECT count(*) FROM quarantine)")[0][
        0
    ]


def test_backfill_lands_every_form_and_a_rerun_changes_nothing(tmp_path, forms_per_original):
    files = build_archive(tmp_path / "archive")
    (tmp_path / "archive" / "loose.txt").write_bytes(ORIGINALS[0].read_bytes() + b"\n# loose\n")
    db = tmp_path / "w.duckdb"
    expected = sum(forms_per_original[path.name] for path in files)

    first = backfill(
        source=str(tmp_path / "archive"),
        from_year=2021,
        options=RunOptions(db=str(db), workers=2, chunk_files=4),
    )

    assert (first.files_seen, first.files_new, first.files_failed) == (len(files), len(files), 0)
    assert held_forms(db) == expected == first.forms_landed + first.forms_quarantined
    lines = per_year(first)
    assert [line.year for line in lines] == list(YEARS)
    assert all(line.files == len(ORIGINALS) and line.read == len(ORIGINALS) for line in lines)
    assert "2022" in year_table(first).splitlines()[2]
    before = snapshot(db)

    second = backfill(
        source=str(tmp_path / "archive"), from_year=2021, options=RunOptions(db=str(db), workers=2)
    )

    assert (second.files_seen, second.files_new, second.files_skipped) == (
        len(files),
        0,
        len(files),
    )
    assert snapshot(db) == before
    assert query(db, "SELECT flow, files_new, status FROM ingest_runs ORDER BY started_at") == [
        ("backfill", len(files), "completed"),
        ("backfill", 0, "completed"),
    ]

    everything = backfill(
        source=str(tmp_path / "archive"), options=RunOptions(db=str(db), workers=1)
    )
    assert (everything.files_seen, everything.files_new) == (len(files) + 1, 1)
    assert per_year(everything)[-1].year is None


def test_from_and_to_select_year_folders(tmp_path):
    build_archive(tmp_path / "archive")
    db = tmp_path / "w.duckdb"

    summary = backfill(
        source=str(tmp_path / "archive"),
        from_year=2022,
        to_year=2022,
        options=RunOptions(db=str(db), workers=1),
    )

    assert [line.year for line in per_year(summary)] == [2022]
    assert summary.files_seen == len(ORIGINALS)
    assert all("/2022年/" in path for (path,) in query(db, "SELECT source_file FROM source_files"))


class Interrupted(BaseException):
    """Stands in for Ctrl-C or a stop signal arriving mid-run."""


def test_an_interrupted_backfill_resumes_without_reading_anything_twice(
    tmp_path, monkeypatch, forms_per_original
):
    files = build_archive(tmp_path / "archive")
    manifest = tmp_path / "archive.txt"
    manifest.write_text("\n".join(str(path.relative_to(tmp_path)) for path in files) + "\n")
    db = tmp_path / "w.duckdb"
    load_files = Warehouse.load_files
    loads = []

    def interrupt_on_the_third_chunk(self, batch, run_id, reread=None):
        if len(loads) == 8:
            raise Interrupted()
        loads.extend(load.source.source_file for load in batch)
        return load_files(self, batch, run_id, reread)

    monkeypatch.setattr(Warehouse, "load_files", interrupt_on_the_third_chunk)
    with pytest.raises(Interrupted):
        backfill(source=str(manifest), options=RunOptions(db=str(db), workers=2, chunk_files=4))
    monkeypatch.setattr(Warehouse, "load_files", load_files)
    assert not db.exists() and len(loads) == 8  # the warehouse is as it was: there was none

    resumed = backfill(
        source=str(manifest), options=RunOptions(db=str(db), workers=2, chunk_files=4)
    )

    assert resumed.files_new == len(files) - len(loads)
    assert resumed.files_skipped == len(loads)
    crashed, _ = query(db, "SELECT run_id, status FROM ingest_runs ORDER BY started_at")
    assert crashed[1] == "crashed"
    stored = dict(query(db, "SELECT source_file, run_id FROM source_files"))
    # the files loaded before the interruption: kept in the working copy the rerun resumed,
    # loaded once, by the interrupted run
    assert {path for path, run in stored.items() if run == crashed[0]} == set(loads)
    assert held_forms(db) == sum(forms_per_original[path.name] for path in files)
    assert [row[0] for row in query(db, "SELECT status FROM ingest_runs ORDER BY started_at")] == [
        "crashed",
        "completed",
    ]


def test_the_pool_stops_a_file_that_takes_too_long_and_goes_on():
    slow = str(ROOT / "samples" / "pdf" / "self_eval_multipage_repeated_header.pdf")
    with ExtractionPool(1, timeout=0.001) as pool:
        with pytest.raises(ExtractionTimeout, match=r"longer than 0.001 s.*--timeout"):
            pool.submit(slow).result()
        pool.timeout = 300
        assert len(pool.submit(slow).result().forms) == 1  # a fresh worker took over


def test_the_pool_checks_forms_in_one_call_and_a_timeout_fails_only_its_file():
    seed, three = ORIGINALS[0], ROOT / "samples" / "pdf" / "self_eval_three_forms.pdf"
    with ExtractionPool(1) as pool:
        extractions = [pool.submit(str(seed), "a" * 64), pool.submit(str(three), "b" * 64)]
        forms = [form for future in extractions for form in future.result().forms]
        checks = pool.submit_checks(forms).result()
        pool.timeout = 0.001
        stopped = pool.submit(str(three), "b" * 64)
        with pytest.raises(ExtractionTimeout, match="longer than 0.001 s"):
            stopped.result()
        assert pool.submit_checks(forms).result().results == checks.results  # a fresh worker

    assert [form.form_id for form in forms] == [f"{'a' * 16}-{n}" for n in (1, 2, 3)] + [
        f"{'b' * 16}-{n}" for n in (1, 2, 3)
    ]
    expected = {}
    for result in validate(forms):
        expected.setdefault(result.form_id, []).append(result)
    assert checks.results == expected


def test_the_largest_file_is_read_first_and_a_long_file_holds_up_one_worker_only():
    real = ROOT / "tests" / "data" / "real" / "forms"
    long_package = real / "renwu_020_西安_卫生健康委员会_2022年度部门决算_p1-99.pdf"
    files = {path.name: (str(path), "c" * 64) for path in [*ORIGINALS, long_package]}

    order = largest_first(files)

    assert order[0] == long_package.name
    assert sorted(order) == sorted(files)
    done: list[str] = []
    with ExtractionPool(2) as pool:
        futures = {name: pool.submit(*files[name]) for name in order}
        for name, future in futures.items():
            future.add_done_callback(lambda _, name=name: done.append(name))
        assert all(future.result().error is None for future in futures.values())
    assert done[-1] == long_package.name  # the other worker read every small file meanwhile


def test_a_run_reads_on_as_many_cores_as_workers_unless_each_file_has_a_worker(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)

    assert reading_threads(workers=1, files=78) == reading_threads(workers=2, files=78) == 1
    assert reading_threads(workers=7, files=8) == 1
    assert reading_threads(workers=1, files=1) == reading_threads(workers=2, files=1) == 8
    assert reading_threads(workers=4, files=3) == 2


def test_a_timed_out_file_is_failed_and_read_again_with_retry_failed(tmp_path):
    pdf = tmp_path / "inbox" / "2022" / "long.pdf"
    pdf.parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "samples" / "pdf" / "self_eval_three_forms.pdf", pdf)
    with pdf.open("ab") as handle:  # content never read before: no cached extraction
        handle.write(f"\n% {uuid.uuid4()}\n".encode())
    db = tmp_path / "w.duckdb"

    first = ingest(paths=[str(tmp_path / "inbox")], options=RunOptions(db=str(db), timeout=0.001))

    assert first.files_failed == 1
    ((status, error),) = query(db, "SELECT status, error FROM source_files")
    assert status == "failed" and "split the file" in error and "--timeout" in error
    assert ingest(paths=[str(tmp_path / "inbox")], options=RunOptions(db=str(db))).files_new == 0

    again = ingest(
        paths=[str(tmp_path / "inbox")], options=RunOptions(db=str(db), retry_failed=True)
    )

    assert (again.files_new, again.files_failed, again.forms_landed + again.forms_quarantined) == (
        1,
        0,
        3,
    )


@pytest.mark.parametrize("daemon", [False, True], ids=["reader-processes", "daemonic-workers"])
def test_backfill_on_a_local_dask_cluster(tmp_path, forms_per_original, daemon):
    import dask
    from distributed import LocalCluster

    files = build_archive(tmp_path / "archive", years=(2020, 2021), originals=ORIGINALS[:4])
    db = tmp_path / "w.duckdb"
    with (
        dask.config.set({"distributed.worker.daemon": daemon}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
    ):
        summary = backfill(
            source=str(tmp_path / "archive"),
            options=RunOptions(db=str(db), task_runner="dask", address=cluster.scheduler_address),
        )

    assert (summary.files_new, summary.files_failed) == (len(files), 0)
    assert held_forms(db) == sum(forms_per_original[path.name] for path in files)
    statuses = {status for (status,) in query(db, "SELECT status FROM source_files")}
    assert statuses <= {"loaded", "no_forms", "partial"}
