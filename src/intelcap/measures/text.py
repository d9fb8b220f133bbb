"""Text index IM (docs/methods.md#text-index): keyword dictionary, report extraction, counting, the index.

Pipeline: ``read_report`` (TXT in UTF-8/UTF-8-BOM/GB18030, or PDF via PDFium) -> optional ``mdna_section``
-> ``normalize`` (NFKC, all whitespace deleted) -> leftmost-longest, non-overlapping keyword matching with a
negation rule -> ``text_index`` (IM = ln(1 + total hits)).

Incremental form (the workflow's rules): ``text_inventory.shard_inventory`` assigns every file to a shard by a
stable hash of its firm-year; ``extract_shard`` (duplicates resolved by ``resolve_versions``) writes one cache
file per shard with the text and its normalized form (``write_extracted``); ``count_extracted`` counts from
that cache only, so a dictionary change reruns no extraction. ``count_reports`` is the same two steps fused,
one report in memory at a time.

Why the counting code looks the way it does (target >= 200 MB/s of report text on one core):
- ``unicodedata.normalize("NFKC")`` runs at ~13 MB/s on Chinese text, because full-width punctuation (，：（）)
  makes every line "not normalized". ``normalize`` instead maps code units through a precomputed NFKC table
  with numpy. That is exact wherever every character is "context-free" under NFKC (its NFKC is one character
  and its decomposition starts with a starter that cannot compose with what precedes it). Lines holding any
  other character (combining marks, Hangul jamo, ligatures like ㈱, astral characters) take the exact slow
  path through ``unicodedata``; a line break is a safe cut because it is a starter that never composes.
- pyahocorasick scans CJK text at ~150 MB/s, below target. Keywords are rare, so a numpy prefilter finds the
  positions where a keyword's first three characters occur; the automaton's ``iter_long`` then runs only on
  merged windows around them. Windows are merged whenever they could interact, so the result is identical to
  ``iter_long`` over the whole string (tests check both against an independent scanner).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick
import numpy as np
import pandas as pd

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.measures.text_inventory import DEFAULT_PATTERN, ReportFile, report_file, resolve_pattern
from intelcap.resources import shipped

MODES = ("longest", "substring")
SECTIONS = ("full", "mdna")
# The paper's Table 7 shipped with the package: the synthetic reports plant it; users count with paths.keywords
DEFAULT_KEYWORDS_PATH = shipped("paper_keywords.yaml")
REPORT_NAME = re.compile(r"^(?P<Stkcd>\d{6})_(?P<year>\d{4})\.(?P<ext>txt|pdf)$", re.IGNORECASE)
COUNT_COLUMNS = ["Stkcd", "year", "category", "keyword", "count"]
LOG_COLUMNS = ["file", "Stkcd", "year", "status", "reason", "n_chars", "n_pages"]


class ReportUnreadable(Exception):
    """A report file that yields no usable text (corrupt, encrypted, no text layer, empty, bad encoding)."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


# --------------------------------------------------------------------------------------------- dictionary


@dataclass(frozen=True)
class KeywordSpec:
    """Validated keyword dictionary and counting options (config/keywords.yaml)."""

    categories: dict[str, tuple[str, ...]]
    negations: tuple[str, ...] = ("没", "无", "不")
    neg_window: int = 2
    mode: str = "longest"
    section: str = "full"
    keywords: tuple[str, ...] = field(init=False)
    category_of: dict[str, str] = field(init=False, repr=False)
    _matcher: _Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kws = tuple(k for ks in self.categories.values() for k in ks)
        object.__setattr__(self, "keywords", kws)
        object.__setattr__(self, "category_of", {k: c for c, ks in self.categories.items() for k in ks})
        # Built once per spec and reused for every report (the brief: no per-call automaton).
        object.__setattr__(self, "_matcher", _Matcher(kws, self.negations, self.neg_window))

    def replace(self, **changes: object) -> KeywordSpec:
        """A copy with other options (e.g. ``mode="substring"``), validated like a loaded file."""
        args = {
            "categories": self.categories,
            "negations": self.negations,
            "neg_window": self.neg_window,
            "mode": self.mode,
            "section": self.section,
        }
        args.update(changes)
        return _validated(args, "<KeywordSpec.replace>")


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


def word_categories(
    cats: object, where: str, noun: str, example: str, why_no_space: str, list_hint: str | None = None
) -> dict[str, tuple[str, ...]]:
    """The ``categories: {category: [word, ...]}`` mapping of a keyword dictionary or a seed file, validated:
    every category a non-empty list, every word text without whitespace after NFKC, and listed once across all
    categories (a word in two categories would be counted, or expanded, twice). `noun` ("keyword", "seed")
    and `example` (a YAML flow mapping) word the errors; `why_no_space` says why a word cannot hold a space."""
    if not isinstance(cats, dict) or not cats:
        raise InputError(
            f"{noun} file needs a non-empty 'categories' mapping", file=where, hint=f"categories: {example}"
        )
    categories: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for cat, words in cats.items():
        if not isinstance(words, list | tuple) or not words:
            raise InputError(f"category {cat!r} has no {noun} list", file=where, hint=list_hint)
        out = []
        for w in words:
            if not isinstance(w, str | int) or not str(w).strip():
                raise InputError(f"empty or non-text {noun} in category {cat!r}: {w!r}", file=where)
            wn = _nfkc(str(w).strip())
            if any(ch.isspace() for ch in wn):
                raise InputError(
                    f"{noun} {wn!r} contains whitespace; {why_no_space}", file=where, hint="delete the space"
                )
            if wn in seen:
                raise InputError(
                    f"duplicate {noun} {wn!r} (in {seen[wn]!r} and {cat!r}; after NFKC)",
                    file=where,
                    hint=f"list every {noun} once",
                )
            seen[wn] = str(cat)
            out.append(wn)
        categories[str(cat)] = tuple(out)
    return categories


def _validated(raw: dict, where: str) -> KeywordSpec:
    categories = word_categories(
        raw.get("categories"),
        where,
        "keyword",
        "{宏观政策: [中国制造2025, ...], ...}",
        "text is matched with all whitespace removed, so it could never match",
    )
    negs = raw.get("negations", ["没", "无", "不"])
    if not isinstance(negs, list | tuple) or any(
        not isinstance(n, str) or len(_nfkc(n)) != 1 or ord(_nfkc(n)) > 0xFFFF for n in negs
    ):
        raise InputError(f"'negations' must be a list of single (BMP) characters, got {negs!r}", file=where)
    window = raw.get("neg_window", 2)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise InputError(f"'neg_window' must be an integer >= 0, got {window!r}", file=where)
    mode = raw.get("mode", "longest")
    if mode not in MODES:
        raise InputError(f"'mode' must be one of {MODES}, got {mode!r}", file=where)
    section = raw.get("section", "full")
    if section not in SECTIONS:
        raise InputError(f"'section' must be one of {SECTIONS}, got {section!r}", file=where)
    return KeywordSpec(
        categories=categories,
        negations=tuple(_nfkc(n) for n in negs),
        neg_window=window,
        mode=mode,
        section=section,
    )


def load_keywords(path: str | os.PathLike | None = None) -> KeywordSpec:
    """Read and validate a keyword YAML (default: the repository's config/keywords.yaml).

    The one loader of keyword dictionaries: the text measure, Table 7 and the synthetic reports all use it,
    so a dictionary that one of them accepts is accepted by all."""
    path = Path(path) if path is not None else DEFAULT_KEYWORDS_PATH
    if not path.is_file():
        raise InputError(
            "keyword dictionary not found",
            file=str(path),
            hint="set config key `paths.keywords` to a keywords YAML (config/keywords.yaml)",
        )
    raw = yamlfile.read_file(
        path, "keyword file", "fix the file, or point config key `paths.keywords` at another one"
    )
    if not isinstance(raw, dict):
        raise InputError(
            "keyword file must be a YAML mapping",
            file=str(path),
            hint="categories: {宏观政策: [中国制造2025, ...], ...}; config key `paths.keywords`",
        )
    return _validated(raw, str(path))


# ------------------------------------------------------------------------------------------ normalization


@lru_cache(maxsize=1)
def _nfkc_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per BMP code unit: NFKC image, "delete" (NFKC image is whitespace), "unsafe" (needs real NFKC).

    Safe means: NFKC(c) is one BMP character and NFKD(c) starts with a starter (ccc 0) that is not the second
    half of any canonical composition; then NFKC of a string of safe characters is the concatenation of the
    characters' images (nothing reorders or composes across them). Surrogates are unsafe (astral text).
    """
    second: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V and T jamo
    for cp in range(0x30000):
        d = unicodedata.decomposition(chr(cp))
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                second.add(int(parts[1], 16))
    image = np.arange(0x10000, dtype=np.uint16)
    delete = np.zeros(0x10000, dtype=bool)
    unsafe = np.zeros(0x10000, dtype=bool)
    for cp in range(0x10000):
        if 0xD800 <= cp < 0xE000:
            unsafe[cp] = True
            continue
        c = chr(cp)
        k = _nfkc(c)
        first = unicodedata.normalize("NFKD", c)[0]
        if len(k) != 1 or ord(k) > 0xFFFF or unicodedata.combining(first) != 0 or ord(first) in second:
            unsafe[cp] = True
            continue
        image[cp] = ord(k)
        delete[cp] = k.isspace()
    # The fast path skips the CJK blocks entirely; make sure that is exact.
    blk = slice(0x3400, 0xA000)
    if unsafe[blk].any() or delete[blk].any() or (image[blk] != np.arange(0x3400, 0xA000)).any():
        raise AssertionError("CJK block U+3400-U+9FFF is not NFKC-stable in this Python's Unicode database")
    return image, delete, unsafe


def _slow_units(units: np.ndarray) -> np.ndarray:
    s = units.tobytes().decode("utf-16-le", "surrogatepass")
    out = "".join(_nfkc(s).split())
    return np.frombuffer(out.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _special(a: np.ndarray) -> np.ndarray:
    """Positions of code units outside U+3400-U+9FFF, the only ones NFKC or whitespace removal can change.
    ((a - 0x3400) wraps around below U+3400, so one comparison covers both sides.)"""
    return np.flatnonzero((a - np.uint16(0x3400)) >= np.uint16(0x6C00))


def _fast_units(
    a: np.ndarray, idx: np.ndarray, vals: np.ndarray, image: np.ndarray, delete: np.ndarray
) -> np.ndarray:
    """Table-driven NFKC + whitespace removal; exact when no unit of ``a`` is unsafe."""
    if idx.size == 0:
        return a
    out = a.copy()
    out[idx] = image[vals]
    drop = idx[delete[vals]]
    if drop.size:
        keep = np.ones(a.size, dtype=bool)
        keep[drop] = False
        out = out[keep]
    return out


def _normalize_units(text: str) -> tuple[np.ndarray, bool]:
    """UTF-16 code units of ``normalize(text)`` and whether they hold astral characters (surrogate pairs)."""
    a = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    if a.size == 0:
        return a, False
    image, delete, unsafe = _nfkc_tables()
    idx = _special(a)
    vals = a[idx]
    bad = idx[unsafe[vals]]
    if bad.size == 0:
        return _fast_units(a, idx, vals, image, delete), False
    # Exact path for the lines that hold unsafe characters; line breaks are safe cut points (a starter that
    # never composes, so NFKC of the whole equals the concatenation of NFKC of the lines).
    newlines = np.flatnonzero(a == 10)
    if newlines.size == 0:
        out = _slow_units(a)
    else:
        pos = np.searchsorted(newlines, bad)
        starts = np.where(pos > 0, newlines[np.maximum(pos - 1, 0)] + 1, 0)
        ends = np.where(pos < newlines.size, newlines[np.minimum(pos, newlines.size - 1)], a.size)
        pieces: list[np.ndarray] = []
        cursor = 0

        def fast(lo: int, hi: int) -> np.ndarray:
            part = a[lo:hi]
            pidx = _special(part)
            return _fast_units(part, pidx, part[pidx], image, delete)

        for s, e in sorted(set(zip(starts.tolist(), ends.tolist(), strict=True))):
            if s < cursor:  # same line as the previous unsafe character
                continue
            if s > cursor:
                pieces.append(fast(cursor, s))
            pieces.append(_slow_units(a[s:e]))
            cursor = e
        if cursor < a.size:
            pieces.append(fast(cursor, a.size))
        out = np.concatenate(pieces)
    astral = bool(((out >= 0xD800) & (out < 0xE000)).any())
    return out, astral


def normalize(text: str) -> str:
    """NFKC, then delete every whitespace character (str.isspace: line breaks, U+3000, NBSP, ...).

    Equal to ``"".join(unicodedata.normalize("NFKC", text).split())``, just ~20x faster on Chinese text.
    """
    return _normalize_units(text)[0].tobytes().decode("utf-16-le", "surrogatepass")


# ---------------------------------------------------------------------------------------------- matching


class _Matcher:
    """Aho-Corasick automaton plus a numpy prefilter over the first (up to) three characters of keywords."""

    def __init__(self, keywords: Sequence[str], negations: Sequence[str], neg_window: int) -> None:
        self.keywords = tuple(keywords)
        self.index = {k: i for i, k in enumerate(self.keywords)}
        self.negations = frozenset(negations)
        # Lookback: a negation with at most neg_window characters BETWEEN it and the keyword drops the hit
        # (docs/methods.md#text-index: "不涉及大数据" -> 大数据 0, i.e. two characters 涉及 in between).
        self.lookback = neg_window + 1
        self.automaton = ahocorasick.Automaton()
        for i, k in enumerate(self.keywords):
            self.automaton.add_word(k, i)
        self.automaton.make_automaton()
        self.lengths = np.array([len(k) for k in self.keywords], dtype=np.int64)
        self.lengths_list = self.lengths.tolist()
        self.is_negation = np.zeros(0x10000, dtype=bool)
        for ch in self.negations:
            if ord(ch) <= 0xFFFF:  # astral negation characters are not supported by the vectorized rule
                self.is_negation[ord(ch)] = True
        self.maxlen = int(self.lengths.max())
        self.k = min(3, int(self.lengths.min()))
        self.bmp = all(ord(c) < 0xD800 or 0xE000 <= ord(c) <= 0xFFFF for k in self.keywords for c in k)
        self.first = [np.zeros(0x10000, dtype=bool) for _ in range(self.k)]
        codes = set()
        for kw in self.keywords:
            for j in range(self.k):
                if self.bmp:
                    self.first[j][ord(kw[j])] = True
            code = 0
            for j in range(self.k):
                code = (code << 16) | ord(kw[j]) if self.bmp else 0
            codes.add(code)
        self.codes = np.array(sorted(codes), dtype=np.uint64)

    def _scan_str(self, s: str, substring: bool) -> tuple[list[int], list[int]]:
        """(start, keyword index) of the matches in ``s``: leftmost-longest, or all with ``substring``."""
        starts: list[int] = []
        kws: list[int] = []
        lengths = self.lengths_list
        for end, i in self.automaton.iter(s) if substring else self.automaton.iter_long(s):
            starts.append(end - lengths[i] + 1)
            kws.append(i)
        return starts, kws

    def candidates(self, u: np.ndarray) -> np.ndarray:
        """Start positions where some keyword's first k characters occur (a superset of all match starts)."""
        n = u.size - self.k + 1
        if n <= 0:
            return np.empty(0, dtype=np.int64)
        # np.take, not self.first[0][u[:n]]: the same gather, ~4x faster (fancy indexing converts the uint16
        # index array to intp first), and this one pass over the whole text is most of the counting time.
        c = np.flatnonzero(np.take(self.first[0], u[:n]))
        for j in range(1, self.k):
            c = c[self.first[j][u[c + j]]]
        if c.size:
            code = np.zeros(c.size, dtype=np.uint64)
            for j in range(self.k):
                code = (code << np.uint64(16)) | u[c + j].astype(np.uint64)
            pos = np.minimum(np.searchsorted(self.codes, code), self.codes.size - 1)
            c = c[self.codes[pos] == code]
        return c

    def matches(
        self, u: np.ndarray, astral: bool, substring: bool = False, prefilter: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Match starts and keyword indices, before the negation rule. Starts are code-unit positions in ``u``,
        except on the whole-string path (no prefilter, or astral characters) where they are string indices."""
        if not prefilter or astral or not self.bmp:
            st, kw = self._scan_str(u.tobytes().decode("utf-16-le", "surrogatepass"), substring)
            return np.asarray(st, dtype=np.int64), np.asarray(kw, dtype=np.int64)
        cand = self.candidates(u)
        if cand.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        # Windows [first candidate, last candidate + maxlen): a match starting at a candidate ends inside its
        # window, so windows farther apart than that cannot interact. Windows closer than _MERGE_GAP are
        # merged anyway: scanning a few extra characters is cheaper than another Python-level call.
        brk = np.flatnonzero(np.diff(cand) >= self.maxlen + _MERGE_GAP) + 1
        w0 = cand[np.concatenate(([0], brk))].tolist()
        w1 = (cand[np.concatenate((brk - 1, [cand.size - 1]))] + self.maxlen).tolist()
        # Tight loop on purpose: per-window Python overhead is what costs here, not the automaton.
        ends: list[int] = []
        kws: list[int] = []
        scan = self.automaton.iter if substring else self.automaton.iter_long
        push_end, push_kw = ends.append, kws.append
        for a, b in zip(w0, w1, strict=True):
            for end, i in scan(u[a:b].tobytes().decode("utf-16-le")):
                push_end(a + end)
                push_kw(i)
        kw_arr = np.asarray(kws, dtype=np.int64)
        return np.asarray(ends, dtype=np.int64) - self.lengths[kw_arr] + 1, kw_arr

    def count_units(
        self, u: np.ndarray, astral: bool, substring: bool = False, prefilter: bool = True
    ) -> np.ndarray:
        return self.count_units_pair(u, astral, substring=substring, prefilter=prefilter)[0]

    def count_units_pair(
        self, u: np.ndarray, astral: bool, substring: bool = False, prefilter: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(counts with the negation rule, counts without it) from one scan: the rule only drops matches."""
        starts, kws = self.matches(u, astral, substring=substring, prefilter=prefilter)
        raw = np.bincount(kws, minlength=len(self.keywords)).astype(np.int64)
        if starts.size and self.lookback and (astral or not prefilter or not self.bmp):
            # Whole-string path: the window is counted in characters (astral characters are two units).
            s = u.tobytes().decode("utf-16-le", "surrogatepass")
            look, negs = self.lookback, self.negations
            keep = [not any(ch in negs for ch in s[max(0, b - look) : b]) for b in starts.tolist()]
            kws = kws[np.asarray(keep, dtype=bool)]
        elif starts.size and self.lookback:
            # Negation rule, vectorized: any negation unit in the `lookback` units before the match start.
            negated = np.zeros(starts.size, dtype=bool)
            for d in range(1, self.lookback + 1):
                pos = starts - d
                ok = pos >= 0
                negated[ok] |= self.is_negation[u[pos[ok]]]
            kws = kws[~negated]
        return np.bincount(kws, minlength=len(self.keywords)).astype(np.int64), raw


_MERGE_GAP = 256


def count_keywords(text: str, spec: KeywordSpec, mode: str | None = None) -> dict[str, int]:
    """Keyword counts (Table order, zeros included) in ``text`` after :func:`normalize`.

    ``mode="longest"`` (default from spec): leftmost-longest non-overlapping matches, so 工业机器人 is not also
    机器人. ``mode="substring"``: every occurrence of every keyword, nested ones included (robustness variant).
    Both drop a hit preceded by a negation character with at most ``neg_window`` characters in between.
    """
    mode = mode or spec.mode
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, got {mode!r}")
    counts = spec._matcher.count_units(*_normalize_units(text), substring=(mode == "substring"))
    return dict(zip(spec.keywords, counts.tolist(), strict=True))


# -------------------------------------------------------------------------------------------- extraction


@dataclass(frozen=True)
class ReportText:
    text: str
    n_pages: int | None  # None for .txt
    encoding: str  # "utf-8", "utf-8-sig", "gb18030" or "pdf"


_ODD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\U000f0000-\U0010ffff]")


def _decode_txt(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReportUnreadable(path, "UTF-16 text; only UTF-8 (with/without BOM) and GB18030 are accepted")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        # GB18030 decodes many non-GB byte strings; NULs, control characters or private-use characters
        # (GB18030's user-defined areas) mean the guess is wrong, so refuse rather than count garbage.
        odd = len(_ODD_CHARS.findall(text))
        if odd > 0.001 * max(len(text), 1):
            continue
        return text, ("utf-8" if enc == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf") else enc)
    raise ReportUnreadable(path, "not decodable as UTF-8 or GB18030 (unknown encoding or binary file)")


# Default of text.min_chars_per_page: a report page holds ~500-1500 characters, a cover or a chart page fewer;
# a scanned report whose only text is a running header ("XX股份有限公司2015年年度报告全文", page numbers) has ~20-40.
MIN_CHARS_PER_PAGE = 100
# A text with at least this share of its non-space characters in tags, entities, <script> and <style> blocks
# is a web page (a saved error or login page), not a report: its IM would be 0, and the contract says missing.
MARKUP_SHARE = 0.5
_MARKUP = re.compile(
    r"<(script|style)\b.*?</\1\s*>|<[!?/]?[A-Za-z][^<>]{0,2000}>|<!--.*?-->|&(?:#\d+|#x[0-9a-f]+|\w+);",
    re.IGNORECASE | re.DOTALL,
)
_MARKUP_START = re.compile(
    rb"^\s*(?:<!doctype\s+html|<html|<\?xml|<head|<body|<!--|<meta|<div|<title)", re.IGNORECASE
)


def _nonspace(text: str) -> int:
    """Non-whitespace characters (str.split's whitespace, as normalize deletes it)."""
    return sum(map(len, text.split()))


def _check_markup(path: Path, text: str) -> None:
    """Raise ReportUnreadable if ``text`` is mostly HTML/XML markup."""
    if "<" not in text:
        return
    spans = [m.group(0) for m in _MARKUP.finditer(text)]
    if len(spans) < 2:
        return
    markup, total = sum(_nonspace(t) for t in spans), _nonspace(text)
    if total and markup >= MARKUP_SHARE * total:
        raise ReportUnreadable(
            path,
            f"mostly HTML/XML markup, not report text ({markup / total:.0%} of its "
            f"{total} characters are tags): probably a saved web, login or error page; "
            "download the report again",
        )


def _sniff(path: Path, head: bytes, ext: str) -> None:
    """What the first bytes show, before any decoder runs: empty, markup, or (for .pdf) not a PDF at all."""
    if not head:
        raise ReportUnreadable(path, "empty file (0 bytes): an aborted download? download the report again")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if _MARKUP_START.match(body):
        first = body.lstrip()[:40].decode("utf-8", "replace")
        raise ReportUnreadable(
            path,
            f"HTML/XML markup, not a report (starts with {first!r}): probably a saved "
            "web, login or error page; download the report again",
        )
    if ext == "pdf" and b"%PDF" not in head[:1024]:
        first = body.lstrip()[:40].decode("utf-8", "replace")
        raise ReportUnreadable(
            path,
            f"not a PDF: no %PDF header (starts with {first!r}); download the report "
            "again or give it its real extension",
        )


def _body_chars(parts: list[str]) -> tuple[int, int]:
    """(non-space characters of the pages without running lines, number of running lines removed).

    A line is running when it recurs, digits ignored (page numbers), on at least half of the pages (3 pages or
    more): a scanned report keeps the publisher's text header and footer, and those must not make it pass."""
    n = len(parts)
    pages = [[ln.strip() for ln in p.splitlines() if ln.strip()] for p in parts]
    if n < 3:
        return sum(_nonspace(ln) for pg in pages for ln in pg), 0
    key = re.compile(r"\d+")
    seen: dict[str, int] = {}
    for pg in pages:
        for k in {key.sub("#", ln) for ln in pg}:
            seen[k] = seen.get(k, 0) + 1
    running = {k for k, c in seen.items() if c * 2 >= n}
    body = sum(_nonspace(ln) for pg in pages for ln in pg if key.sub("#", ln) not in running)
    return body, len(running)


def _extract_pdf(path: Path, min_chars_per_page: int) -> ReportText:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        msg = str(e)
        if "password" in msg.lower():
            raise ReportUnreadable(path, f"encrypted PDF (password required): {msg}") from e
        raise ReportUnreadable(path, f"corrupt PDF: {msg}") from e
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise ReportUnreadable(path, "PDF has no pages")
        parts = []
        for i in range(n_pages):
            page = pdf[i]
            try:
                tp = page.get_textpage()
                try:
                    parts.append(tp.get_text_bounded())
                finally:
                    tp.close()
            finally:
                page.close()
    except pdfium.PdfiumError as e:
        raise ReportUnreadable(path, f"corrupt PDF page: {e}") from e
    finally:
        pdf.close()
    text = "\n".join(parts)
    n_text = _nonspace(text)
    if n_text == 0:
        raise ReportUnreadable(
            path, f"no text layer (0 characters on {n_pages} pages): a scanned PDF needs OCR first"
        )
    body, n_running = _body_chars(parts)
    if body < min_chars_per_page * n_pages:
        dropped = (
            f", not counting {n_running} running header/footer line(s) repeated on most pages"
            if n_running
            else ""
        )
        raise ReportUnreadable(
            path,
            f"too little text per page: {body / n_pages:.0f} characters per page on average over {n_pages} "
            f"pages{dropped}, below text.min_chars_per_page = {min_chars_per_page}: a scanned PDF (no text "
            "layer beyond a header) needs OCR first; lower text.min_chars_per_page if the report is genuine",
        )
    _check_markup(path, text)
    return ReportText(text=text, n_pages=n_pages, encoding="pdf")


def extract_report(path: str | os.PathLike, min_chars_per_page: int = MIN_CHARS_PER_PAGE) -> ReportText:
    """Text of one report plus page count and detected encoding; raises :class:`ReportUnreadable` for an
    empty file, markup (a saved web page), a .pdf that is no PDF, an encrypted or corrupt PDF, a PDF with
    fewer than ``min_chars_per_page`` characters per page on average (running header lines not counted), and
    a .txt that is not UTF-8/GB18030 text or is mostly markup."""
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".pdf", ".txt"):
        raise ReportUnreadable(path, f"unsupported file type {path.suffix!r} (need .txt or .pdf)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024) if ext == ".pdf" else fh.read()
    except OSError as e:
        raise ReportUnreadable(path, f"cannot read file: {e}") from e
    _sniff(path, head, ext[1:])
    if ext == ".pdf":
        return _extract_pdf(path, min_chars_per_page)
    data = head
    if not data.strip():
        raise ReportUnreadable(path, "empty file (only whitespace bytes)")
    text, enc = _decode_txt(path, data)
    if not text.strip():
        raise ReportUnreadable(path, "no text (only whitespace)")
    _check_markup(path, text)
    return ReportText(text=text, n_pages=None, encoding=enc)


def read_report(path: str | os.PathLike) -> str:
    """Text of one report (.txt UTF-8/UTF-8-BOM/GB18030, or .pdf); raises :class:`ReportUnreadable`."""
    return extract_report(path).text


_NUM = "一二三四五六七八九十"
_SP = r"[ \t\u3000]*"
# The MD&A's titles over 2011-2019: 董事会报告 (until 2013, with 管理层讨论与分析 as its first sub-heading),
# 管理层讨论与分析 (2014-2015 and again from 2021), 经营情况讨论与分析 (2016-2020); numbered 第三节/第四节/...,
# "四、", or not at all.
MDNA_TITLES = ("管理层讨论与分析", "经营情况讨论与分析", "董事会报告")
# Top-level sections after which the MD&A has ended when they are not numbered 第X节.
NEXT_SECTION_TITLES = (
    "重要事项",
    "股份变动及股东情况",
    "公司治理",
    "财务报告",
    "监事会报告",
    "环境和社会责任",
    "优先股相关情况",
    "公司债券相关情况",
    "董事、监事、高级管理人员和员工情况",
    "内部控制",
    "备查文件目录",
)
_PREFIX = rf"(?:第[{_NUM}]+[节章]{_SP}|[{_NUM}]+[、.．]{_SP})?"
_MDNA_START = re.compile(
    rf"^{_SP}{_PREFIX}(?P<title>{'|'.join(MDNA_TITLES)}){_SP}\r?$",
    re.MULTILINE,
)
_TOP_HEADING = re.compile(
    rf"^{_SP}(?:第[{_NUM}]+[节章]{_SP}(?P<title>.*?)|{_PREFIX}(?:{'|'.join(NEXT_SECTION_TITLES)})){_SP}\r?$",
    re.MULTILINE,
)
# A table-of-contents entry: a heading followed by dot leaders and/or a page number on the same line.
_TOC_ENTRY = re.compile(
    rf"^{_SP}(?:第[{_NUM}]+[节章]|{_PREFIX}(?:{'|'.join(MDNA_TITLES + NEXT_SECTION_TITLES)})).*?"
    r"(?:[.．·…_\-—]{2,}|[ \t\u3000])[ \t\u3000.．·…]*\d{1,4}[ \t\u3000]*\r?$",
    re.MULTILINE,
)
# A page-number line (a PDF often puts a TOC entry's page number, or a page footer, on a line of its own).
_PAGE_NUMBER = re.compile(r"^[ \t\u3000.．·…\-—]*(?:第[ \t\u3000]*)?\d{1,4}[ \t\u3000]*(?:页.*)?\r?$")
# A section shorter than this (non-space characters) is a cross-reference or an empty stub, not the MD&A.
MDNA_MIN_CHARS = 10
MDNA_REASONS = {
    "no_heading": "no MD&A heading found",
    "toc_only": "MD&A heading found only in the table of contents",
    "too_short": f"MD&A section too short (fewer than {MDNA_MIN_CHARS} characters)",
}


def _is_mdna_title(title: str | None) -> bool:
    return title is not None and title.strip() in MDNA_TITLES


def _next_lines(text: str, pos: int, n: int) -> list[str]:
    """Up to ``n`` non-empty lines after ``pos`` (page-number lines skipped)."""
    out: list[str] = []
    for line in text[pos : pos + 2000].split("\n"):
        if not line.strip() or _PAGE_NUMBER.match(line):
            continue
        out.append(line)
        if len(out) >= n:
            break
    return out


def _toc_like(text: str, m: re.Match) -> bool:
    """A heading in the table of contents: its next line (page numbers skipped) is another heading or TOC
    entry, not body text (a PDF can put the dot leaders and page number of an entry on a line of their own)."""
    nxt = _next_lines(text, m.end(), 1)
    if not nxt:
        return True
    line = nxt[0]
    return bool(_TOC_ENTRY.match(line) or _TOP_HEADING.match(line))


def _section_end(text: str, start: int) -> int:
    """Start of the next top-level heading after ``start`` that is not an MD&A title (a running header that
    repeats the MD&A's own heading on every page must not end it)."""
    for e in _TOP_HEADING.finditer(text, start):
        if not _is_mdna_title(e.group("title")):
            return e.start()
    return len(text)


def mdna_diagnose(text: str) -> tuple[tuple[int, int] | None, str]:
    """(bounds of the MD&A section in ``text`` or None, the reason key of MDNA_REASONS when None, else "").

    Candidates are lines holding only an MD&A title (optionally numbered). A candidate followed by another
    heading is a table-of-contents entry and is dropped; among the rest the longest section wins (running
    headers and the 管理层讨论与分析 sub-heading of an older 董事会报告 section give sections inside it). The
    section ends at the next 第X节 heading or known next-section title that is not itself an MD&A title."""
    toc = False
    best: tuple[int, int] | None = None
    for m in _MDNA_START.finditer(text):
        if _toc_like(text, m):
            toc = True
            continue
        end = _section_end(text, m.end())
        if best is None or end - m.end() > best[1] - best[0]:
            best = (m.end(), end)
    if best is None:
        return None, "toc_only" if toc or _TOC_ENTRY_MDNA.search(text) else "no_heading"
    if _nonspace(text[best[0] : best[1]]) < MDNA_MIN_CHARS:
        return None, "too_short"
    return best, ""


_TOC_ENTRY_MDNA = re.compile(
    rf"^{_SP}{_PREFIX}(?:{'|'.join(MDNA_TITLES)}){_SP}(?:[.．·…_\-—]{{2,}}|[ \t\u3000])[ \t\u3000.．·…]*"
    r"\d{1,4}[ \t\u3000]*\r?$",
    re.MULTILINE,
)


def _mdna_bounds(text: str) -> tuple[int, int] | None:
    return mdna_diagnose(text)[0]


def mdna_section(text: str) -> str | None:
    """The MD&A section (董事会报告 / 管理层讨论与分析 / 经营情况讨论与分析 up to the next top-level heading).

    Headings count only when they stand alone on a line (table-of-contents lines end in dots and a page
    number, cross-references sit inside sentences); a standalone heading followed by another heading is a
    table-of-contents entry too. With several candidates the longest section wins. Returns None when no
    section is found (:func:`mdna_diagnose` says why): the caller must flag that, not fall back to the full
    text.
    """
    best = _mdna_bounds(text)
    return None if best is None else text[best[0] : best[1]]


COVERAGE_COLUMNS = [
    "year",
    "reports",
    "read",
    "mdna_found",
    "hit_rate",
    "unreadable",
    "no_heading",
    "toc_only",
    "too_short",
]
COVERAGE_MISS_COLUMNS = ["file", "Stkcd", "year", "miss", "reason"]


def read_for_coverage(path: str | os.PathLike) -> pd.DataFrame:
    """The columns :func:`mdna_coverage` needs from an extraction cache file, with the raw text of the
    readable reports WITHOUT an MD&A section only (empty for the others): a shard's texts would take ~7 MB
    per real-size report in memory, and only the misses need diagnosing."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    cols = ["file", "Stkcd", "year", "status", "reason", "mdna_start"]
    try:
        df = pq.read_table(path, columns=cols).to_pandas()
        miss = df.loc[(df["status"] == "ok") & df["mdna_start"].isna(), "file"].tolist()
        df["text"] = ""
        if miss:
            t = pq.read_table(path, columns=["file", "text"], filters=pc.field("file").isin(miss)).to_pandas()
            df.loc[df["file"].isin(miss), "text"] = df["file"].map(
                dict(zip(t["file"], t["text"], strict=True))
            )
    except (OSError, ValueError, KeyError) as e:
        raise InputError(
            f"cannot read the text extraction cache: {e}",
            file=str(path),
            hint="delete the file and rerun the text_extract rule",
        ) from e
    return df.astype({"year": "Int64", "mdna_start": "Int64"})


def mdna_coverage(extracted: Iterable[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """MD&A coverage of extraction cache shards (:func:`read_for_coverage`, or :func:`read_extracted` with
    ``text=True``): per year the
    reports (files used for a firm-year: ``ok`` or ``unreadable``), those read, those with an MD&A section,
    ``hit_rate`` = mdna_found / read, and the misses by reason (COVERAGE_COLUMNS, a last row ``year`` NA =
    all years); and one row per miss (file, Stkcd, year, miss key of MDNA_REASONS or ``unreadable``, reason).
    Duplicates, superseded versions and badly named files are not reports of a firm-year and are left out."""
    misses: list[tuple] = []
    tallies: dict[int | None, dict[str, int]] = {}
    for df in extracted:
        use = df[df["status"].isin(["ok", "unreadable"])]
        for row in use[["file", "Stkcd", "year", "status", "reason", "text", "mdna_start"]].itertuples(
            index=False
        ):
            year = None if row.year is pd.NA else int(row.year)
            t = tallies.setdefault(year, dict.fromkeys(COVERAGE_COLUMNS[1:], 0))
            t["reports"] += 1
            if row.status == "unreadable":
                t["unreadable"] += 1
                misses.append((row.file, row.Stkcd, year, "unreadable", row.reason))
                continue
            t["read"] += 1
            if row.mdna_start is not pd.NA:
                t["mdna_found"] += 1
                continue
            key = mdna_diagnose(row.text)[1] or "no_heading"
            t[key] += 1
            misses.append((row.file, row.Stkcd, year, key, MDNA_REASONS[key]))
    rows = [{"year": y, **t} for y, t in sorted(tallies.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    total = {"year": None, **{c: sum(r[c] for r in rows) for c in COVERAGE_COLUMNS[1:] if c != "hit_rate"}}
    cov = pd.DataFrame([*rows, total], columns=COVERAGE_COLUMNS)
    cov["hit_rate"] = (cov["mdna_found"] / cov["read"].where(cov["read"] > 0)).round(4)
    cov = cov.astype({"year": "Int64", **{c: "int64" for c in COVERAGE_COLUMNS[1:] if c != "hit_rate"}})
    miss = pd.DataFrame(misses, columns=COVERAGE_MISS_COLUMNS).astype({"year": "Int64"})
    return cov, miss.sort_values("file", kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------- reports and index

# Columns of the extraction cache (one row per file of a shard; results/text/extracted/shard_{i}.parquet).
# ``norm`` holds normalize(text) as UTF-16-LE bytes, ``mdna_start``/``mdna_end`` the MD&A section's bounds in
# it (code units; NA without an MD&A heading), ``astral``/``mdna_astral`` whether they hold surrogate pairs.
# Normalization does not depend on the keyword dictionary, and it is ~90% of the cost of counting a cached
# text, so it is done once here: a dictionary change then costs only the automaton scans.
EXTRACTED_COLUMNS = [
    "Stkcd",
    "year",
    "file",
    "ext",
    "status",
    "reason",
    "n_pages",
    "n_chars",
    "text",
    "norm",
    "astral",
    "mdna_start",
    "mdna_end",
    "mdna_astral",
]
_EXTRACTED_DTYPES = {
    "Stkcd": "string",
    "year": "Int64",
    "file": "string",
    "ext": "string",
    "status": "string",
    "reason": "string",
    "n_pages": "Int64",
    "n_chars": "int64",
    "text": "string",
    "norm": "object",
    "astral": "bool",
    "mdna_start": "Int64",
    "mdna_end": "Int64",
    "mdna_astral": "bool",
}
# Bump when extraction output changes (decoding, PDF text, normalization, MD&A detection, cache columns), so a
# rule can take it as a param instead of the whole text.py as input: an edit of the counting code then does
# not re-extract every PDF.
EXTRACTION_VERSION = 3
EXTENSION_PREFERENCE = ("txt", "pdf")
BAD_NAME_REASON = "file name is not <Stkcd 6 digits>_<year>.txt|pdf"
_REVISION_ORDER = ("revised", "original")


def _as_report_files(
    files: Iterable[str | os.PathLike | ReportFile],
    root: str | os.PathLike | None,
    pattern: str | re.Pattern[str] | None,
) -> list[ReportFile]:
    pattern = resolve_pattern(pattern)
    out = []
    for f in files:
        if isinstance(f, ReportFile):
            out.append(f)
            continue
        p = os.fspath(f)
        rel = os.path.relpath(p, root).replace(os.sep, "/") if root is not None else os.path.basename(p)
        out.append(report_file(p, rel, pattern))
    return sorted(out, key=lambda f: (f.relpath, f.path))


def _version_rank(f: ReportFile) -> tuple:
    ext = EXTENSION_PREFERENCE.index(f.ext) if f.ext in EXTENSION_PREFERENCE else len(EXTENSION_PREFERENCE)
    rev = _REVISION_ORDER.index(f.revision) if f.revision in _REVISION_ORDER else len(_REVISION_ORDER)
    return (rev, ext, f.relpath.count("/"), f.relpath, f.path)


def _countable(f: ReportFile) -> bool:
    return f.kind == "full" and f.lang == "zh" and f.revision != "cancelled"


def _version_label(f: ReportFile) -> str:
    if f.revision == "cancelled":
        return "a cancelled version (已取消)"
    if f.kind == "summary":
        return "a summary (摘要)" + (", English" if f.lang == "en" else "")
    if f.lang == "en":
        return "an English version"
    return "a revised version" if f.revision == "revised" else "the original version"


def resolve_versions(
    files: Iterable[ReportFile],
) -> tuple[dict[tuple[str, int], ReportFile], dict[str, tuple[str, str]]]:
    """The one place where several files of one firm-year are resolved to the one that is counted.

    Returns ``(used, losers)``: ``used[(Stkcd, year)]`` is the file counted for that firm-year;
    ``losers[relpath]`` is ``(status, reason)`` for every other version of a firm-year, the reason naming the
    file used. Only candidates compete (``ReportFile.candidate``: a matched name on a non-empty regular file);
    folders, dangling links and 0-byte files are logged ``unreadable`` by the extraction, as are unmatched names.

    Rule (docs/data_contract.md, "Annual reports"), deterministic and independent of listing order:

    1. Only a full Chinese report counts: summaries (摘要), English versions and cancelled ones (已取消) never
       do (a summary is a fraction of the text, English text has no Chinese keyword: either would give a
       number that is not the firm's IM). They are ``superseded`` by the file used, or ``excluded`` when the
       firm-year has no full Chinese report (its IM is then missing).
    2. Among full Chinese reports, a revised version (更正后/修订版/更新后/...) before the original: the original
       is ``superseded``. It was replaced because it was wrong.
    3. Then ``.txt`` before ``.pdf``, then the file nearest the folder root (fewest "/"), then the smallest
       relpath (then path): the others are ``duplicate`` (the same version). Why .txt first: a .txt next to a
       PDF is the text a data vendor or the user already extracted and checked, free of the PDF text layer's
       artefacts (keywords split across lines and pages, running headers); it is also what the workflow always
       did, so counts do not move.

    An unreadable chosen file is NOT replaced by another version: the firm-year is logged and its IM is
    missing, so a broken file is noticed and fixed at source.
    """
    groups: dict[tuple[str, int], list[ReportFile]] = {}
    for f in files:
        if f.candidate:
            groups.setdefault(f.key, []).append(f)  # type: ignore[arg-type]
    used: dict[tuple[str, int], ReportFile] = {}
    losers: dict[str, tuple[str, str]] = {}
    for key, fs in groups.items():
        ok = sorted((f for f in fs if _countable(f)), key=_version_rank)
        win = ok[0] if ok else None
        if win is not None:
            used[key] = win
        for f in sorted(fs, key=_version_rank):
            if f is win:
                continue
            if win is None:
                losers[f.relpath] = (
                    "excluded",
                    f"{_version_label(f)} is never counted and the firm-year has no "
                    "full Chinese report, so its IM is missing; add the full report",
                )
            elif not _countable(f):
                losers[f.relpath] = (
                    "superseded",
                    f"{_version_label(f)} is never counted; the full Chinese report {win.relpath} is used",
                )
            elif f.revision != win.revision:
                losers[f.relpath] = (
                    "superseded",
                    f"superseded by the revised version {win.relpath} (a revised "
                    "full report wins over the original); that file is used",
                )
            else:
                losers[f.relpath] = ("duplicate", f"firm-year also in {win.relpath}; that file is used")
    return used, losers


def _empty_row(head: tuple, status: str, reason: str) -> tuple:
    return (*head, status, reason, None, 0, "", b"", False, None, None, False)


def _not_a_file(f: ReportFile) -> str | None:
    """The unreadable reason for an entry that is not a non-empty regular file (decided from the listing)."""
    if f.entry == "dangling" or f.size < 0:
        try:
            target = os.readlink(f.path)
        except OSError:
            target = "?"
        return f"dangling symlink (target {target!r} does not exist)"
    if f.entry == "link_dir":
        return "a folder (symlink to a folder, not followed); link the files instead"
    if f.entry == "dir":
        return (
            "a folder named like a report, not a report; its files are listed (and logged) by their own names"
        )
    if f.size == 0:
        return "empty file (0 bytes): an aborted download? download the report again"
    return None


def _extract_row(
    f: ReportFile,
    loser: tuple[str, str] | None,
    used: ReportFile | None = None,
    min_chars_per_page: int = MIN_CHARS_PER_PAGE,
) -> tuple:
    """One extraction-cache row (EXTRACTED_COLUMNS order) for one file."""
    head = (f.Stkcd, f.year, f.relpath, f.ext)
    if f.entry == "hidden":
        return _empty_row(head, "skipped", f.problem or "hidden file (name starts with '.'), not read")
    bad = _not_a_file(f)
    if bad is not None:
        if used is not None:
            bad += f"; {used.relpath} is used for the firm-year"
        return _empty_row(head, "unreadable", bad)
    if f.key is None:
        if f.ext not in EXTENSION_PREFERENCE:
            return _empty_row(
                head,
                "unsupported",
                f"file type {('.' + f.ext) if f.ext else '(none)'!r} is not read: reports are .txt or .pdf",
            )
        return _empty_row(head, "bad_name", f.problem or BAD_NAME_REASON)
    if loser is not None:
        return _empty_row(head, *loser)
    try:
        rep = extract_report(f.path, min_chars_per_page)
    except ReportUnreadable as e:
        return _empty_row(head, "unreadable", e.reason)
    except OSError as e:
        return _empty_row(head, "unreadable", f"cannot read file: {e}")
    text = rep.text
    bounds = _mdna_bounds(text)
    if bounds is None:
        u, astral = _normalize_units(text)
        mdna: tuple = (None, None, False)
    else:
        # The section starts just before a line break and ends just after one; a line break is a starter that
        # never composes, so normalizing the three pieces separately gives exactly normalize(text) (and
        # exactly normalize(mdna_section(text)) for the middle piece).
        s, e = bounds
        (u0, a0), (u1, a1), (u2, a2) = (
            _normalize_units(text[:s]),
            _normalize_units(text[s:e]),
            _normalize_units(text[e:]),
        )
        u = np.concatenate((u0, u1, u2))
        astral = a0 or a1 or a2
        mdna = (u0.size, u0.size + u1.size, a1)
    return (*head, "ok", "", rep.n_pages, len(text), text, u.tobytes(), astral, *mdna)


def _extracted_frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=EXTRACTED_COLUMNS)
    if df.empty:  # keep the binary column typed so an empty shard's parquet has the same schema
        df["norm"] = pd.Series([], dtype=object)
    return df.astype(_EXTRACTED_DTYPES)


def _extract_rows(files: list[ReportFile], min_chars_per_page: int = MIN_CHARS_PER_PAGE) -> Iterator[tuple]:
    used, losers = resolve_versions(files)
    for f in files:
        yield _extract_row(
            f, losers.get(f.relpath), used.get(f.key) if f.key is not None else None, min_chars_per_page
        )


def extract_shard(
    files: Iterable[str | os.PathLike | ReportFile],
    root: str | os.PathLike | None = None,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
    min_chars_per_page: int = MIN_CHARS_PER_PAGE,
) -> pd.DataFrame:
    """Extract the text of every file of a shard: one row per file, sorted by ``file`` (EXTRACTED_COLUMNS).

    ``files``: :class:`ReportFile` s (from ``text_inventory.shard_inventory``) or paths; for paths, ``file`` is
    the path relative to ``root`` (default: the file name). Status: ``ok`` (``text`` holds the report text,
    ``n_chars`` its length, ``n_pages`` the PDF page count); ``unreadable`` (``reason`` says why; dangling
    symlinks, folders, 0-byte files, markup, too little text per page included); ``duplicate``,
    ``superseded``, ``excluded`` (another version of the firm-year is used, or none counts: see
    :func:`resolve_versions`; not extracted); ``bad_name`` (a .txt/.pdf whose name does not match the pattern,
    or whose qualifier is unknown); ``unsupported`` (another file type); ``skipped`` (hidden files). Every
    file has exactly one row. Never raises for a bad file.
    """
    return _extracted_frame(list(_extract_rows(_as_report_files(files, root, pattern), min_chars_per_page)))


def write_extracted(extracted: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write an extraction cache file atomically: zstd for the raw text (read only to re-derive), lz4 for
    ``norm`` (read by every counting run; lz4 decodes ~2x faster than zstd at ~1.5x the size)."""
    from intelcap.atomic import atomic_path

    compression = {c: ("lz4" if c == "norm" else "zstd") for c in extracted.columns}
    with atomic_path(path) as tmp:
        extracted.to_parquet(tmp, index=False, engine="pyarrow", compression=compression)


def read_extracted(path: str | os.PathLike, text: bool = False) -> pd.DataFrame:
    """An extraction cache file written by :func:`write_extracted`; without the raw ``text`` column unless
    ``text=True`` (counting needs only ``norm``, and skipping the text halves the read). ``norm`` values are
    read-only uint16 arrays here (``bytes`` in :func:`extract_shard`'s frame); :func:`count_extracted` takes
    both."""
    import pyarrow.parquet as pq

    cols = [c for c in EXTRACTED_COLUMNS if text or c != "text"]
    try:
        table = pq.read_table(path, columns=cols)
    except (OSError, ValueError, KeyError) as e:  # pyarrow raises ArrowInvalid (a ValueError) for bad columns
        raise InputError(
            f"cannot read the text extraction cache: {e}",
            file=str(path),
            hint="delete the file and rerun the text_extract rule",
        ) from e
    df = table.drop_columns(["norm"]).to_pandas()
    df["norm"] = _binary_views(table.column("norm"))
    return df[cols]


def _binary_views(column) -> list:
    """A pyarrow binary column as read-only uint16 views into its buffer (no copy, no bytes objects: half of
    the cost of reading a shard otherwise). Every value has an even length (UTF-16 code units)."""
    import pyarrow as pa

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(arr) == 0:
        return []
    if arr.type not in (pa.binary(), pa.large_binary()) or arr.null_count:
        return arr.to_pylist()  # not written by write_extracted; _count_row reads bytes as well
    _, off_buf, data_buf = arr.buffers()
    off = np.frombuffer(off_buf, dtype=np.int64 if arr.type == pa.large_binary() else np.int32)
    off = off[arr.offset : arr.offset + len(arr) + 1].tolist()
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    if data.ctypes.data % 2 or any(o % 2 for o in off):
        return arr.to_pylist()
    return [data[a:b].view(np.uint16) for a, b in zip(off[:-1], off[1:], strict=True)]


def _count_row(
    row: tuple, spec: KeywordSpec, section: str, substring: bool
) -> tuple[np.ndarray | None, tuple]:
    """Counts (or None) and the log row for one extraction row (file, Stkcd, year, status, reason, n_chars,
    n_pages, norm, astral, mdna_start, mdna_end, mdna_astral)."""
    file, stk, year, status, reason, n_chars, n_pages, norm, astral, m0, m1, m_astral = row
    if status != "ok":
        return None, (file, stk, year, status, reason, 0, None)
    u = norm if isinstance(norm, np.ndarray) else np.frombuffer(norm, dtype=np.uint16)
    if section == "mdna":
        if m0 is None or m0 is pd.NA:
            return None, (file, stk, year, "no_mdna", "no MD&A heading found", n_chars, n_pages)
        u, astral = u[int(m0) : int(m1)], bool(m_astral)
    c = spec._matcher.count_units(u, bool(astral), substring=substring)
    return c, (file, stk, year, "ok", "", n_chars, n_pages)


def _assemble_counts(
    spec: KeywordSpec, keys: list[tuple[str, int]], count_rows: list[np.ndarray], log_rows: list[tuple]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The long counts frame (one row per firm-year x keyword, sorted by Stkcd, year, dictionary order) and the
    report log (sorted by file), from one count vector per counted report and one log row per file."""
    kw = list(spec.keywords)
    n_k = len(kw)
    counts = pd.DataFrame(
        {
            "Stkcd": pd.array([k[0] for k in keys for _ in range(n_k)], dtype="string"),
            "year": np.repeat(np.array([k[1] for k in keys], dtype=np.int64), n_k),
            "category": pd.array([spec.category_of[k] for k in kw] * len(keys), dtype="string"),
            "keyword": pd.array(kw * len(keys), dtype="string"),
            "count": np.concatenate(count_rows).astype(np.int64) if count_rows else np.empty(0, np.int64),
        }
    )
    order = np.lexsort(
        (
            np.tile(np.arange(n_k), len(keys)),
            counts["year"].to_numpy(),
            counts["Stkcd"].to_numpy(dtype=object),
        )
    )
    counts = counts.iloc[order].reset_index(drop=True)
    log = pd.DataFrame(log_rows, columns=LOG_COLUMNS).astype(
        {
            "file": "string",
            "Stkcd": "string",
            "year": "Int64",
            "status": "string",
            "reason": "string",
            "n_chars": "int64",
            "n_pages": "Int64",
        }
    )
    log = log.sort_values("file", kind="stable").reset_index(drop=True)
    return counts, log


def _count_frames(
    rows: Iterable[tuple],
    spec: KeywordSpec,
    section: str | None,
    row_counter: Callable[[tuple, str, bool], tuple[np.ndarray | None, tuple]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    section = section or spec.section
    if section not in SECTIONS:
        raise InputError(f"section must be one of {SECTIONS}, got {section!r}")
    substring = spec.mode == "substring"
    log_rows: list[tuple] = []
    count_rows: list[np.ndarray] = []
    keys: list[tuple[str, int]] = []
    for row in rows:
        if row_counter is None:
            c, lrow = _count_row(row, spec, section, substring)
        else:
            c, lrow = row_counter(row, section, substring)
        log_rows.append(lrow)
        if c is not None:
            count_rows.append(c)
            keys.append((lrow[1], int(lrow[2])))
    return _assemble_counts(spec, keys, count_rows, log_rows)


_COUNT_INPUT = [
    "file",
    "Stkcd",
    "year",
    "status",
    "reason",
    "n_chars",
    "n_pages",
    "norm",
    "astral",
    "mdna_start",
    "mdna_end",
    "mdna_astral",
]


def count_extracted(
    extracted: pd.DataFrame, spec: KeywordSpec, section: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keyword counts and log from an extraction cache (:func:`extract_shard` / :func:`read_extracted`, one
    shard or several concatenated): the same ``(counts, log)`` as :func:`count_reports` on the same files,
    computed from the cached normalized text only (no report is opened)."""
    missing = [c for c in _COUNT_INPUT if c not in extracted.columns]
    if missing:
        raise InputError(
            f"text extraction cache lacks columns {missing}",
            hint="it was written by another version: delete results/text/extracted/ and rerun",
        )
    df = extracted[_COUNT_INPUT]
    cols = [df[c].tolist() for c in _COUNT_INPUT]
    return _count_frames(zip(*cols, strict=True), spec, section)


# Columns of the variant counts (text_count's ``variants`` output): per readable report, dictionary and keyword,
# the hits in the full report and in the MD&A section (NA without one), with and without the negation rule.
VARIANT_COLUMNS = [
    "Stkcd",
    "year",
    "dictionary",
    "category",
    "keyword",
    "full",
    "full_noneg",
    "mdna",
    "mdna_noneg",
]
# Per readable report: characters of the normalized text (whitespace deleted, what keywords are matched in)
# of the full report and of its MD&A section (NA without one): the denominators of intensity per 10,000.
CHARS_COLUMNS = ["Stkcd", "year", "chars_full", "chars_mdna"]
BASELINE = "baseline"  # the dictionary name of paths.keywords in the variant counts


@dataclass(frozen=True)
class TextCounts:
    """Everything ``text_count`` writes for one shard: ``counts`` and ``log`` exactly as
    :func:`count_extracted`, plus ``variants`` (VARIANT_COLUMNS) and ``chars`` (CHARS_COLUMNS)."""

    counts: pd.DataFrame
    log: pd.DataFrame
    variants: pd.DataFrame
    chars: pd.DataFrame


def _n_chars(u: np.ndarray, astral: bool) -> int:
    """Characters of normalized UTF-16 units (an astral character is a surrogate pair: two units, one char)."""
    if not astral:
        return int(u.size)
    return int(u.size - np.count_nonzero((u >= 0xDC00) & (u < 0xE000)))


def variant_specs(
    spec: KeywordSpec, dictionaries: Mapping[str, KeywordSpec] | None = None
) -> dict[str, KeywordSpec]:
    """``{"baseline": spec, name: ...}``: each alternative dictionary counted with ``spec``'s rules (negations,
    window, mode), so a dictionary variant differs from the baseline in its keywords only."""
    out = {BASELINE: spec}
    for name, alt in (dictionaries or {}).items():
        if name == BASELINE:
            raise InputError(
                f"dictionary variant name {BASELINE!r} is reserved for paths.keywords",
                hint="rename the entry of config key `text.variants.dictionaries`",
            )
        out[str(name)] = spec.replace(categories=dict(alt.categories))
    return out


def count_variants(
    extracted: pd.DataFrame,
    spec: KeywordSpec,
    dictionaries: Mapping[str, KeywordSpec] | None = None,
    section: str | None = None,
) -> TextCounts:
    """:func:`count_extracted` plus, in the same pass over the cached text, the counts of every Table 8
    variant: full report and MD&A section, with and without the negation rule, for ``spec`` and each
    alternative dictionary (:func:`variant_specs`), and the characters counted in (intensity per 10,000).

    One automaton scan per (dictionary, section) gives both negation settings (the rule only drops matches).
    ``counts``/``log`` equal :func:`count_extracted`'s (the baseline count is the same scan's result)."""
    missing = [c for c in _COUNT_INPUT if c not in extracted.columns]
    if missing:
        raise InputError(
            f"text extraction cache lacks columns {missing}",
            hint="it was written by another version: delete results/text/extracted/ and rerun",
        )
    specs = variant_specs(spec, dictionaries)
    scans: list[tuple[str, int, list]] = []  # (Stkcd, year, [(full pair, mdna pair | None) per dictionary])
    chars: list[tuple[str, int, int, int | None]] = []

    def counter(row: tuple, section: str, substring: bool) -> tuple[np.ndarray | None, tuple]:
        file, stk, year, status, reason, n_chars, n_pages, norm, astral, m0, m1, m_astral = row
        if status != "ok":
            return None, (file, stk, year, status, reason, 0, None)
        u = norm if isinstance(norm, np.ndarray) else np.frombuffer(norm, dtype=np.uint16)
        has_mdna = not (m0 is None or m0 is pd.NA)
        um = u[int(m0) : int(m1)] if has_mdna else None
        per = []
        for sp in specs.values():
            full = sp._matcher.count_units_pair(u, bool(astral), substring=substring)
            mdna = sp._matcher.count_units_pair(um, bool(m_astral), substring=substring) if has_mdna else None
            per.append((full, mdna))
        scans.append((stk, int(year), per))
        chars.append(
            (stk, int(year), _n_chars(u, bool(astral)), _n_chars(um, bool(m_astral)) if has_mdna else None)
        )
        if section == "mdna":
            if not has_mdna:
                return None, (file, stk, year, "no_mdna", "no MD&A heading found", n_chars, n_pages)
            return per[0][1][0], (file, stk, year, "ok", "", n_chars, n_pages)
        return per[0][0][0], (file, stk, year, "ok", "", n_chars, n_pages)

    df = extracted[_COUNT_INPUT]
    cols = [df[c].tolist() for c in _COUNT_INPUT]
    counts, log = _count_frames(zip(*cols, strict=True), spec, section, counter)
    return TextCounts(counts, log, _variant_frame(scans, specs), _chars_frame(chars))


def _variant_frame(scans: list[tuple[str, int, list]], specs: dict[str, KeywordSpec]) -> pd.DataFrame:
    kw = [k for sp in specs.values() for k in sp.keywords]
    dic = [n for n, sp in specs.items() for _ in sp.keywords]
    cat = [sp.category_of[k] for sp in specs.values() for k in sp.keywords]
    n_k, n_r = len(kw), len(scans)
    scans = sorted(scans, key=lambda r: (r[0], r[1]))  # one row per firm-year of a shard: a total order

    parts: list[list[np.ndarray]] = [[], [], [], [], []]  # full, full_noneg, mdna, mdna_noneg, mdna missing
    for _, _, per in scans:
        for (f_neg, f_raw), mdna in per:
            parts[0].append(f_neg)
            parts[1].append(f_raw)
            if mdna is None:
                parts[2].append(np.zeros(f_neg.size, np.int64))
                parts[3].append(np.zeros(f_neg.size, np.int64))
                parts[4].append(np.ones(f_neg.size, bool))
            else:
                parts[2].append(mdna[0])
                parts[3].append(mdna[1])
                parts[4].append(np.zeros(f_neg.size, bool))

    def cat_parts(i: int, dtype: type) -> np.ndarray:
        return np.concatenate(parts[i]).astype(dtype) if parts[i] else np.empty(0, dtype)

    out = pd.DataFrame(
        {
            "Stkcd": pd.array([s[0] for s in scans for _ in range(n_k)], dtype="string"),
            "year": np.repeat(np.array([s[1] for s in scans], dtype=np.int64), n_k),
            "dictionary": pd.array(dic * n_r, dtype="string"),
            "category": pd.array(cat * n_r, dtype="string"),
            "keyword": pd.array(kw * n_r, dtype="string"),
        }
    )
    missing = cat_parts(4, bool)
    out["full"], out["full_noneg"] = cat_parts(0, np.int64), cat_parts(1, np.int64)
    out["mdna"] = pd.arrays.IntegerArray(cat_parts(2, np.int64), missing.copy())
    out["mdna_noneg"] = pd.arrays.IntegerArray(cat_parts(3, np.int64), missing.copy())
    return out[VARIANT_COLUMNS]


def _chars_frame(chars: list[tuple]) -> pd.DataFrame:
    chars = sorted(chars, key=lambda r: (r[0], r[1]))
    return pd.DataFrame(
        {
            "Stkcd": pd.array([c[0] for c in chars], dtype="string"),
            "year": np.array([c[1] for c in chars], dtype=np.int64),
            "chars_full": np.array([c[2] for c in chars], dtype=np.int64),
            "chars_mdna": pd.array([c[3] for c in chars], dtype="Int64"),
        }
    )


def count_extracted_files(
    paths: Iterable[str | os.PathLike], spec: KeywordSpec, section: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`count_extracted` over several cache files, read one at a time (memory: one shard), concatenated
    and sorted like one call: what one ``text_count`` job over all shards needs."""
    parts = [count_extracted(read_extracted(p), spec, section) for p in paths]
    if not parts:
        return count_extracted(_extracted_frame([]), spec, section)
    counts = pd.concat([c for c, _ in parts], ignore_index=True)
    log = pd.concat([lg for _, lg in parts], ignore_index=True)
    counts = counts.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True)
    return counts, log.sort_values("file", kind="stable").reset_index(drop=True)


def count_reports(
    paths: Iterable[str | os.PathLike],
    spec: KeywordSpec,
    section: str | None = None,
    pattern: str | re.Pattern[str] | None = DEFAULT_PATTERN,
    min_chars_per_page: int = MIN_CHARS_PER_PAGE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count keywords in ``<Stkcd>_<year>.txt|pdf`` reports (extraction and counting in one pass, one report's
    text in memory at a time; the same code as :func:`extract_shard` + :func:`count_extracted`).

    Returns ``counts`` (Stkcd, year, category, keyword, count; every keyword of every readable report, zeros
    included, so a readable report without hits is distinguishable from a missing one) and ``log`` (file,
    Stkcd, year, status, reason, n_chars, n_pages). Status: ``ok``; ``bad_name`` (not <6 digits>_<year>);
    ``duplicate``/``superseded``/``excluded`` (several files for one firm-year: :func:`resolve_versions`
    picks one); ``unreadable`` (reason says why); ``unsupported``, ``skipped`` (see :func:`extract_shard`);
    ``no_mdna`` (section="mdna" and no MD&A heading). Only ``ok`` reports have count rows. ``file`` is the
    file name.
    """
    files = _as_report_files(paths, None, pattern)
    pick = [EXTRACTED_COLUMNS.index(c) for c in _COUNT_INPUT]
    return _count_frames(
        (tuple(r[i] for i in pick) for r in _extract_rows(files, min_chars_per_page)), spec, section
    )


def shard_reports(report_dir: str | os.PathLike, n_shards: int) -> list[list[Path]]:
    """Split the report folder into ``n_shards`` lists, round-robin over sorted file names (deterministic,
    and balanced by count). Superseded by ``text_inventory.shard_inventory`` (adding one report here moves
    every later file to another shard, and a .txt and .pdf of one firm-year can land apart). Hidden files (e.g. atomic-write temporaries) and folders are skipped; every other
    file is included so that bad names end up in the log."""
    if n_shards < 1:
        raise InputError(f"n_shards must be >= 1, got {n_shards}")
    report_dir = Path(report_dir)
    if not report_dir.is_dir():
        raise InputError(
            "report folder not found",
            file=str(report_dir),
            hint="put <Stkcd>_<year>.txt|pdf files in raw_dir/reports/",
        )
    files = sorted(
        (p for p in report_dir.iterdir() if p.is_file() and not p.name.startswith(".")), key=lambda p: p.name
    )
    return [files[i::n_shards] for i in range(n_shards)]


def text_index(counts: pd.DataFrame, log: pd.DataFrame) -> pd.DataFrame:
    """IM per readable report: Stkcd, year, IM = ln(1 + n_keywords), n_keywords (total hits), one column of
    hits per category (Table order). Reports not logged ``ok`` get no row: their IM is missing, never 0."""
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns] + [
        c for c in ("Stkcd", "year", "status") if c not in log.columns
    ]
    if missing:
        raise InputError(f"text_index: missing columns {missing}")
    ok = log.loc[log["status"] == "ok", ["Stkcd", "year"]].drop_duplicates()
    ok = ok.astype({"Stkcd": "string", "year": "int64"})
    cats = list(dict.fromkeys(counts["category"].tolist()))
    wide = (
        counts.astype({"Stkcd": "string", "year": "int64"})
        .pivot_table(index=["Stkcd", "year"], columns="category", values="count", aggfunc="sum", fill_value=0)
        .reindex(columns=cats, fill_value=0)
        .reset_index()
    )
    wide.columns.name = None
    out = ok.merge(wide, on=["Stkcd", "year"], how="left", validate="one_to_one")
    for c in cats:
        out[c] = out[c].fillna(0).astype("int64")
    out["n_keywords"] = out[cats].sum(axis=1).astype("int64") if cats else 0
    out["IM"] = np.log1p(out["n_keywords"].to_numpy(dtype=float))
    out = out[["Stkcd", "year", "IM", "n_keywords", *cats]]
    return out.sort_values(["Stkcd", "year"], kind="stable").reset_index(drop=True)
