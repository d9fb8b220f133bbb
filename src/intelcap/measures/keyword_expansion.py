"""Seed-word expansion of the keyword dictionary, reproducible (docs/methods.md#keyword-expansion).

The paper expanded seed words with the closed "WinGo 相似词数据库" (word vectors trained on annual reports).
This module does the same on the user's own corpus, deterministically:

1. ``segment_shard``: each cached report text (``norm`` of the extraction cache: NFKC, whitespace removed, the
   text the counter sees) is cut into sentences; dictionary terms are forced tokens (the counter's
   leftmost-longest matches, so every counted hit is one token), the spans between them go to the segmenter
   (rjieba, the jieba-rs binding: the same dictionary and HMM as jieba, ~10x faster; or jieba itself).
2. ``train_vectors``: gensim ``Phrases`` joins frequent bigrams of the spans between dictionary terms (a
   dictionary term is never merged into a phrase); gensim ``Word2Vec`` with one worker, a fixed seed and a
   hash function that does not depend on PYTHONHASHSEED, so the vectors are byte-identical run to run.
3. ``expand``: per category, the nearest words to the mean of its seeds' vectors (``topn``, ``min_similarity``)
   with corpus frequency, document frequency by year and three example contexts, for human curation.
4. ``curated_spec``: the dictionary defined by the curation decisions (config/keyword_curation.yaml) and the
   origin of every keyword (seed / paper / expanded / hand).
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap import yamlfile
from intelcap.errors import InputError
from intelcap.schema_params import schema_params

log = logging.getLogger("intelcap")

SEGMENTERS = ("rjieba", "jieba")
CORPORA = ("full", "mdna")
ORIGINS = ("seed", "paper", "expanded", "hand")
DECISIONS = ("accepted", "rejected", "added")
SEGMENTED_COLUMNS = ["Stkcd", "year", "file", "tokens"]  # tokens: " " between tokens, "\n" between sentences
_END_CHARS = frozenset("。！？；!?;")  # jieba and jieba-rs emit punctuation one character per token
_LETTER = re.compile(r"[^\W\d_]")  # a token with a letter (CJK or Latin) is a word; "，" or "2019" is not
CONTEXT_CHARS = 20  # characters each side of a word in an example context


# ------------------------------------------------------------------------------------------- segmentation


class Segmenter:
    """Sentences of tokens from normalized text; ``terms`` (the dictionary) are always single tokens."""

    def __init__(self, terms: Iterable[str], segmenter: str = "rjieba") -> None:
        import ahocorasick

        if segmenter not in SEGMENTERS:
            raise InputError(
                f"unknown segmenter {segmenter!r}", hint=f"set expansion.segmenter to one of {SEGMENTERS}"
            )
        self.name = segmenter
        self.terms = tuple(sorted({unicodedata.normalize("NFKC", t) for t in terms}))
        self._auto = ahocorasick.Automaton()
        for t in self.terms:
            self._auto.add_word(t, t)
        if self.terms:
            self._auto.make_automaton()
        if segmenter == "rjieba":
            import rjieba

            self._cut = rjieba.cut
        else:
            import jieba

            jieba.setLogLevel(60)
            self._cut = jieba.lcut

    def sentences(self, text: str) -> list[list[str]]:
        """Sentences (cut at 。！？；) of word tokens; punctuation and bare numbers are dropped.

        The whole text goes through the automaton once and each span between two dictionary terms through
        the segmenter once (jieba and jieba-rs cut at punctuation themselves, so this equals cutting sentence
        by sentence, with far fewer calls)."""
        out: list[list[str]] = []
        cur: list[str] = []

        def span(s: str) -> None:
            nonlocal cur
            for t in self._cut(s):
                # isalpha() is the C-level fast path for nearly every token; the sets/regex the rest
                if t.isalpha():
                    cur.append(t)
                elif t in _END_CHARS:
                    if cur:
                        out.append(cur)
                    cur = []
                elif _LETTER.search(t):
                    cur.append(t)

        pos = 0
        if self.terms:
            for end, term in self._auto.iter_long(text):
                start = end - len(term) + 1
                if start > pos:
                    span(text[pos:start])
                cur.append(term)
                pos = end + 1
        if pos < len(text):
            span(text[pos:])
        if cur:
            out.append(cur)
        return out


def _norm_text(norm: object) -> str:
    u = norm if isinstance(norm, np.ndarray) else np.frombuffer(norm, dtype=np.uint16)
    return u.tobytes().decode("utf-16-le", errors="surrogatepass")


def segment_shard(extracted: pd.DataFrame, seg: Segmenter, corpus: str = "full") -> pd.DataFrame:
    """One row per readable report of an extraction cache (``measures.text.read_extracted``): its tokens.

    ``corpus="mdna"`` keeps only the MD&A section (reports without one are left out: their count is logged)."""
    if corpus not in CORPORA:
        raise InputError(f"unknown corpus {corpus!r}", hint=f"set expansion.corpus to one of {CORPORA}")
    rows = []
    ok = extracted[extracted["status"] == "ok"]
    for stk, year, file, norm, m0, m1 in zip(
        ok["Stkcd"], ok["year"], ok["file"], ok["norm"], ok["mdna_start"], ok["mdna_end"], strict=True
    ):
        text = _norm_text(norm)
        if corpus == "mdna":
            if m0 is None or m0 is pd.NA:
                continue
            text = text[int(m0) : int(m1)]  # bounds are code units: exact unless astral characters precede
        sents = seg.sentences(text)
        rows.append((str(stk), int(year), str(file), "\n".join(" ".join(s) for s in sents)))
    out = pd.DataFrame(rows, columns=SEGMENTED_COLUMNS).astype(
        {"Stkcd": "string", "year": "int64", "file": "string", "tokens": "string"}
    )
    return out.sort_values(["Stkcd", "year", "file"], kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ training


# corpus and segmenter choose the text the vectors learn from (segment_reports), not how they are trained
_NOT_TRAINING = ("corpus", "segmenter")


@schema_params("expansion", exclude=_NOT_TRAINING)
class TrainParams:
    """Word2Vec and Phrases settings: the keys of config block ``expansion`` but corpus and segmenter, with
    the schema's defaults (schemas/config.schema.yaml). A frozen dataclass built by `intelcap.schema_params`."""

    @classmethod
    def from_config(cls, c: Mapping) -> TrainParams:
        """From config block ``expansion``; a key that is neither a field nor corpus/segmenter raises."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(c) - known - set(_NOT_TRAINING))
        if extra:
            raise InputError(
                f"unknown expansion settings {extra}", hint=f"config block `expansion` knows {sorted(known)}"
            )
        return cls(**{k: c[k] for k in known if k in c})


def stable_hash(s: str) -> int:
    """The hash gensim seeds word vectors with: CRC32, the same in every process (Python's ``hash`` of a str
    changes with PYTHONHASHSEED)."""
    return zlib.crc32(s.encode("utf-8"))


READ_BATCH = 8  # reports decoded at a time: a whole shard's table took ~3 MB per real-size report


def _segmented_batches(path: str | os.PathLike) -> Iterator[dict[str, list]]:
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
    for b in f.iter_batches(batch_size=READ_BATCH, columns=["Stkcd", "year", "tokens"]):
        yield b.to_pydict()


def read_segmented(paths: Sequence[str | os.PathLike]) -> Iterator[tuple[str, int, list[list[str]]]]:
    """(Stkcd, year, sentences) of every report of the segmented shards, in shard order; a few reports in
    memory at a time."""
    for p in paths:
        for t in _segmented_batches(p):
            for stk, year, toks in zip(t["Stkcd"], t["year"], t["tokens"], strict=True):
                yield stk, int(year), [s.split(" ") for s in toks.split("\n") if s]


class _Corpus:
    """A restartable stream of sentences (Word2Vec passes over the corpus once per epoch, plus the vocabulary
    scan): shards are read again each pass, so memory holds one shard, not the corpus."""

    def __init__(self, paths: Sequence[str | os.PathLike], protected: frozenset[str], phrases=None) -> None:
        self.paths, self.protected, self.phrases = list(paths), protected, phrases

    def chunks(self) -> Iterator[list[str]]:
        # runs of tokens between dictionary terms: what Phrases learns from (a term never joins a phrase)
        for _, _, sents in read_segmented(self.paths):
            for s in sents:
                run: list[str] = []
                for t in s:
                    if t in self.protected:
                        if run:
                            yield run
                        run = []
                    else:
                        run.append(t)
                if run:
                    yield run

    def phrased(self, s: list[str]) -> list[str]:
        if self.phrases is None:
            return s
        out: list[str] = []
        run: list[str] = []
        for t in s:
            if t in self.protected:
                out.extend(self.phrases[run] if run else [])
                out.append(t)
                run = []
            else:
                run.append(t)
        out.extend(self.phrases[run] if run else [])
        return out

    def documents(self) -> Iterator[tuple[str, int, list[list[str]]]]:
        for stk, year, sents in read_segmented(self.paths):
            yield stk, year, [self.phrased(s) for s in sents]

    def spool(self) -> None:
        """Phrase every shard once into a temporary folder (TMPDIR; the segmented shards' layout, ~their size)
        and read those from then on: Phrases runs in Python per token, and the vocabulary scan, every epoch
        and the statistics would each repeat it; the sentences, hence the vectors, are the same."""
        import tempfile

        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.phrases is None:
            return
        self._spool = tempfile.TemporaryDirectory(prefix="intelcap_phrased_")  # removed with the corpus
        spooled = []
        schema = pa.schema([("Stkcd", pa.string()), ("year", pa.int64()), ("tokens", pa.string())])
        for i, p in enumerate(self.paths):
            spooled.append(Path(self._spool.name) / f"phrased_{i}.parquet")
            with pq.ParquetWriter(spooled[-1], schema, compression="zstd") as w:
                for t in _segmented_batches(p):
                    t["tokens"] = [
                        "\n".join(" ".join(self.phrased(s.split(" "))) for s in doc.split("\n") if s)
                        for doc in t["tokens"]
                    ]
                    w.write_table(pa.table(t, schema=schema))
        self.paths, self.phrases = spooled, None

    def __iter__(self) -> Iterator[list[str]]:
        for _, _, sents in self.documents():
            yield from sents


class _Chunks:
    def __init__(self, corpus: _Corpus) -> None:
        self.corpus = corpus

    def __iter__(self) -> Iterator[list[str]]:
        return self.corpus.chunks()


def train_vectors(paths: Sequence[str | os.PathLike], terms: Iterable[str], params: TrainParams):
    """Phrases + Word2Vec on the segmented shards, deterministic; returns (KeyedVectors, corpus stream)."""
    from gensim.models import Word2Vec
    from gensim.models.phrases import Phrases

    protected = frozenset(unicodedata.normalize("NFKC", t) for t in terms)
    corpus = _Corpus(paths, protected)
    if params.phrases_threshold > 0:
        ph = Phrases(
            _Chunks(corpus),
            min_count=params.phrases_min_count,
            threshold=params.phrases_threshold,
            delimiter="_",
        )
        corpus.phrases = ph.freeze()
        corpus.spool()
    model = Word2Vec(
        vector_size=params.vector_size,
        window=params.window,
        min_count=params.min_count,
        sg=params.sg,
        negative=params.negative,
        sample=params.sample,
        seed=params.seed,
        workers=1,  # one worker: the update order, hence the vectors, is fixed
        hashfxn=stable_hash,
    )
    model.build_vocab(corpus)
    if not len(model.wv):
        raise InputError(
            f"no word occurs {params.min_count} times in the segmented corpus",
            hint="lower expansion.min_count, or use a larger corpus (expansion.corpus: full)",
        )
    model.train(corpus, total_examples=model.corpus_count, epochs=params.epochs)
    return model.wv, corpus


def corpus_stats(corpus: _Corpus, vocab: Iterable[str]) -> pd.DataFrame:
    """Per word of ``vocab``: corpus frequency, document frequency by year and its first three contexts."""
    vocab = set(vocab)
    freq: dict[str, int] = {}
    df: dict[tuple[str, int], int] = {}
    ctx: dict[str, list[str]] = {}
    for _, year, sents in corpus.documents():
        seen: set[str] = set()
        for s in sents:
            joined = None
            for i, t in enumerate(s):
                if t not in vocab:
                    continue
                freq[t] = freq.get(t, 0) + 1
                seen.add(t)
                c = ctx.setdefault(t, [])
                if len(c) < 3:
                    joined = joined if joined is not None else [len(x.replace("_", "")) for x in s]
                    a = sum(joined[:i])
                    line = "".join(x.replace("_", "") for x in s)
                    b = a + joined[i]
                    c.append(
                        line[max(0, a - CONTEXT_CHARS) : a]
                        + "【"
                        + line[a:b]
                        + "】"
                        + line[b : b + CONTEXT_CHARS]
                    )
        for t in seen:
            df[(t, year)] = df.get((t, year), 0) + 1
    years = sorted({y for _, y in df})
    rows = []
    for t in sorted(freq):
        c = ctx[t] + [""] * (3 - len(ctx[t]))
        rows.append((t, freq[t], *(df.get((t, y), 0) for y in years), *c))
    cols = ["word", "frequency", *(f"df_{y}" for y in years), "context_1", "context_2", "context_3"]
    return pd.DataFrame(rows, columns=cols)


def write_vectors(kv, path: str | os.PathLike) -> None:
    """word2vec binary format (no pickle, no timestamps: the same vectors give the same bytes)."""
    from intelcap.atomic import atomic_path

    with atomic_path(path) as tmp:
        kv.save_word2vec_format(str(tmp), binary=True)


def read_vectors(path: str | os.PathLike):
    from gensim.models import KeyedVectors

    try:
        return KeyedVectors.load_word2vec_format(str(path), binary=True)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise InputError(
            f"cannot read the word vectors: {e}", file=str(path), hint="rerun rule keyword_vectors"
        ) from e


# ----------------------------------------------------------------------------------------------- seeds


@dataclass(frozen=True)
class Seeds:
    categories: dict[str, tuple[str, ...]]
    topn: int = 50
    min_similarity: float = 0.0
    recall_k: tuple[int, ...] = (5, 10, 20, 50)


def load_seeds(path: str | os.PathLike) -> Seeds:
    """config/keyword_seeds.yaml: ``categories: {category: [seed, ...]}``, ``topn``, ``min_similarity``."""
    where = str(path)
    raw = _yaml(path, "paths.keyword_seeds")
    from intelcap.measures.text import word_categories

    out = word_categories(
        raw.get("categories"),
        where,
        "seed",
        "{设备及工具: [机器人]}",
        "a seed is looked up as one token of the segmented corpus, which holds no whitespace",
        list_hint="give 1-2 seed words per category",
    )
    topn = raw.get("topn", 50)
    if not isinstance(topn, int) or isinstance(topn, bool) or topn < 1:
        raise InputError(f"'topn' must be an integer >= 1, got {topn!r}", file=where)
    ms = raw.get("min_similarity", 0.0)
    if not isinstance(ms, int | float) or isinstance(ms, bool) or not -1 <= ms <= 1:
        raise InputError(f"'min_similarity' must be a number in [-1, 1], got {ms!r}", file=where)
    ks = raw.get("recall_k", [5, 10, 20, 50])
    if (
        not isinstance(ks, list)
        or not ks
        or any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in ks)
    ):
        raise InputError(f"'recall_k' must be a list of integers >= 1, got {ks!r}", file=where)
    return Seeds(out, topn=topn, min_similarity=float(ms), recall_k=tuple(sorted(set(ks))))


def _yaml(path: str | os.PathLike, key: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=str(p), hint=f"set config key `{key}`")
    raw = yamlfile.read_file(p, "the file", f"fix the file or config key `{key}`")
    if not isinstance(raw, dict):
        raise InputError("must be a YAML mapping", file=str(p), hint=f"config key `{key}`")
    return raw


# ---------------------------------------------------------------------------------------------- expansion

CANDIDATE_COLUMNS = ["category", "rank", "candidate", "similarity", "in_dictionary", "decision"]


def expand(
    kv,
    seeds: Seeds,
    stats: pd.DataFrame,
    dictionary: Mapping[str, str] | None = None,
    decisions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Per category, the ``topn`` words nearest to the mean of its seed vectors (cosine, seeds excluded), with
    similarity >= ``min_similarity``, joined with their corpus statistics. ``dictionary`` maps a word to its
    category in the counting dictionary (column ``in_dictionary``), ``decisions`` a word to its curation
    decision (column ``decision``), so a curator sees what is already decided."""
    dictionary = dictionary or {}
    decisions = decisions or {}
    missing = [(c, s) for c, ss in seeds.categories.items() for s in ss if s not in kv.key_to_index]
    lost = [c for c, ss in seeds.categories.items() if all((c, s) in missing for s in ss)]
    if lost:
        raise InputError(
            "no seed word of "
            + ", ".join(lost)
            + " is in the word-vector vocabulary (missing: "
            + ", ".join(f"{s} ({c})" for c, s in missing)
            + ")",
            hint="pick seeds that occur >= expansion.min_count times in the corpus, or add them to the "
            "dictionary file (paths.keywords) so the segmenter keeps them whole",
        )
    for c, s in missing:  # the category still has a seed: expand from it, and say so
        log.warning(
            "seed %s (%s) is not in the word-vector vocabulary: expanding %s from its other seeds", s, c, c
        )
    seeds = Seeds(
        {c: tuple(s for s in ss if (c, s) not in missing) for c, ss in seeds.categories.items()},
        seeds.topn,
        seeds.min_similarity,
        seeds.recall_k,
    )
    all_seeds = {s for ss in seeds.categories.values() for s in ss}
    rows = []
    for cat, ss in seeds.categories.items():
        # one more than topn per other seed: other categories' seeds are not candidates
        sims = kv.most_similar(positive=list(ss), topn=seeds.topn + len(all_seeds))
        rank = 0
        for w, sim in sims:
            if w in all_seeds or sim < seeds.min_similarity:
                continue
            rank += 1
            if rank > seeds.topn:
                break
            rows.append((cat, rank, w, round(float(sim), 6), dictionary.get(w, ""), decisions.get(w, "")))
    out = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
    out = out.merge(stats.rename(columns={"word": "candidate"}), on="candidate", how="left", validate="m:1")
    return out


def recall_at_k(candidates: pd.DataFrame, truth: Mapping[str, Sequence[str]], seeds: Seeds) -> pd.DataFrame:
    """Per category and k: the share of the category's ``truth`` words (seeds excluded) among its first k
    candidates (phrases are compared with the "_" removed)."""
    rows = []
    for cat, ss in seeds.categories.items():
        target = [w for w in truth.get(cat, ()) if w not in ss]
        got = candidates[candidates["category"] == cat].sort_values("rank")["candidate"].str.replace("_", "")
        for k in seeds.recall_k:
            top = set(got.head(k))
            hit = sum(w in top for w in target)
            rows.append((cat, k, len(target), hit, hit / len(target) if target else float("nan")))
    return pd.DataFrame(rows, columns=["category", "k", "n_truth", "found", "recall"])


# ------------------------------------------------------------------------------------------------ curation


@dataclass(frozen=True)
class Curation:
    base: str  # "paper": start from the paper's list (paths.keywords); "none": seeds + accepted + added only
    decisions: tuple[tuple[str, str, str, str, int], ...]  # keyword, decision, category, note, line


def load_curation(path: str | os.PathLike) -> Curation:
    """config/keyword_curation.yaml: ``base`` and ``decisions`` (keyword, decision, category, note)."""
    where = str(path)
    text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
    raw = _yaml(path, "paths.keyword_curation")
    base = raw.get("base", "paper")
    if base not in ("paper", "none"):
        raise InputError(f"'base' must be 'paper' or 'none', got {base!r}", file=where)
    items = raw.get("decisions") or []
    if not isinstance(items, list):
        raise InputError("'decisions' must be a list", file=where)
    lines = (text or "").splitlines()
    out = []
    seen: dict[str, int] = {}
    for i, d in enumerate(items):
        kw = (
            unicodedata.normalize("NFKC", str((d or {}).get("keyword", "")).strip())
            if isinstance(d, dict)
            else ""
        )
        line = next((n + 1 for n, ln in enumerate(lines) if kw and kw in ln), 0)
        at = f"decision {i + 1}" + (f" (line {line})" if line else "")
        if not isinstance(d, dict) or not kw:
            raise InputError(
                f"{at}: needs a 'keyword'", file=where, hint="- {keyword: 智能制造, decision: accepted, ...}"
            )
        dec = d.get("decision")
        if dec not in DECISIONS:
            raise InputError(f"{at} ({kw}): 'decision' must be one of {DECISIONS}, got {dec!r}", file=where)
        note = str(d.get("note") or "").strip()
        if not note:
            raise InputError(f"{at} ({kw}): every decision needs a 'note' (why)", file=where)
        cat = str(d.get("category") or "")
        if dec != "rejected" and not cat:
            raise InputError(f"{at} ({kw}): an {dec} keyword needs its 'category'", file=where)
        if kw in seen:
            raise InputError(
                f"{at}: {kw!r} already decided in decision {seen[kw]}",
                file=where,
                hint="one decision per keyword",
            )
        seen[kw] = i + 1
        out.append((kw, dec, cat, note, line))
    return Curation(base, tuple(out))


def curated_spec(paper, seeds: Seeds, curation: Curation, where: str = "config/keyword_curation.yaml"):
    """The curated dictionary and the origin of each keyword: seeds, the paper's list (``base: paper``),
    accepted candidates (expanded) and hand additions, minus rejected words. ``paper`` is the loaded
    ``KeywordSpec`` of paths.keywords; its counting options (negations, mode, section) are kept."""
    cats: dict[str, list[str]] = {}
    origin: dict[str, str] = {}

    def put(cat: str, kw: str, org: str) -> None:
        if kw in origin:
            return
        cats.setdefault(cat, []).append(kw)
        origin[kw] = org

    for cat, ss in seeds.categories.items():
        for s in ss:
            put(cat, s, "seed")
    if curation.base == "paper":
        for cat, ks in paper.categories.items():
            for k in ks:
                put(cat, k, "paper")
    known = set(paper.categories) | set(seeds.categories)
    for kw, dec, cat, _note, line in curation.decisions:
        if dec == "rejected":
            continue
        if cat not in known:
            raise InputError(
                f"{kw}: unknown category {cat!r}" + (f" (line {line})" if line else ""),
                file=where,
                hint=f"use one of {sorted(known)}",
            )
        put(cat, kw, "expanded" if dec == "accepted" else "hand")
    rejected = {kw for kw, dec, *_ in curation.decisions if dec == "rejected"}
    order = [c for c in paper.categories if c in cats] + [c for c in cats if c not in paper.categories]
    final = {c: [k for k in cats[c] if k not in rejected] for c in order}
    empty = [c for c, ks in final.items() if not ks]
    if empty:
        raise InputError(
            f"curation rejects every keyword of {empty}", file=where, hint="keep one keyword per category"
        )
    spec = paper.replace(categories={c: list(ks) for c, ks in final.items()})
    return spec, {k: origin[k] for ks in final.values() for k in ks}


def dictionary_spec(dictionary: str, keywords_path, seeds_path=None, curation_path=None):
    """The counting dictionary of config key ``text.dictionary``: ``paper`` (paths.keywords, every origin
    "paper") or ``curated`` (:func:`curated_spec`)."""
    from intelcap.measures.text import load_keywords

    paper = load_keywords(keywords_path)
    if dictionary == "paper":
        return paper, dict.fromkeys(paper.keywords, "paper")
    if dictionary != "curated":
        raise InputError(f"unknown dictionary {dictionary!r}", hint="set text.dictionary to paper or curated")
    return curated_spec(paper, load_seeds(seeds_path), load_curation(curation_path), str(curation_path))
