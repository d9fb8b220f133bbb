"""Planted category contexts for the synthetic reports: what makes the seed-word expansion testable.

Word vectors put two words close when they occur in the same contexts. The ordinary planting frames of
``synthetic.reports`` are shared by every keyword, so they carry no category signal. Here every category of the
dictionary gets its own context words (four "left" and four "right" words, disjoint across categories), and a
planted sentence is ``<left><k1>、<k2><right>。`` with two different keywords of one category. Keywords of a
category then share their contexts and each other, and word2vec trained on such a corpus puts them next to
the category's seeds (docs/methods.md#keyword-expansion).

Exact counts: the context words share no character with any keyword or negation character (checked by
``_check_context_words``), sentences end in ``。``, so every planted keyword is one leftmost-longest match and
:func:`planted_block` returns exactly what a correct counter finds in the block.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

# Context words per category position (the dictionary's category order): left words, right words. Chosen from
# characters that occur in no Table 7 keyword and in no negation character, and not from the filler vocabulary
# (a filler word would carry every category's signal).
CONTEXT_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("贯彻", "对接", "号召", "宏观"), ("纲要", "部署", "文件", "引导")),
    (("转型", "升级", "演进", "路径"), ("方向", "特征", "研判", "规范")),
    (("迭代", "攻关", "突破", "研究"), ("硬件", "软件", "仿真", "论文")),
    (("调试", "维护", "维修", "保养"), ("精度", "故障", "替换", "调校")),
    (("场景", "布局", "赛道", "延伸"), ("示范", "试点", "推广", "领域")),
)
SEPARATOR = "、"
END = "。"


def context_chars() -> str:
    """Every character a planted context sentence holds besides keywords (for the synthetic PDFs' font)."""
    return "".join(sorted(set("".join(w for lr in CONTEXT_WORDS for side in lr for w in side)) | set("、。")))


@lru_cache(maxsize=4)
def _check_context_words(keywords: tuple[str, ...], n_categories: int) -> None:
    if n_categories > len(CONTEXT_WORDS):
        raise ValueError(
            f"planted contexts are defined for {len(CONTEXT_WORDS)} categories, the dictionary has {n_categories}"
        )
    forbidden = set("".join(unicodedata.normalize("NFKC", k) for k in keywords)) | set("没无不")
    bad = set(context_chars()) & forbidden
    if bad:
        raise AssertionError(f"context words share characters {sorted(bad)} with keywords or negations")


def planted_block(
    categories: Mapping[str, Sequence[str]], n_sentences: int, rng: np.random.Generator
) -> tuple[str, dict[str, int]]:
    """``n_sentences`` planted context sentences (one paragraph per line) and the keyword counts they hold.

    A sentence draws a category uniformly, its left and right context words, and two different keywords of
    that category (one if the category has one); the counts are exact (see the module docstring)."""
    cats = list(categories)
    _check_context_words(tuple(k for c in cats for k in categories[c]), len(cats))
    counts: dict[str, int] = {}
    if n_sentences <= 0:
        return "", counts
    ci = rng.integers(0, len(cats), size=n_sentences)
    lr = rng.integers(0, 4, size=(n_sentences, 2))
    picks = rng.random((n_sentences, 2))
    lines: list[str] = []
    for i in range(n_sentences):
        words = list(categories[cats[ci[i]]])
        left, right = CONTEXT_WORDS[ci[i]]
        a = int(picks[i, 0] * len(words))
        if len(words) > 1:  # a second, different keyword
            b = (a + 1 + int(picks[i, 1] * (len(words) - 1))) % len(words)
            pair = [words[a], words[b]]
        else:
            pair = [words[a]]
        for k in pair:
            counts[k] = counts.get(k, 0) + 1
        lines.append(left[lr[i, 0]] + SEPARATOR.join(pair) + right[lr[i, 1]] + END)
    return "\n".join(lines), dict(sorted(counts.items()))
