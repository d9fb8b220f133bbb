"""Inventory of the annual-report folder: which files there are, which firm-year each belongs to, which shard
it goes to, and a fingerprint per shard.

The Snakefile imports this module while it builds the DAG, so it uses the standard library only (no pandas,
numpy or ahocorasick; importing it costs a few milliseconds) and it never opens a report, it only stats them.

Why the sharding is by firm-year hash and not by position in a sorted listing: with round-robin over sorted
names, adding one report shifts every later file to another shard and all shards rerun. A stable hash of
``f"{Stkcd}_{year}"`` puts a report in the same shard whatever else is in the folder, and every file of one
firm-year (a .txt and a .pdf, versions in subfolders) in one shard, so duplicates are resolved inside one job.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

DEFAULT_PATTERN = r"^(?P<Stkcd>\d{6})_(?P<year>\d{4})\.(?P<ext>txt|pdf)$"


@dataclass(frozen=True)
class ReportFile:
    """One file under the report folder, with the firm-year parsed from its name (None if the name does not
    match the pattern: such files are kept so that they can be logged)."""

    path: str  # the path as found (folder joined with relpath; symlinks not resolved)
    relpath: str  # relative to the report folder, "/"-separated on every platform
    Stkcd: str | None
    year: int | None
    ext: str  # lower case, without the dot ("txt", "pdf"; "" for a name without extension)
    size: int  # bytes of the file (of a symlink's target); -1 for a dangling symlink
    mtime_ns: int  # of the file (of a symlink's target; of the link itself when it dangles)

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @property
    def key(self) -> tuple[str, int] | None:
        """(Stkcd, year), or None for an unmatched name."""
        return (self.Stkcd, self.year) if self.Stkcd is not None and self.year is not None else None


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    rx = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
    missing = {"Stkcd", "year"} - set(rx.groupindex)
    if missing:
        raise ValueError(f"report name pattern {rx.pattern!r} lacks the named group(s) {sorted(missing)}; "
                         "it needs (?P<Stkcd>...) and (?P<year>...)")
    return rx


def report_file(path: str | os.PathLike, relpath: str | None = None,
                pattern: str | re.Pattern[str] = DEFAULT_PATTERN) -> ReportFile:
    """A :class:`ReportFile` for one path (``relpath`` defaults to the file name)."""
    return _report_file(os.fspath(path), relpath if relpath is not None else os.path.basename(path),
                        _compile(pattern))


def _report_file(path: str, relpath: str, rx: re.Pattern[str]) -> ReportFile:
    name = relpath.rsplit("/", 1)[-1]
    m = rx.match(name)
    try:
        st = os.stat(path)
        size, mtime = st.st_size, st.st_mtime_ns
    except FileNotFoundError:  # dangling symlink (or removed since it was listed)
        size, mtime = -1, os.lstat(path).st_mtime_ns if os.path.lexists(path) else 0
    if m is not None and "ext" in rx.groupindex and m["ext"] is not None:
        ext = m["ext"].lower()
    else:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""
    if m is None:
        return ReportFile(path, relpath, None, None, ext, size, mtime)
    return ReportFile(path, relpath, m["Stkcd"], int(m["year"]), ext, size, mtime)


def list_reports(folder: str | os.PathLike, pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
                 include_hidden: bool = False) -> list[ReportFile]:
    """Every file under ``folder`` (recursive), sorted by relpath, with the firm-year parsed from the file name.

    Names that do not match ``pattern`` are returned with ``Stkcd=None`` (to be logged, never dropped);
    dangling symlinks are returned with ``size=-1``. Symlinks to folders are not followed (no cycles); they are
    returned as entries, which the extraction logs as unreadable. Names starting with "." (files and folders)
    are skipped unless ``include_hidden``: atomic writers keep their temporaries there (``.<name>.tmp``), and a
    listing taken mid-write must not depend on them.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"report folder not found: {root} (put <Stkcd>_<year>.txt|pdf files there, "
                                "or set paths.raw_dir / data.reports in the config)")
    rx = _compile(pattern)
    out: list[ReportFile] = []
    stack = [("", root)]
    while stack:
        prefix, d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if not include_hidden and e.name.startswith("."):
                    continue
                rel = prefix + e.name
                if e.is_dir(follow_symlinks=False):
                    stack.append((rel + "/", e.path))
                else:
                    out.append(_report_file(e.path, rel, rx))
    out.sort(key=lambda f: f.relpath)
    return out


def _bucket(key: str, n_shards: int) -> int:
    h = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "big") % n_shards


def _check_n(n_shards: int) -> None:
    if not isinstance(n_shards, int) or isinstance(n_shards, bool) or n_shards < 1:
        raise ValueError(f"n_shards must be an integer >= 1, got {n_shards!r} (config key text.shards)")


def shard_of(Stkcd: str, year: int, n_shards: int) -> int:
    """Shard of a firm-year: blake2b (8 bytes, big-endian) of ``f"{Stkcd}_{year}"`` modulo ``n_shards``.

    Stable across processes, Python versions and platforms (unlike ``hash()``, which is salted per process).
    """
    _check_n(n_shards)
    return _bucket(f"{Stkcd}_{int(year)}", n_shards)


def shard_of_file(f: ReportFile, n_shards: int) -> int:
    """Shard of a file: by its firm-year, or for an unmatched name by a stable hash of its relpath."""
    if f.key is not None:
        return shard_of(f.Stkcd, f.year, n_shards)  # type: ignore[arg-type]
    _check_n(n_shards)
    return _bucket("unmatched:" + f.relpath, n_shards)


def shard_inventory(folder: str | os.PathLike, n_shards: int,
                    pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
                    missing_ok: bool = False) -> dict[int, list[ReportFile]]:
    """``{shard: files}`` for shards 0..n_shards-1 (every shard present, maybe empty), files sorted by relpath.

    ``missing_ok``: a missing folder gives empty shards instead of FileNotFoundError (at DAG-build time the
    folder may not exist yet because a rule of the same run writes it)."""
    _check_n(n_shards)
    shards: dict[int, list[ReportFile]] = {i: [] for i in range(n_shards)}
    if missing_ok and not os.path.isdir(folder):
        return shards
    for f in list_reports(folder, pattern):
        shards[shard_of_file(f, n_shards)].append(f)
    return shards


def fingerprint(files: list[ReportFile]) -> str:
    """16 hex digits of blake2b over the sorted (relpath, size, mtime_ns) of ``files``.

    Any added, removed, renamed, resized or re-timestamped file changes it, whichever way the mtime moves (a
    report replaced by an older copy has a different mtime_ns, so it changes too; Snakemake's own mtime check
    would miss that). Content is not read: a replacement with the same size AND the same mtime_ns to the
    nanosecond is not detected.
    """
    h = hashlib.blake2b(digest_size=8)
    for f in sorted(files, key=lambda f: f.relpath):
        h.update(f"{f.relpath}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def shard_fingerprints(folder: str | os.PathLike, n_shards: int,
                       pattern: str | re.Pattern[str] = DEFAULT_PATTERN,
                       missing_ok: bool = False) -> dict[int, str]:
    """``{shard: fingerprint}`` from one listing of the folder (what the Snakefile puts into params)."""
    return {i: fingerprint(fs) for i, fs in shard_inventory(folder, n_shards, pattern, missing_ok).items()}
