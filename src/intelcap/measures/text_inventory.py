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
# cninfo downloads (巨潮资讯网), as saved by the site and the usual download scripts: <code>_<简称>_<title>.<ext>,
# the title being the announcement's: "2015年年度报告", "2015年度报告", "2015年年报", then an optional qualifier
# ("摘要", "（英文版）", "（更正后）", "（修订版）", "（更新后）", "（已取消）", "全文", ...). The short name may be absent
# or carry a "简称：" prefix inside the title. 半年度报告 and 季度报告 do not match (年度报告 must follow the year
# directly), nor do notices about a report ("关于2015年年度报告的更正公告": the title must start with the year).
CNINFO_PATTERN = (
    r"^(?P<Stkcd>\d{6})[_\s]*(?:[^_]+?[_\s]+)??(?:[^_：:]+[：:]\s*)?(?P<year>(?:19|20)\d{2})\s*年?\s*"
    r"(?:年度报告|年报)(?P<qualifier>[^.]*?)\.(?P<ext>txt|pdf)$"
)
PATTERNS = {"default": DEFAULT_PATTERN, "cninfo": CNINFO_PATTERN}
EXTENSIONS = ("txt", "pdf")
# Qualifier words of a file name (the text of the optional groups qualifier, kind, lang and revision), each with
# the attribute it sets. Matched after removing brackets, spaces and _-.; anything left over makes the name
# unmatched (logged bad_name with the leftover), so an unknown version is never counted by mistake.
QUALIFIERS: dict[str, tuple[str, str]] = {
    "全文": ("kind", "full"),
    "正文": ("kind", "full"),
    "报告全文": ("kind", "full"),
    "full": ("kind", "full"),
    "摘要": ("kind", "summary"),
    "summary": ("kind", "summary"),
    "abstract": ("kind", "summary"),
    "英文版": ("lang", "en"),
    "英文": ("lang", "en"),
    "english": ("lang", "en"),
    "englishversion": ("lang", "en"),
    "en": ("lang", "en"),
    "中文版": ("lang", "zh"),
    "中文": ("lang", "zh"),
    "zh": ("lang", "zh"),
    "更正后": ("revision", "revised"),
    "更正版": ("revision", "revised"),
    "修订版": ("revision", "revised"),
    "修订稿": ("revision", "revised"),
    "修订后": ("revision", "revised"),
    "修正版": ("revision", "revised"),
    "修正后": ("revision", "revised"),
    "更新后": ("revision", "revised"),
    "更新版": ("revision", "revised"),
    "revised": ("revision", "revised"),
    "已取消": ("revision", "cancelled"),
    "取消": ("revision", "cancelled"),
    "cancelled": ("revision", "cancelled"),
    "canceled": ("revision", "cancelled"),
}
_QUALIFIER_GROUPS = ("qualifier", "kind", "lang", "revision")
_QUALIFIER_NOISE = re.compile(r"[\s()（）\[\]【】〔〕<>《》_\-—.,，、·]+")
_QUALIFIER_WORDS = sorted(QUALIFIERS, key=len, reverse=True)  # longest first: 报告全文 before 全文


def resolve_pattern(pattern: str | re.Pattern[str] | None) -> str | re.Pattern[str]:
    """A preset name (``default``, ``cninfo``) or None as its regex; anything else is returned unchanged."""
    if pattern is None:
        return DEFAULT_PATTERN
    if isinstance(pattern, str) and pattern in PATTERNS:
        return PATTERNS[pattern]
    return pattern


def parse_qualifier(text: str) -> dict[str, str] | str:
    """``{"kind": "full"|"summary", "lang": "zh"|"en", "revision": "original"|"revised"|"cancelled"}`` from the
    qualifier words of a file name, or the leftover text (a str) when some of it is not in QUALIFIERS."""
    out = {"kind": "full", "lang": "zh", "revision": "original"}
    rest = _QUALIFIER_NOISE.sub("", text).lower()
    while rest:
        for w in _QUALIFIER_WORDS:
            if rest.startswith(w):
                attr, value = QUALIFIERS[w]
                out[attr] = value
                rest = rest[len(w) :]
                break
        else:
            return rest
    return out


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
    # "file", "dir" (a real folder whose name matches the pattern; its files are listed too), "link_dir" (a
    # symlink to a folder, not followed), "dangling" (a symlink to nothing), "hidden" (name starts with ".")
    entry: str = "file"
    kind: str = "full"  # "full" or "summary" (摘要)
    lang: str = "zh"  # "zh" or "en" (英文版)
    revision: str = "original"  # "original", "revised" (更正后/修订版/更新后) or "cancelled" (已取消)
    problem: str = ""  # why the name is unmatched (Stkcd None): the log reason

    @property
    def candidate(self) -> bool:
        """A version of its firm-year's report: a matched name on a regular, non-empty file. Folders, dangling
        links and 0-byte files are logged but never compete with a real file (decided from the listing)."""
        return self.key is not None and self.entry == "file" and self.size > 0

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @property
    def key(self) -> tuple[str, int] | None:
        """(Stkcd, year), or None for an unmatched name."""
        return (self.Stkcd, self.year) if self.Stkcd is not None and self.year is not None else None


def _compile(pattern: str | re.Pattern[str] | None) -> re.Pattern[str]:
    pattern = resolve_pattern(pattern)
    try:
        rx = re.compile(pattern, re.IGNORECASE) if isinstance(pattern, str) else pattern
    except re.error as e:
        raise ValueError(
            f"report name pattern {pattern!r} is not a valid regular expression ({e}); set "
            f"text.name_pattern to one of {sorted(PATTERNS)} or a regex"
        ) from e
    missing = {"Stkcd", "year"} - set(rx.groupindex)
    if missing:
        raise ValueError(
            f"report name pattern {rx.pattern!r} lacks the named group(s) {sorted(missing)}; "
            "it needs (?P<Stkcd>...) and (?P<year>...); set text.name_pattern to one of "
            f"{sorted(PATTERNS)} or such a regex"
        )
    return rx


def report_file(
    path: str | os.PathLike,
    relpath: str | None = None,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
) -> ReportFile:
    """A :class:`ReportFile` for one path (``relpath`` defaults to the file name)."""
    return _report_file(
        os.fspath(path), relpath if relpath is not None else os.path.basename(path), _compile(pattern)
    )


def _report_file(path: str, relpath: str, rx: re.Pattern[str], entry: str | None = None) -> ReportFile:
    name = relpath.rsplit("/", 1)[-1]
    m = rx.match(name)
    try:
        st = os.stat(path)
        size, mtime = st.st_size, st.st_mtime_ns
        if entry is None:
            entry = ("link_dir" if os.path.islink(path) else "dir") if os.path.isdir(path) else "file"
    except FileNotFoundError:  # dangling symlink (or removed since it was listed)
        size, mtime = -1, os.lstat(path).st_mtime_ns if os.path.lexists(path) else 0
        entry = entry or "dangling"
    if entry == "dir":
        size, mtime = 0, 0  # a folder's mtime moves with its files, which have their own rows
    if m is not None and "ext" in rx.groupindex and m["ext"] is not None:
        ext = m["ext"].lower()
    else:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name.lstrip(".") else ""

    def unparsed(problem: str) -> ReportFile:
        return ReportFile(path, relpath, None, None, ext, size, mtime, entry, problem=problem)

    if m is None:
        return unparsed(f"file name does not match the report name pattern ({_pattern_name(rx)})")
    words = " ".join(m[g] for g in _QUALIFIER_GROUPS if g in rx.groupindex and m[g])
    q = parse_qualifier(words)
    if isinstance(q, str):
        return unparsed(
            f"file name matches the report name pattern ({_pattern_name(rx)}) but its "
            f"qualifier {words!r} is not a known version (unrecognised: {q!r}); rename it "
            "or extend text.name_pattern",
        )
    return ReportFile(
        path,
        relpath,
        m["Stkcd"],
        int(m["year"]),
        ext,
        size,
        mtime,
        entry,
        q["kind"],
        q["lang"],
        q["revision"],
    )


def _pattern_name(rx: re.Pattern[str]) -> str:
    for name, p in PATTERNS.items():
        if rx.pattern == p:
            return f"text.name_pattern: {name}"
    return f"text.name_pattern: {rx.pattern!r}"


def list_reports(
    folder: str | os.PathLike,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
    include_hidden: bool = True,
) -> list[ReportFile]:
    """Every entry under ``folder`` (recursive), sorted by relpath, with the firm-year parsed from the file name.

    Every file gets an entry, so that every file has a log row: names that do not match ``pattern`` (a regex
    or a preset name of PATTERNS) come with ``Stkcd=None`` and the reason in ``problem``; dangling symlinks
    with ``entry="dangling"`` and ``size=-1``; symlinks to folders are not followed (no cycles) and come as
    ``entry="link_dir"``; a real folder whose name matches the pattern is walked AND listed as ``entry="dir"``
    (a folder named like a report is a mistake worth a row). Hidden names ("." first: macOS ``._`` files,
    editor and atomic-write temporaries ``.<name>.tmp``) are listed as ``entry="hidden"`` without being
    walked or parsed, unless ``include_hidden=False`` drops them; :func:`fingerprint` ignores them either way.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise FileNotFoundError(
            f"report folder not found: {root} (put <Stkcd>_<year>.txt|pdf files there, "
            "or set paths.raw_dir / data.reports in the config)"
        )
    rx = _compile(pattern)
    out: list[ReportFile] = []
    stack = [("", root)]
    while stack:
        prefix, d = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                rel = prefix + e.name
                if e.name.startswith("."):
                    if include_hidden:
                        out.append(
                            ReportFile(
                                e.path,
                                rel,
                                None,
                                None,
                                "",
                                0,
                                0,
                                "hidden",
                                problem="hidden file or folder (name starts with '.'), not read",
                            )
                        )
                    continue
                if e.is_dir(follow_symlinks=False):
                    stack.append((rel + "/", e.path))
                    if rx.match(e.name):
                        out.append(_report_file(e.path, rel, rx, entry="dir"))
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


def shard_inventory(
    folder: str | os.PathLike,
    n_shards: int,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
    missing_ok: bool = False,
) -> dict[int, list[ReportFile]]:
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
    nanosecond is not detected. Hidden entries are left out: a temporary appearing while the DAG is built must
    not rerun a shard (their log rows say "not read" whatever they hold).
    """
    h = hashlib.blake2b(digest_size=8)
    for f in sorted((f for f in files if f.entry != "hidden"), key=lambda f: f.relpath):
        h.update(f"{f.relpath}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def shard_fingerprints(
    folder: str | os.PathLike,
    n_shards: int,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
    missing_ok: bool = False,
) -> dict[int, str]:
    """``{shard: fingerprint}`` from one listing of the folder (what the Snakefile puts into params)."""
    return {i: fingerprint(fs) for i, fs in shard_inventory(folder, n_shards, pattern, missing_ok).items()}
