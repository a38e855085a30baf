"""Sources: a loopback HTTP server (ETag, a 500 that recovers, a slow answer, a file that changes
between runs, one too large), manifests, archive years, and URLs landing in the warehouse."""

import shutil
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.app.review import page_image, unpictured
from flows.ingest import ingest
from flows.options import RunOptions
from flows.sources import Download, DownloadError, fetch, read_manifest, resolve, year_of
from warehouse import Warehouse

SEEDS = sorted((Path(__file__).parents[1] / "data" / "seeds").glob("*.txt"))
PDF = Path(__file__).parents[2] / "samples" / "pdf" / "self_eval_back_to_back.pdf"


class Site:
    """What the loopback server serves, and what it was asked."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {
            "/etag/back_to_back.pdf": PDF.read_bytes(),
            "/plain/seed.txt": SEEDS[1].read_bytes(),
            "/flaky/seed.txt": SEEDS[1].read_bytes(),
            "/busy/seed.txt": SEEDS[1].read_bytes(),
            "/slow/seed.txt": SEEDS[1].read_bytes(),
            "/changing/seed.txt": SEEDS[0].read_bytes(),
            "/typed/report": PDF.read_bytes(),
            "/big/file.pdf": b"%PDF-1.4\n" + b"0" * 300_000,
        }
        self.bodies_sent: dict[str, int] = {}
        self.failures_left = {"/flaky/seed.txt": 2, "/busy/seed.txt": 1}
        self.delay = {"/slow/seed.txt": 0.6}
        self.lock = threading.Lock()

    def etag(self, path: str) -> str:
        import hashlib

        return '"' + hashlib.sha1(self.files[path]).hexdigest() + '"'


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest's output clean
            pass

        def do_GET(self):
            path = self.path
            if path not in site.files:
                self.send_error(404)
                return
            time.sleep(site.delay.get(path, 0))
            with site.lock:
                if site.failures_left.get(path, 0) > 0:
                    site.failures_left[path] -= 1
                    if path.startswith("/busy/"):
                        self.send_response(429)
                        self.send_header("Retry-After", "1")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        self.send_error(500, "try later")
                    return
            body = site.files[path]
            validators = path.startswith(("/etag/", "/changing/"))
            if validators and self.headers.get("If-None-Match") == site.etag(path):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            if path.startswith("/typed/"):
                self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(body)))
            if validators:
                self.send_header("ETag", site.etag(path))
                self.send_header("Last-Modified", formatdate(usegmt=True))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up: as it may
                return
            with site.lock:
                site.bodies_sent[path] = site.bodies_sent.get(path, 0) + 1

    return Handler


@pytest.fixture
def server():
    """A loopback HTTP server on a free port, stopped when the test ends."""
    site = Site()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    site.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def settings(tmp_path, **kwargs) -> Download:
    return Download(cache_dir=tmp_path / "cache", backoff=0.01, timeout=5, **kwargs)


def test_etag_answers_304_and_nothing_is_downloaded_again(server, tmp_path):
    url = f"{server.base}/etag/back_to_back.pdf"
    first = fetch(url, settings(tmp_path))
    assert first.status == "downloaded" and first.path.suffix == ".pdf"
    assert first.path.read_bytes() == PDF.read_bytes()

    second = fetch(url, settings(tmp_path))

    assert second.status == "not_modified" and second.path == first.path
    assert server.bodies_sent[url.removeprefix(server.base)] == 1
    assert not list((tmp_path / "cache").glob("*.part"))


def test_without_validators_an_unchanged_sha256_keeps_the_cached_copy(server, tmp_path):
    url = f"{server.base}/plain/seed.txt"
    first = fetch(url, settings(tmp_path))
    mtime = first.path.stat().st_mtime_ns

    second = fetch(url, settings(tmp_path))

    assert (first.status, second.status) == ("downloaded", "unchanged")
    assert second.path.stat().st_mtime_ns == mtime


def test_a_500_is_retried_with_backoff_until_it_recovers(server, tmp_path):
    fetched = fetch(f"{server.base}/flaky/seed.txt", settings(tmp_path, retries=3))
    assert fetched.status == "downloaded"
    assert server.failures_left["/flaky/seed.txt"] == 0


def test_a_429_is_retried_after_the_wait_its_retry_after_asks_for(server, tmp_path):
    started = time.monotonic()
    fetched = fetch(f"{server.base}/busy/seed.txt", settings(tmp_path, retries=2))
    assert fetched.status == "downloaded"
    assert time.monotonic() - started >= 1.0  # the backoff alone would wait about 0.02 s


def test_a_500_that_does_not_recover_says_what_to_do(server, tmp_path):
    with pytest.raises(DownloadError, match=r"answered 500.*gave up after 2 attempts"):
        fetch(f"{server.base}/flaky/seed.txt", settings(tmp_path, retries=1))
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())


def test_a_slow_answer_within_the_timeout_arrives_and_one_beyond_it_is_retried(server, tmp_path):
    url = f"{server.base}/slow/seed.txt"
    assert fetch(url, settings(tmp_path)).status == "downloaded"

    quick = Download(cache_dir=tmp_path / "quick", retries=1, backoff=0.01, timeout=0.2)
    with pytest.raises(DownloadError, match=r"Timeout.*gave up after 2 attempts"):
        fetch(url, quick)


def test_downloads_are_size_capped(server, tmp_path):
    with pytest.raises(DownloadError, match=r"larger than the 0.1 MiB cap.*--max-download-mb"):
        fetch(f"{server.base}/big/file.pdf", settings(tmp_path, max_bytes=int(0.1 * 2**20)))
    assert not list((tmp_path / "cache").glob("*.pdf"))


def test_the_type_comes_from_content_type_when_the_url_has_no_suffix(server, tmp_path):
    assert fetch(f"{server.base}/typed/report", settings(tmp_path)).path.suffix == ".pdf"


def test_manifest_lines_comments_and_relative_paths(tmp_path):
    (tmp_path / "2021").mkdir()
    manifest = tmp_path / "list.txt"
    manifest.write_text(
        "# the archive\n\n2021/a.pdf\n  https://example.org/2020/b.pdf  \n/abs/c.pdf\n"
    )
    assert read_manifest(manifest) == [
        str(tmp_path / "2021" / "a.pdf"),
        "https://example.org/2020/b.pdf",
        "/abs/c.pdf",
    ]
    with pytest.raises(FileNotFoundError, match="no such manifest"):
        read_manifest(tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("location", "year"),
    [
        ("/archive/2019/dept/a.pdf", 2019),
        ("/archive/2019/2021年/a.pdf", 2021),
        ("/archive/2020年度/a.pdf", 2020),
        ("/archive/2019.pdf", None),
        ("/archive/x2019/a.pdf", None),
        ("http://h/files/2018/a.pdf", 2018),
    ],
)
def test_year_of_is_the_innermost_year_folder(location, year):
    assert year_of(location) == year


def test_resolve_keeps_the_years_asked_before_downloading(server, tmp_path):
    for year in ("2020", "2021"):
        (tmp_path / "arch" / year).mkdir(parents=True)
        shutil.copyfile(SEEDS[0], tmp_path / "arch" / year / "a.txt")
    entries = [str(tmp_path / "arch"), f"{server.base}/etag/back_to_back.pdf"]

    items, ignored = resolve(entries, settings(tmp_path), keep=lambda year: year == 2021)

    assert [(item.year, Path(item.source_file).name) for item in items] == [(2021, "a.txt")]
    assert ignored == [] and server.bodies_sent == {}


@pytest.mark.usefixtures("prefect_harness")
def test_manifest_of_urls_lands_under_the_url_and_a_changed_file_replaces_its_forms(
    server, tmp_path
):
    db = tmp_path / "w.duckdb"
    changing = f"{server.base}/changing/seed.txt"
    urls = [f"{server.base}/etag/back_to_back.pdf", f"{server.base}/plain/seed.txt", changing]
    missing = f"{server.base}/gone.pdf"
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("\n".join([*urls, missing]) + "\n")

    first = ingest(paths=[], manifest=str(manifest), options=RunOptions(db=str(db)))

    assert (first.files_seen, first.files_new, first.files_failed) == (4, 3, 1)
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        stored = dict(con.execute("SELECT source_file, status FROM source_files").fetchall())
        assert stored.pop(missing) == "failed"
        assert set(stored) == set(urls) and set(stored.values()) <= {"loaded", "partial"}
        by_file = dict(
            con.execute(
                "SELECT source_file, count(*) FROM (SELECT source_file FROM forms "
                "UNION ALL SELECT source_file FROM quarantine) GROUP BY ALL"
            ).fetchall()
        )
        old_ids = {
            row[0]
            for row in con.execute(
                "SELECT form_id FROM forms WHERE source_file = ?", [changing]
            ).fetchall()
        }
    assert by_file[f"{server.base}/etag/back_to_back.pdf"] == 2
    with Warehouse.open(db, read_only=True) as warehouse:  # reviewed from its downloaded copy
        form_id, page = warehouse.connection.execute(
            "SELECT form_id, first_page FROM forms WHERE source_file = ? ORDER BY form_ordinal",
            [urls[0]],
        ).fetchone()
        assert unpictured(warehouse, form_id) is None
        assert page_image(warehouse, form_id, page).width > 100
    assert by_file[changing] == 3
    failure = next(outcome for outcome in first.files if outcome.path == missing)
    assert "404" in failure.message and "check the URL" in failure.message

    server.files["/changing/seed.txt"] = SEEDS[1].read_bytes() + b"\n"  # unlike /plain/'s
    second = ingest(paths=[], manifest=str(manifest), options=RunOptions(db=str(db)))

    assert (second.files_seen, second.files_new, second.files_skipped) == (4, 1, 2)
    assert server.bodies_sent["/etag/back_to_back.pdf"] == 1  # answered 304 the second time
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        new_ids = {
            row[0]
            for row in con.execute(
                "SELECT form_id FROM forms WHERE source_file = ? "
                "UNION ALL SELECT form_id FROM quarantine WHERE source_file = ?",
                [changing, changing],
            ).fetchall()
        }
        assert len(new_ids) == 1 and not new_ids & old_ids
        assert con.execute("SELECT count(*) FROM ingest_runs").fetchone() == (2,)


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_that_cannot_be_pulled_is_a_failed_row_and_never_replaces_a_stored_one(
    server, tmp_path
):
    db = tmp_path / "w.duckdb"
    plain, missing = f"{server.base}/plain/seed.txt", f"{server.base}/gone.pdf"
    manifest = tmp_path / "manifest.txt"
    manifest.write_text(f"{plain}\n{missing}\n")

    ingest(paths=[], manifest=str(manifest), options=RunOptions(db=str(db)))

    def source_rows():
        with Warehouse.open(db, read_only=True) as warehouse:
            return {
                row[0]: row[1:]
                for row in warehouse.connection.execute(
                    "SELECT source_file, status, source_sha256, bytes, error FROM source_files"
                ).fetchall()
            }

    rows = source_rows()
    status, sha256, size, error = rows[missing]
    assert (status, sha256, size) == ("failed", None, None)
    assert "404" in error and "check the URL" in error
    assert rows[plain][0] in ("loaded", "partial")

    del server.files["/plain/seed.txt"]  # stored last time, gone now
    server.files["/gone.pdf"] = PDF.read_bytes()  # served at last
    second = ingest(paths=[], manifest=str(manifest), options=RunOptions(db=str(db)))

    rows_after = source_rows()
    assert rows_after[plain] == rows[plain]  # the version ingested before is kept
    kept = next(outcome for outcome in second.files if outcome.path == plain)
    assert kept.status == "failed" and "the version ingested before is kept" in kept.message
    assert rows_after[missing][0] in ("loaded", "partial") and rows_after[missing][1]
    with Warehouse.open(db, read_only=True) as warehouse:
        (forms,) = warehouse.connection.execute(
            "SELECT count(*) FROM forms WHERE source_file = ?", [plain]
        ).fetchone()
    assert forms > 0
