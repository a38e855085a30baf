"""Where files come from: local files and folders, http(s) URLs, and manifests listing either.

A URL is downloaded into a cache folder (by default ``downloads/`` beside the warehouse) and
stored in the warehouse under the URL itself. Downloads are retried (tenacity) on connection
errors, timeouts, 429 and 5xx answers, with exponential backoff and jitter, waiting at least what
a ``Retry-After`` header asks for (up to ``Download.max_wait``); they are size-capped and written
atomically (a temporary file renamed into place). A cached URL is asked for again with its ETag and
Last-Modified (a 304 answer downloads nothing); a server without either sends the bytes, and an
unchanged sha256 then keeps the cached copy. Whether a file needs reading at all is the
warehouse's decision: same name and same sha256 is never extracted again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from extractors import SUPPORTED_SUFFIXES

# our own files (the warehouse, its log, lock and working copy): never ingested, never reported
WAREHOUSE_SUFFIXES = frozenset({".duckdb", ".wal", ".lock", ".work"})
CONTENT_TYPES = {
    "application/pdf": ".pdf",
    "text/html": ".html",
    "text/plain": ".txt",
    "text/tab-separated-values": ".tsv",
    "text/csv": ".csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
}
YEAR_PART = re.compile(r"^((?:19|20)\d\d)(?:年度?)?$")


@dataclass(frozen=True)
class Item:
    """One file to ingest: where its bytes are, the name it is stored under, its archive year.

    ``error`` is set (and ``path`` is None) when the file could not be fetched.
    """

    path: Path | None
    source_file: str
    year: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Download:
    """How URLs are fetched: attempts, backoff, timeouts, size cap and the cache folder."""

    cache_dir: Path
    retries: int = 4
    backoff: float = 1.0  # seconds before the first retry, doubled for each further one, plus
    # up to as much again at random (so that many clients do not come back at once)
    max_wait: float = 300.0  # seconds: the longest wait between two attempts, Retry-After too
    timeout: float = 60.0  # seconds to connect, and between two reads of the body
    max_bytes: int = 200 * 1024 * 1024
    parallel: int = 4


class DownloadError(Exception):
    """A URL could not be fetched; the message says what to do."""


@dataclass(frozen=True)
class Fetched:
    """A URL's bytes in the cache: ``status`` is 'downloaded', 'not_modified' or 'unchanged'."""

    url: str
    path: Path
    status: str


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL."""
    return text.lower().startswith(("http://", "https://"))


def year_of(location: str) -> int | None:
    """The archive year of a file: its innermost folder named like 2019, 2019年 or 2019年度."""
    parts = urlsplit(location).path.split("/") if is_url(location) else Path(location).parts
    for part in reversed(parts[:-1]):
        if match := YEAR_PART.match(part):
            return int(match.group(1))
    return None


class ManifestEntry(str):
    """A manifest line naming a local path, with the folder it must stay inside."""

    root: Path

    def __new__(cls, entry: str, root: Path) -> ManifestEntry:
        made = super().__new__(cls, entry)
        made.root = root
        return made


def read_manifest(manifest: str | Path) -> list[str]:
    """Paths and URLs listed in a manifest, one a line; blank lines and ``#`` comments skipped.

    Relative paths are taken from the manifest's folder, and local paths must stay inside it:
    :func:`resolve` records one that leads elsewhere ('../', an absolute path, a link) as failed.
    """
    manifest = Path(manifest)
    if not manifest.is_file():
        raise FileNotFoundError(
            f"no such manifest: {manifest} (a text file with one path or URL per line)"
        )
    entries = []
    for line in manifest.read_text(encoding="utf-8-sig").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if not is_url(entry):
            if not Path(entry).is_absolute():
                entry = str(manifest.parent / entry)
            entry = ManifestEntry(entry, manifest.parent.resolve())
        entries.append(entry)
    return entries


def _outside(path: Path, root: Path) -> bool:
    """Whether ``path`` (links followed) lies outside the folder ``root``."""
    return not path.resolve().is_relative_to(root.resolve())


@dataclass
class Discovery:
    """Files found under the given paths, and the files among them or in them that are not of
    a supported type (``ignored``)."""

    files: list[Path]
    ignored: list[Path]
    links_out: list[Path] = field(default_factory=list)  # links leading out of a walked folder


def discover_files(paths: Iterable[str | Path]) -> Discovery:
    """Supported files among ``paths`` and, recursively, inside folders among them.

    Hidden files and folders are skipped while walking; warehouse files are always skipped, and
    not reported. Raises FileNotFoundError naming the first path that does not exist.
    """
    found: dict[Path, None] = {}
    ignored: list[Path] = []
    links_out: list[Path] = []
    for given in map(Path, paths):
        if not given.exists():
            raise FileNotFoundError(
                f"no such file or folder: {given} (check the spelling; relative paths are "
                f"taken from {Path.cwd()})"
            )
        if given.is_file():
            suffix = given.suffix.lower()
            if suffix in SUPPORTED_SUFFIXES:
                found[given.resolve()] = None
            elif suffix not in WAREHOUSE_SUFFIXES:
                ignored.append(given)
            continue
        for folder, subfolders, names in os.walk(given):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                path = Path(folder) / name
                suffix = path.suffix.lower()
                if name.startswith(".") or suffix in WAREHOUSE_SUFFIXES:
                    continue
                if suffix not in SUPPORTED_SUFFIXES:
                    ignored.append(path)
                    continue
                if _outside(path, given):
                    links_out.append(path)
                else:
                    found[path.resolve()] = None
    return Discovery(sorted(found), list(dict.fromkeys(ignored)), links_out)


def resolve(
    entries: Iterable[str],
    download: Download,
    log: Callable[[str], None] = lambda message: None,
    keep: Callable[[int | None], bool] = lambda year: True,
) -> tuple[list[Item], list[Path]]:
    """Items for local entries (files and folders) and URLs, and the named files ignored.

    Years come from :func:`year_of` on the absolute path or the URL; only files whose year
    ``keep`` accepts are kept (before anything is downloaded). URLs are fetched,
    ``download.parallel`` at a time; one that fails becomes an Item with its error.
    """
    entries = list(entries)
    urls = [entry for entry in entries if is_url(entry) and keep(year_of(entry))]
    escaping = [
        entry
        for entry in entries
        if isinstance(entry, ManifestEntry) and _outside(Path(entry), entry.root)
    ]
    local = [entry for entry in entries if not is_url(entry) and entry not in escaping]
    discovery = discover_files(local)
    items = {
        str(path): Item(path, str(path), year)
        for path in discovery.files
        if keep(year := year_of(str(path)))
    }
    for entry in escaping:
        items[str(entry)] = Item(
            None,
            str(entry),
            error=f"refused: the manifest lists a path outside its folder {entry.root}; "
            "copy the file into that folder (or list it by URL) to ingest it",
        )
    for link in discovery.links_out:
        items[str(link)] = Item(
            None,
            str(link),
            error=f"refused: a link leading outside the folder being ingested (to "
            f"{link.resolve()}); copy the file in instead of linking it",
        )
    with ThreadPoolExecutor(max_workers=max(1, download.parallel)) as threads:
        fetched = threads.map(lambda url: _fetch_item(url, download, log), dict.fromkeys(urls))
        for item in fetched:
            items.setdefault(item.source_file, item)
    return list(items.values()), discovery.ignored


def _fetch_item(url: str, download: Download, log: Callable[[str], None]) -> Item:
    try:
        result = fetch(url, download)
    except DownloadError as error:
        log(f"download failed: {url}: {error}")
        return Item(None, url, year_of(url), str(error))
    log(f"{result.status.replace('_', ' ')}: {url}")
    return Item(result.path, url, year_of(url))


def download_dir(db: Path) -> Path:
    """The cache folder of the URLs ingested into the warehouse ``db``: ``downloads/`` beside it."""
    return db.parent / "downloads"


def _cache_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


def cached_copy(url: str, cache_dir: Path) -> Path | None:
    """The copy of ``url`` last downloaded into ``cache_dir``, if there is one."""
    cache = Path(cache_dir)
    meta = _read_meta(cache / f"{_cache_key(url)}.json", cache)
    return cache / meta["file"] if meta else None


def fetch(url: str, download: Download) -> Fetched:
    """Bring ``url`` into the cache folder, asking the server only for what changed."""
    cache = Path(download.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    key = _cache_key(url)
    meta_path = cache / f"{key}.json"
    meta = _read_meta(meta_path, cache)
    headers = {}
    if meta:
        if meta.get("etag"):
            headers["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            headers["If-Modified-Since"] = meta["last_modified"]
    retrying = Retrying(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(download.retries + 1),
        wait=_backoff(download),
        reraise=True,
    )
    with httpx.Client(timeout=httpx.Timeout(download.timeout), follow_redirects=True) as client:
        try:
            return retrying(_attempt, client, url, headers, key, cache, meta, download)
        except _Transient as error:
            raise DownloadError(
                f"{error} (gave up after {download.retries + 1} attempts; check that "
                "the server is up and run again: nothing was written)"
            ) from None


class _Transient(Exception):
    """A failure worth another attempt; ``retry_after``: the seconds the server asked to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _backoff(download: Download) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, at least a Retry-After, at most ``download.max_wait``."""
    exponential = wait_exponential_jitter(multiplier=download.backoff, jitter=download.backoff)

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        asked = getattr(error, "retry_after", None) or 0.0
        return min(max(exponential(state), asked), download.max_wait)

    return wait


def _retry_after(value: str | None) -> float | None:
    """The seconds a ``Retry-After`` header asks for: a number of seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _read_meta(meta_path: Path, cache: Path) -> dict | None:
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    return meta if (cache / meta.get("file", "")).is_file() else None


def _attempt(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    key: str,
    cache: Path,
    meta: dict | None,
    download: Download,
) -> Fetched:
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304 and meta:
                return Fetched(url, cache / meta["file"], "not_modified")
            if response.status_code == 429 or response.status_code >= 500:
                raise _Transient(
                    f"the server answered {response.status_code}",
                    _retry_after(response.headers.get("retry-after")),
                )
            if response.status_code != 200:
                raise DownloadError(
                    f"the server answered {response.status_code} {response.reason_phrase}; "
                    "check the URL"
                )
            size = int(response.headers.get("content-length") or 0)
            if size > download.max_bytes:
                raise DownloadError(_too_large(size, download))
            suffix = _suffix(url, response.headers.get("content-type", ""))
            target = cache / f"{key}{suffix}"
            partial = cache / f".{key}.{os.getpid()}.part"
            digest = hashlib.sha256()
            received = 0
            try:
                with partial.open("wb") as handle:
                    for block in response.iter_bytes(1 << 16):
                        received += len(block)
                        if received > download.max_bytes:
                            raise DownloadError(_too_large(received, download))
                        digest.update(block)
                        handle.write(block)
                    handle.flush()
                    os.fsync(handle.fileno())
                sha256 = digest.hexdigest()
                if meta and meta.get("sha256") == sha256 and meta["file"] == target.name:
                    status = "unchanged"
                    partial.unlink()
                else:
                    status = "downloaded"
                    os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            new_meta = {
                "url": url,
                "file": target.name,
                "sha256": sha256,
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
            }
    except httpx.TransportError as error:
        raise _Transient(f"{type(error).__name__}: {error or 'no answer'}") from None
    _write_atomically(cache / f"{key}.json", json.dumps(new_meta).encode())
    return Fetched(url, target, status)


def _too_large(size: int, download: Download) -> str:
    return (
        f"the file is larger than the {download.max_bytes / 2**20:.3g} MiB cap "
        f"({size / 2**20:.1f} MiB or more); raise --max-download-mb to fetch it"
    )


def _suffix(url: str, content_type: str) -> str:
    suffix = Path(urlsplit(url).path).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return suffix
    by_type = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if by_type:
        return by_type
    raise DownloadError(
        f"cannot tell the file type: the URL has no supported suffix and the server says "
        f"Content-Type {content_type or '(none)'}; supported: {' '.join(sorted(SUPPORTED_SUFFIXES))}"
    )


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    with partial.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def collect(
    paths: list[str],
    manifest: str | None,
    download: Download,
    log: Callable[[str], None],
    keep: Callable[[int | None], bool] = lambda year: True,
) -> tuple[list[Item], list[str]]:
    """Items for ``paths`` (files, folders, URLs) and the manifest's lines; the ignored files.

    URLs are downloaded as ``download`` says; ``keep`` filters by year.
    """
    entries = list(paths)
    if manifest:
        entries += read_manifest(manifest)
    items, ignored = resolve(entries, download, log, keep)
    return items, [str(path) for path in ignored]
