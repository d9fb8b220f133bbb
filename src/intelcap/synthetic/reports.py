"""Synthetic Chinese annual reports with known ("planted") keyword counts, as .txt (UTF-8 / UTF-8-BOM /
GB18030) or as real text-layer PDFs, plus broken files (corrupt, encrypted, textless, empty) for tests.

Why the counts are exact by construction: the filler vocabulary and every template shares NO character with
any keyword (nor with the negation characters 没/无/不, except in the negation traps themselves). A keyword
match can therefore never start, end or straddle inside filler, and two planted tokens are always separated by
filler, so leftmost-longest matching of the text finds exactly the planted tokens. `_check_vocabulary` asserts
this at import time; tests/test_text.py asserts it again.

Traps (``traps=True``), all of which a correct counter must handle:
- nested terms planted side by side (工业机器人 and 机器人, 移动互联网 and 互联网, 信息化管理 and 信息化, ...);
- negated mentions ("公司不涉及大数据", "没有…", "无…") that must NOT count; they are extra text;
- a distant negation ("不断加强…", three characters between 不 and the keyword) that MUST count;
- full-width spellings (工业４.０, 互联网＋, 中国制造２０２５, ３Ｄ打印) that count after NFKC;
- keywords split by a line break, a space or a full-width space (人工\\n智能), as PDF extraction produces.
"""

from __future__ import annotations

import ctypes
import functools
import io
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from intelcap.atomic import atomic_path, write_bytes
from intelcap.synthetic import keyword_contexts

# Filler words: characters disjoint from the keyword dictionary and from 没/无/不 (checked below).
VOCAB: tuple[str, ...] = (
    "公司",
    "本公司",
    "董事会",
    "监事会",
    "报告期内",
    "本年度",
    "上年同期",
    "收入",
    "净利润",
    "毛利率",
    "货币资金",
    "投资",
    "项目",
    "资金",
    "客户",
    "产品",
    "销售",
    "采购",
    "安全",
    "环保",
    "薪酬",
    "培训",
    "增长",
    "下降",
    "保持",
    "稳定",
    "提升",
    "改善",
    "加强",
    "完善",
    "推进",
    "开展",
    "坚持",
    "围绕",
    "巩固",
    "拓展",
    "调整",
    "审议",
    "披露",
    "批准",
    "同意",
    "履行",
    "承担",
    "遵守",
    "原材料",
    "价格",
    "风险",
    "竞争",
    "汇率",
    "税收",
    "优惠",
    "补贴",
    "法规",
    "规定",
    "要求",
    "标准",
    "程序",
    "内部",
    "外部",
    "主营",
    "份额",
    "品牌",
    "渠道",
    "研发",
    "专利",
    "团队",
    "组织",
    "架构",
    "章程",
    "会议",
    "决议",
    "议案",
    "股份",
    "股票",
    "债券",
    "方案",
    "预案",
    "每股",
    "同比",
    "环比",
    "较上年",
    "银行",
    "借款",
    "贷款",
    "担保",
    "抵押",
    "租赁",
    "变更",
    "差错",
    "减值",
    "折旧",
    "摊销",
    "资产",
    "负债",
    "权益",
    "所有者",
    "母公司",
    "厂房",
    "基地",
    "产线",
    "开发",
    "测试",
    "检测",
    "认证",
    "订单",
    "合同",
    "协议",
    "签订",
    "履约",
    "验收",
    "回款",
    "账期",
    "周转",
    "效率",
    "效益",
    "年初",
    "年末",
    "期初",
    "期末",
    "季度",
    "月份",
    "上半年",
    "下半年",
    "全年",
    "近年",
    "今后",
    "未来",
    "目标",
    "展望",
    "规划",
    "战略",
    "方针",
    "措施",
    "举措",
    "保障",
    "支持",
    "配合",
    "协调",
)
# Sentence frames; {a} {b} {c} are filler words, {p} a percentage. Only filler-safe characters.
FRAMES: tuple[str, ...] = (
    "报告期内，{a}{b}同比增长{p}%，{c}保持稳定。",
    "{a}围绕{b}目标，持续推进{c}。",
    "本年度{a}较上年下降{p}%，主要由于{b}{c}调整。",
    "{a}严格遵守{b}规定，履行{c}程序。",
    "董事会审议并批准了{a}{b}议案，同意{c}方案。",
    "{a}与{b}签订协议，{c}回款情况良好。",
    "未来{a}将坚持{b}战略，巩固{c}份额。",
    "{a}{b}约为{p}亿元，占{c}的比例为{p}%。",
)
# Planting frames for a keyword token {k}; filler-safe around it.
PLANT_FRAMES: tuple[str, ...] = (
    "报告期内，公司围绕{k}开展研发。",
    "公司在{k}方面增加投资，效益良好。",
    "{k}相关项目进展顺利。",
    "公司持续推进{k}，提升效率。",
    "本年度{k}收入同比增长。",
)
# A negation three characters before the keyword ("不断" = "continuously") is beyond neg_window=2: it COUNTS.
FAR_NEGATION_FRAME = "公司不断加强{k}投入。"
# Negated mentions: the negation is 0-2 characters before the keyword, so these must NOT count.
NEGATED_FRAMES: tuple[str, ...] = (
    "公司不涉及{k}。",
    "本年度没有{k}项目。",
    "公司无{k}相关收入。",
)
HEADINGS_BEFORE = ("第一节 重要提示、目录和释义", "第二节 公司简介和主要财务指标")
MDNA_HEADING = "第四节 管理层讨论与分析"
HEADINGS_AFTER = ("第五节 重要事项", "第六节 股份变动及股东情况")
NEGATION_CHARS = "没无不"

# Width variants NFKC folds back (the counter must see them as the keyword).
FULLWIDTH = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789.+D"})
_COMPANY_PREFIX = ("华", "东", "南", "北", "泰", "恒", "鑫", "瑞", "嘉", "宏", "远", "康", "和", "达")


@functools.lru_cache(maxsize=1)
def _default_keywords() -> tuple[str, ...]:
    from intelcap.measures.text import load_keywords

    return tuple(load_keywords().keywords)


@functools.lru_cache(maxsize=1)
def _categories() -> dict[str, tuple[str, ...]]:
    from intelcap.measures.text import load_keywords

    return dict(load_keywords().categories)


def default_keywords() -> list[str]:
    """The 55 keywords of config/keywords.yaml (read once per process; imported lazily)."""
    return list(_default_keywords())


def vocabulary_chars() -> str:
    """Every character the synthetic reports can contain besides keywords (for the bundled font subset)."""
    chars = set("".join(VOCAB) + "".join(FRAMES) + "".join(PLANT_FRAMES) + "".join(NEGATED_FRAMES))
    chars |= set(FAR_NEGATION_FRAME + "".join(HEADINGS_BEFORE + HEADINGS_AFTER) + MDNA_HEADING)
    chars |= set("股份有限公司年度报告目录0123456789.%，。、：；（）" + "".join(_COMPANY_PREFIX))
    chars |= set("０１２３４５６７８９．＋Ｄ　")
    chars |= set(keyword_contexts.context_chars())
    return "".join(sorted(chars - {"{", "}"}))


@lru_cache(maxsize=4)
def _check_vocabulary(keywords: tuple[str, ...]) -> None:
    """Assert the construction premise: filler text shares no character with any keyword or negation."""
    forbidden = set("".join(unicodedata.normalize("NFKC", k) for k in keywords))
    safe_texts = [*VOCAB, *FRAMES, *PLANT_FRAMES, *_COMPANY_PREFIX]
    for t in safe_texts:
        bad = (set(t.replace("{k}", "")) & forbidden) | (set(t) & set(NEGATION_CHARS))
        if bad:
            raise AssertionError(f"filler {t!r} contains keyword/negation characters {sorted(bad)}")
    for t in (*NEGATED_FRAMES, FAR_NEGATION_FRAME):
        bad = set(t.replace("{k}", "")) & forbidden
        if bad:
            raise AssertionError(f"trap frame {t!r} contains keyword characters {sorted(bad)}")


@dataclass
class WrittenReport:
    """What write_report put into a file: planted counts for the whole report and for its MD&A section."""

    path: Path
    full: dict[str, int]
    mdna: dict[str, int]
    n_chars: int = 0
    negated: dict[str, int] = field(default_factory=dict)  # extra negated mentions (must not count)
    n_pages: int | None = None  # pages of a real-size report (its PDF has exactly these)


class _Fillers:
    """Filler sentences drawn in blocks (about one report's worth): three vectorised draws per block instead
    of four generator calls per sentence (the default panel's reports hold ~200k filler sentences)."""

    def __init__(self, rng: np.random.Generator, block: int) -> None:
        self.rng = rng
        self.block = max(4, block)
        self.buf: list[str] = []

    def __call__(self) -> str:
        if not self.buf:
            n, rng = self.block, self.rng
            frames = rng.integers(0, len(FRAMES), size=n)
            words = rng.integers(0, len(VOCAB), size=(n, 3))
            pct = rng.uniform(0.5, 60, size=n)
            self.buf = [
                FRAMES[f].format(a=VOCAB[w[0]], b=VOCAB[w[1]], c=VOCAB[w[2]], p=f"{q:.1f}")
                for f, w, q in zip(frames.tolist(), words.tolist(), pct.tolist(), strict=True)
            ][::-1]
        return self.buf.pop()


def _variant(kw: str, rng: np.random.Generator, traps: bool) -> str:
    """A spelling of ``kw`` that normalizes back to ``kw``: full-width digits/+, or a split by whitespace."""
    if not traps:
        return kw
    u = rng.random()
    if u < 0.5 and any(c in kw for c in "0123456789.+D"):
        return kw.translate(FULLWIDTH)
    if u < 0.8 and len(kw) >= 2:
        cut = int(rng.integers(1, len(kw)))
        sep = ("\n", " ", "\u3000", "\r\n")[rng.integers(4)]
        return kw[:cut] + sep + kw[cut:]
    return kw


def _paragraphs(items: list[str], rng: np.random.Generator, fill: _Fillers) -> list[str]:
    """``items`` shuffled into paragraphs of 1-4 sentences; a paragraph starts with a filler sentence so
    headings (and page breaks, in real-size reports) never touch keywords."""
    order = rng.permutation(len(items))
    lines: list[str] = []
    para: list[str] = [fill()]
    breaks = rng.random(len(order)) < 0.3
    for i, brk in zip(order, breaks, strict=True):
        para.append(items[i])
        if brk:
            lines.append("".join(para))
            para = [fill()]
    lines.append("".join(para))
    return lines


def _section_items(
    tokens: list[str],
    rng: np.random.Generator,
    n_filler: int,
    traps: bool,
    negated: list[str],
    fill: _Fillers,
) -> list[str]:
    """The sentences of a section before shuffling: filler, planted tokens in frames, negated traps."""
    items: list[str] = [fill() for _ in range(n_filler)]
    for kw in tokens:
        if traps and rng.random() < 0.1:
            items.append(FAR_NEGATION_FRAME.format(k=_variant(kw, rng, traps)))
        else:
            items.append(PLANT_FRAMES[rng.integers(len(PLANT_FRAMES))].format(k=_variant(kw, rng, traps)))
    for kw in negated:
        items.append(NEGATED_FRAMES[rng.integers(len(NEGATED_FRAMES))].format(k=kw))
    return items


def _mdna_counts_and_negations(
    tokens: list[str],
    where: np.ndarray,
    planted: dict,
    keywords: list[str] | tuple[str, ...],
    traps: bool,
    rng,
) -> tuple[dict[str, int], list[str]]:
    """Planted MD&A counts (tokens placed at section 1) and the keywords to plant negated (traps: 1-3 of
    the planted ones, or of the first five keywords)."""
    mdna: dict[str, int] = {}
    for k, w in zip(tokens, where, strict=True):
        if w == 1:
            mdna[k] = mdna.get(k, 0) + 1
    negated: list[str] = []
    if traps:
        pool = sorted(planted) or list(keywords[:5])
        negated = [pool[int(i)] for i in rng.integers(0, len(pool), size=int(rng.integers(1, 4)))]
    return mdna, negated


def compose_report(
    planted: dict[str, int],
    rng: np.random.Generator,
    traps: bool = True,
    n_filler: int = 30,
    title: str = "示例股份有限公司",
    year: int = 2015,
    keywords: list[str] | None = None,
    contexts: int = 0,
) -> tuple[str, dict[str, int], dict[str, int], dict[str, int]]:
    """Report text with exactly ``planted`` counts; returns (text, planted full, planted in MD&A, negated).
    ``contexts`` > 0 adds that many category-context sentences to the MD&A (synthetic.keyword_contexts); their
    keywords are added to the planted counts."""
    keywords = keywords if keywords is not None else default_keywords()
    _check_vocabulary(tuple(keywords))
    unknown = sorted(set(planted) - set(keywords))
    if unknown:
        raise ValueError(f"planted keywords not in the dictionary: {unknown}")
    tokens = [k for k in sorted(planted) for _ in range(int(planted[k]))]
    where = rng.integers(0, 3, size=len(tokens))  # 0 before MD&A, 1 inside MD&A, 2 after
    mdna, negated = _mdna_counts_and_negations(tokens, where, planted, keywords, traps, rng)
    neg_where = rng.integers(0, 3, size=len(negated))
    fill = _Fillers(rng, block=n_filler + 10)
    # planted category contexts (opt-in: contexts=0 draws nothing, so the default stream is unchanged)
    ctx_text, ctx = keyword_contexts.planted_block(_categories(), contexts, rng) if contexts > 0 else ("", {})
    for k, v in ctx.items():  # planted keyword truth stays exact
        planted, mdna = {**planted, k: planted.get(k, 0) + v}, {**mdna, k: mdna.get(k, 0) + v}

    def part(w: int) -> str:
        """Section `w`'s filler with its planted tokens and negated traps interleaved at random positions."""
        items = _section_items(
            [t for t, x in zip(tokens, where, strict=True) if x == w],
            rng,
            n_filler // 3 + 1,
            traps,
            [t for t, x in zip(negated, neg_where, strict=True) if x == w],
            fill,
        )
        return "\n".join(_paragraphs(items, rng, fill))

    toc = [f"{h} {'.' * 12} {i + 2}" for i, h in enumerate((*HEADINGS_BEFORE, MDNA_HEADING, *HEADINGS_AFTER))]
    body = [
        title,
        f"{year}年年度报告",
        "目录",
        *toc,
        HEADINGS_BEFORE[0],
        part(0),
        HEADINGS_BEFORE[1],
        fill(),
        MDNA_HEADING,
        part(1),
        *([ctx_text] if ctx_text else []),
        HEADINGS_AFTER[0],
        part(2),
        HEADINGS_AFTER[1],
        fill(),
    ]
    full = {k: int(v) for k, v in sorted(planted.items()) if int(v) > 0}
    neg_counts: dict[str, int] = {}
    for k in negated:
        neg_counts[k] = neg_counts.get(k, 0) + 1
    return "\n".join(body) + "\n", full, dict(sorted(mdna.items())), neg_counts


# ------------------------------------------------------------------------------------- real-size reports
# CSRC annual-report format (年度报告的内容与格式), as it changed over 2011-2019. Each layout lists the top-level
# sections in order; the MD&A is marked by its title. "董事会报告" (2011-2013) holds a sub-heading
# "一、管理层讨论与分析" (a nested MD&A candidate that must not shrink the section).
MDNA_TITLES = ("董事会报告", "管理层讨论与分析", "经营情况讨论与分析")
_LAYOUT_2011 = (
    "重要提示、目录和释义",
    "公司简介",
    "会计数据和财务指标摘要",
    "董事会报告",
    "重要事项",
    "股份变动及股东情况",
    "董事、监事、高级管理人员和员工情况",
    "公司治理",
    "内部控制",
    "财务报告",
    "备查文件目录",
)
_LAYOUT_2014 = (
    "重要提示、目录和释义",
    "公司简介和主要财务指标",
    "公司业务概要",
    "管理层讨论与分析",
    "重要事项",
    "股份变动及股东情况",
    "优先股相关情况",
    "董事、监事、高级管理人员和员工情况",
    "公司治理",
    "公司债券相关情况",
    "财务报告",
    "备查文件目录",
)
_LAYOUT_2016 = tuple("经营情况讨论与分析" if t == "管理层讨论与分析" else t for t in _LAYOUT_2014)
# Share of the report's characters per section (the financial statements are ~40% of a real report).
_SHARE = {
    "重要提示、目录和释义": 0.015,
    "公司简介": 0.02,
    "公司简介和主要财务指标": 0.04,
    "会计数据和财务指标摘要": 0.03,
    "公司业务概要": 0.03,
    "董事会报告": 0.2,
    "管理层讨论与分析": 0.16,
    "经营情况讨论与分析": 0.16,
    "重要事项": 0.1,
    "股份变动及股东情况": 0.05,
    "优先股相关情况": 0.005,
    "董事、监事、高级管理人员和员工情况": 0.05,
    "公司治理": 0.05,
    "内部控制": 0.02,
    "公司债券相关情况": 0.02,
    "财务报告": 0.42,
    "备查文件目录": 0.005,
}
_TABLE_SECTIONS = ("会计数据和财务指标摘要", "公司简介和主要财务指标", "股份变动及股东情况", "财务报告")
_MDNA_SUBHEADINGS = ("一、概述", "二、主要业务", "三、核心竞争力", "四、公司未来发展的展望")
_TABLE_LABELS = (
    "营业收入",
    "净利润",
    "总资产",
    "货币资金",
    "每股收益",
    "应收账款",
    "存货",
    "固定资产",
    "短期借款",
)
_CN_NUM = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三")
HEADER_STYLES = ("plain", "section")  # running header: "<company><year>年年度报告全文" (+ the section title)
REPORT_SIZES = ("small", "real")


def heading_style(year: int, rng: np.random.Generator) -> tuple[tuple[str, ...], str]:
    """(section titles in order, numbering) of a real-size report of ``year``: the CSRC layout of its era,
    numbering "jie" (第X节 title, 75%), "bare" (title alone, 15%) or "shift" (第X节, one section before the
    MD&A merged away so that it is 第三节, 10%)."""
    layout = _LAYOUT_2011 if year <= 2013 else (_LAYOUT_2014 if year <= 2015 else _LAYOUT_2016)
    u = rng.random()
    style = "jie" if u < 0.75 else ("bare" if u < 0.9 else "shift")
    if style == "shift":
        layout = tuple(t for t in layout if t not in ("公司业务概要", "会计数据和财务指标摘要"))
    return layout, style


def _heading(i: int, title: str, style: str) -> str:
    return title if style == "bare" else f"第{_CN_NUM[i]}节 {title}"


def _table_rows(rng: np.random.Generator, n: int) -> list[str]:
    """Rows of a financial table: a label and three numbers, spaces between (as a PDF text layer has them)."""
    labels = rng.integers(0, len(_TABLE_LABELS), size=n)
    vals = rng.uniform(1e5, 9e9, size=(n, 2))
    pct = rng.uniform(-60, 60, size=n)
    return [
        f"{_TABLE_LABELS[j]} {a:,.2f} {b:,.2f} {c:.2f}%"
        for j, (a, b), c in zip(labels.tolist(), vals.tolist(), pct.tolist(), strict=True)
    ]


@lru_cache(maxsize=4)
def _check_fixed(keywords: tuple[str, ...]) -> None:
    """The fixed texts of real-size reports (headings, labels, running lines) hold characters of keywords
    (管理, 分析, 人员...), unlike the filler. Their neighbours are filler, digits and punctuation, of which only
    digits, '.' and '+' occur in keywords; so a keyword can match across a fixed text only if it lies inside
    it, or runs over its end into one of those characters (工业|4.0), or over its start. Assert none does."""
    fixed = [*_SHARE, *_MDNA_SUBHEADINGS, *_TABLE_LABELS, "年年度报告全文", "目录", "第", "页", "共"]
    near = set("0123456789.+")
    for t in fixed:
        for k in keywords:
            kn = unicodedata.normalize("NFKC", k)
            over = kn in t
            for j in range(1, len(kn)):
                over = over or (t.endswith(kn[:j]) and kn[j] in near)
                over = over or (t.startswith(kn[-j:]) and kn[-j - 1] in near)
            if over:
                raise AssertionError(f"fixed report text {t!r} overlaps keyword {kn!r}")


def compose_real_report(
    planted: dict[str, int],
    rng: np.random.Generator,
    traps: bool = True,
    title: str = "示例股份有限公司",
    year: int = 2015,
    keywords: list[str] | None = None,
) -> tuple[list[str], dict[str, int], dict[str, int], dict[str, int]]:
    """A real-size report (150-250 pages of 1,000-1,600 characters) with exactly ``planted`` counts.

    Returns (pages, planted full, planted in MD&A, negated). Layout: cover, a table of contents that repeats
    every section heading with dot leaders and its page number, the sections of ``heading_style(year)`` each
    on a new page, a running header on every page (the company's report title, and for about half the reports
    a second line repeating the current section's heading) and a page-number footer. Tables of numbers in the
    financial sections. Planted tokens go to the sections before the MD&A, the MD&A, or after, one third each.
    """
    keywords = keywords if keywords is not None else default_keywords()
    _check_vocabulary(tuple(keywords))
    _check_fixed(tuple(keywords))
    unknown = sorted(set(planted) - set(keywords))
    if unknown:
        raise ValueError(f"planted keywords not in the dictionary: {unknown}")
    layout, style = heading_style(year, rng)
    headings = [_heading(i, t, style) for i, t in enumerate(layout)]
    m = next(i for i, t in enumerate(layout) if t in MDNA_TITLES)
    # Pages are not filled to the last character and every section starts a page: the page count comes out
    # ~18 % above target and the characters ~13 % above total (running lines, tables), hence these draws
    # (tests check 150-250 pages and 150,000-400,000 characters).
    n_pages_target = int(rng.integers(130, 201))
    total = int(rng.integers(140_000, 340_001))
    page_chars = total // n_pages_target
    tokens = [k for k in sorted(planted) for _ in range(int(planted[k]))]
    where = rng.integers(0, 3, size=len(tokens))
    sec_of = np.where(
        where == 1,
        m,
        np.where(
            where == 0,
            rng.integers(0, max(m, 1), size=len(tokens)),
            rng.integers(m + 1, len(layout), size=len(tokens)),
        ),
    )
    mdna, negated = _mdna_counts_and_negations(tokens, where, planted, keywords, traps, rng)
    neg_sec = rng.integers(0, len(layout), size=len(negated))
    shares = np.array([_SHARE[t] for t in layout])
    shares = shares / shares.sum()
    fill = _Fillers(rng, block=4096)
    # body paragraphs per section; a section is a list of paragraphs, each kept on one page
    bodies: list[list[str]] = []
    for i, t in enumerate(layout):
        chars = shares[i] * total
        tab = t in _TABLE_SECTIONS
        n_sent = max(3, int(chars * (0.4 if tab else 1.0) / 24))
        items = _section_items(
            [k for k, s in zip(tokens, sec_of.tolist(), strict=True) if s == i],
            rng,
            n_sent,
            traps,
            [k for k, s in zip(negated, neg_sec.tolist(), strict=True) if s == i],
            fill,
        )
        paras = _paragraphs(items, rng, fill)
        if i == m:
            subs = (
                _MDNA_SUBHEADINGS if t != "董事会报告" else ("一、管理层讨论与分析", *_MDNA_SUBHEADINGS[1:])
            )
            cut = np.sort(rng.choice(np.arange(1, max(len(paras), 5)), size=len(subs) - 1, replace=False))
            out, lo = [subs[0]], 0
            for j, c in enumerate(cut.tolist()):
                out += paras[lo:c] + [subs[j + 1]]
                lo = c
            paras = out + paras[lo:]
        if tab:
            rows = _table_rows(rng, max(4, int(chars * 0.6 / 45)))
            step = max(1, len(rows) // max(len(paras), 1))
            mixed: list[str] = []
            for j, para in enumerate(paras):
                mixed.append(para)
                mixed.append("\n".join(["项目 本期 上期 增减", *rows[j * step : (j + 1) * step]]))
            paras = mixed
        bodies.append(paras)
    pages = _paginate(bodies, headings, page_chars, f"{title}{year}年年度报告全文", fill, rng)
    full = {k: int(v) for k, v in sorted(planted.items()) if int(v) > 0}
    neg_counts: dict[str, int] = {}
    for k in negated:
        neg_counts[k] = neg_counts.get(k, 0) + 1
    return pages, full, dict(sorted(mdna.items())), neg_counts


def _paginate(
    bodies: list[list[str]],
    headings: list[str],
    page_chars: int,
    running: str,
    fill: _Fillers,
    rng: np.random.Generator,
) -> list[str]:
    """Pages of a real-size report: a cover, the table of contents (page 2), then every section from a new
    page, paragraphs kept whole, each page framed by the running header and a page-number footer."""
    header_style = HEADER_STYLES[int(rng.integers(2))]
    footer_style = int(rng.integers(2))
    sec_pages: list[tuple[int, str]] = []
    first_page: list[int] = []
    page_no = 3  # 1 cover, 2 table of contents
    for i, paras in enumerate(bodies):
        first_page.append(page_no)
        cur: list[str] = [headings[i]]
        size = 0
        for para in paras:
            if size and size + len(para) > page_chars:
                sec_pages.append((i, "\n".join(cur)))
                page_no += 1
                cur, size = [], 0
            cur.append(para)
            size += len(para)
        sec_pages.append((i, "\n".join(cur)))
        page_no += 1
    n_pages = page_no - 1

    def frame(body: str, no: int, sec: int | None) -> str:
        head = [running]
        if header_style == "section" and sec is not None:
            head.append(headings[sec])  # a running header that repeats the section heading on every page
        foot = f"第 {no} 页 共 {n_pages} 页" if footer_style else str(no)
        return "\n".join([*head, body, foot])

    toc = "\n".join(["目录", *(f"{h} {'.' * 20} {p}" for h, p in zip(headings, first_page, strict=True))])
    pages = [f"{running[: -len('年年度报告全文')]}\n{fill()}\n{n_pages}", frame(toc, 2, None)]
    return pages + [frame(body, k + 3, sec) for k, (sec, body) in enumerate(sec_pages)]


def write_report(
    path: str | os.PathLike,
    planted: dict[str, int],
    rng: np.random.Generator,
    fmt: str = "txt",
    encoding: str = "utf-8",
    traps: bool = True,
    n_filler: int = 30,
    atomic: bool = True,
    contexts: int = 0,
    size: str = "small",
) -> WrittenReport:
    """Write one synthetic report; the returned planted counts are what a correct counter must find.

    ``size="small"``: ~``n_filler`` sentences in five sections (:func:`compose_report`); ``size="real"``: a
    real-size paginated report (:func:`compose_real_report`; ``n_filler`` is ignored)."""
    if size not in REPORT_SIZES:
        raise ValueError(f"size must be one of {REPORT_SIZES}, not {size!r} (config key synth.report_size)")
    path = Path(path)
    title = (
        "".join(_COMPANY_PREFIX[i] for i in rng.integers(0, len(_COMPANY_PREFIX), size=2)) + "股份有限公司"
    )
    year = int(path.stem.split("_")[-1]) if path.stem.split("_")[-1].isdigit() else 2015
    pages: list[str] | None = None
    if size == "real":
        if contexts:
            raise ValueError(
                "planted keyword contexts (synth.keyword_contexts) need synth.report_size: small"
            )
        pages, full, mdna, negated = compose_real_report(planted, rng, traps=traps, title=title, year=year)
        text = "\n".join(pages) + "\n"
    else:
        text, full, mdna, negated = compose_report(
            planted, rng, traps=traps, n_filler=n_filler, title=title, year=year, contexts=contexts
        )
    if fmt == "txt":
        if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
            raise ValueError(f"encoding must be utf-8, utf-8-sig or gb18030, not {encoding!r}")
        (write_bytes if atomic else Path.write_bytes)(path, text.encode(encoding))
    elif fmt == "pdf" and pages is not None:
        write_pdf_pages(path, pages, atomic=atomic, extra_chars=real_report_chars())
    elif fmt == "pdf":
        write_pdf(path, text, atomic=atomic)
    else:
        raise ValueError(f"fmt must be 'txt' or 'pdf', not {fmt!r}")
    n_pages = len(pages) if pages is not None else None
    return WrittenReport(path=path, full=full, mdna=mdna, n_chars=len(text), negated=negated, n_pages=n_pages)


def real_report_chars() -> str:
    """Characters of real-size reports beyond :func:`vocabulary_chars` (headings, labels, running lines):
    added to the PDF font subset of real-size reports only, so small PDFs stay byte-identical."""
    chars = set(
        "".join((*_SHARE, *_MDNA_SUBHEADINGS, *_TABLE_LABELS, *_CN_NUM))
        + "年度报告全文目录第页共项目本期上增减,-"
    )
    return "".join(sorted(chars - set(vocabulary_chars())))


# --------------------------------------------------------------------------------------------------- PDFs


@lru_cache(maxsize=4)
def _pdf_font_bytes(extra: str = "") -> bytes:
    """A tiny subset (report vocabulary + keywords + ASCII) of the bundled font, built once per process.

    PDFium embeds the whole font it is given, so embedding the ~1 MB bundled font would make every synthetic
    PDF ~1 MB; this subset keeps them at tens of kB.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from intelcap.outputs.fonts import cjk_font_path

    font = TTFont(cjk_font_path(), recalcTimestamp=False)  # else head.modified = now: PDFs differ per second
    opts = subset.Options()
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.layout_features = []
    sub = subset.Subsetter(opts)
    text = (
        vocabulary_chars()
        + "".join(default_keywords())
        + "".join(chr(c) for c in range(0x20, 0x7F))
        + "\u3000"
        + extra
    )
    sub.populate(text=text)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    """Hard-wrap each paragraph at ``width`` characters (Chinese has no spaces to break at)."""
    lines: list[str] = []
    for para in text.replace("\r\n", "\n").split("\n"):
        if not para:
            continue
        lines.extend(para[i : i + width] for i in range(0, len(para), width))
    return lines


def write_pdf(
    path: str | os.PathLike,
    text: str,
    font_size: float = 10.5,
    chars_per_line: int = 42,
    lines_per_page: int = 44,
    atomic: bool = True,
) -> int:
    """Write ``text`` as an A4 PDF with a real text layer (one text object per line); returns the page count.

    Uses PDFium's editing API through pypdfium2's raw bindings: FPDFText_LoadFont embeds the TrueType font as
    a CID font with a ToUnicode map, which is what lets pypdfium2 and pdfplumber extract the text again.
    """
    lines = _wrap(text, chars_per_line) or [""]
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    return _write_pdf_lines(path, pages, font_size, font_size * 1.6, atomic, "")


def write_pdf_pages(
    path: str | os.PathLike,
    pages: list[str],
    font_size: float = 9.0,
    chars_per_line: int = 44,
    atomic: bool = True,
    extra_chars: str = "",
) -> int:
    """Write one PDF page per item of ``pages`` (each hard-wrapped at ``chars_per_line``; the leading and, below
    1.25 x ``font_size``, the font shrink so that the longest page fits A4); ``extra_chars`` are added to the
    embedded font subset."""
    wrapped = [_wrap(pg, chars_per_line) or [""] for pg in pages]
    leading = min(font_size * 1.5, (842.0 - 2 * 56.0) / max(len(w) for w in wrapped))
    # lines closer than their font size overlap, and PDFium then merges them into one garbled line
    return _write_pdf_lines(path, wrapped, min(font_size, leading / 1.25), leading, atomic, extra_chars)


def _write_pdf_lines(
    path: str | os.PathLike,
    pages: list[list[str]],
    font_size: float,
    leading: float,
    atomic: bool,
    extra_chars: str,
) -> int:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    font_data = _pdf_font_bytes(extra_chars)
    font_buf = (ctypes.c_uint8 * len(font_data)).from_buffer_copy(font_data)
    pdf = pdfium.PdfDocument.new()
    try:
        font = raw.FPDFText_LoadFont(pdf.raw, font_buf, len(font_data), raw.FPDF_FONT_TRUETYPE, True)
        if not font:
            raise RuntimeError("PDFium could not load the bundled font")
        width, height, margin = 595.0, 842.0, 56.0
        for page_lines in pages:
            page = pdf.new_page(width, height)
            for j, line in enumerate(page_lines):
                obj = raw.FPDFPageObj_CreateTextObj(pdf.raw, font, font_size)
                wide = (line + "\x00").encode("utf-16-le")
                buf = ctypes.create_string_buffer(wide, len(wide))
                raw.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(raw.FPDF_WCHAR)))
                raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, margin, height - margin - (j + 1) * leading)
                raw.FPDFPage_InsertObject(page.raw, obj)
            if not raw.FPDFPage_GenerateContent(page.raw):
                raise RuntimeError("PDFium could not generate page content")
            page.close()
        raw.FPDFFont_Close(font)
        buf = io.BytesIO()
        pdf.save(buf)
        (write_bytes if atomic else Path.write_bytes)(Path(path), _fixed_pdf_dates(buf.getvalue()))
    finally:
        pdf.close()
    return len(pages)


_PDF_DATE = re.compile(rb"/(CreationDate|ModDate)\(D:(\d{14})")
_PDF_ID = re.compile(rb"/ID\[<([0-9A-F]+)><([0-9A-F]+)>\]")


def _fixed_pdf_dates(data: bytes) -> bytes:
    """PDFium stamps the wall-clock time (and an ID hashed from it): replace them with fixed values of the
    same length so byte offsets in the xref table stay valid and the file is reproducible."""
    data = _PDF_DATE.sub(lambda m: b"/" + m.group(1) + b"(D:20000101000000", data)
    return _PDF_ID.sub(
        lambda m: b"/ID[<" + b"0" * len(m.group(1)) + b"><" + b"0" * len(m.group(2)) + b">]", data
    )


def make_corrupt_pdf(path: str | os.PathLike, seed: int = 0) -> Path:
    """A file that starts like a PDF but has no valid structure (truncated download)."""
    rng = np.random.default_rng(seed)
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R" + rng.bytes(512)
    write_bytes(path, data)
    return Path(path)


def make_encrypted_or_textless_pdf(path: str | os.PathLike, kind: str = "textless") -> Path:
    """``kind="textless"``: a valid PDF whose page has only a drawn rectangle (a scan has no text layer either).
    ``kind="encrypted"``: a PDF with a Standard-security /Encrypt dictionary whose password is unknown.
    """
    path = Path(path)
    if kind == "textless":
        import pypdfium2 as pdfium
        import pypdfium2.raw as raw

        pdf = pdfium.PdfDocument.new()
        try:
            page = pdf.new_page(595, 842)
            rect = raw.FPDFPageObj_CreateNewRect(100, 100, 300, 200)
            raw.FPDFPageObj_SetFillColor(rect, 0, 0, 0, 255)
            raw.FPDFPath_SetDrawMode(rect, raw.FPDF_FILLMODE_ALTERNATE, False)
            raw.FPDFPage_InsertObject(page.raw, rect)
            raw.FPDFPage_GenerateContent(page.raw)
            page.close()
            with atomic_path(path) as tmp:
                pdf.save(tmp)
        finally:
            pdf.close()
        return path
    if kind == "encrypted":
        write_bytes(path, _encrypted_pdf_bytes())
        return path
    raise ValueError(f"kind must be 'textless' or 'encrypted', not {kind!r}")


def _encrypted_pdf_bytes() -> bytes:
    """A minimal PDF with RC4-40 Standard security and made-up /O and /U entries: no password opens it."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 8 >>\nstream\n\x8f\x13\xa2\x07\x55\x31\xee\x02\nendstream",
        b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <" + b"7a" * 32 + b"> /U <" + b"3c" * 32 + b"> >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Encrypt 5 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>] >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ------------------------------------------------------------------------------------------------ a panel


def write_reports_for_panel(
    directory: str | os.PathLike,
    firm_years: list[tuple[str, int, float]],
    rng: np.random.Generator,
    pdf_share: float = 0.1,
    n_filler: int = 30,
    atomic: bool = True,
    contexts: int = 0,
    size: str = "small",
) -> pd.DataFrame:
    """Write ``<Stkcd>_<year>.txt|pdf`` for each (Stkcd, year, expected_intensity); return planted counts.

    Planted total per report ~ Poisson(expected_intensity), spread over keywords with Dirichlet weights.
    About 5% of text files are GB18030 and 10% UTF-8 with BOM; ``pdf_share`` are PDFs. With >= 10 firm-years,
    2-3 reports are replaced by broken files (corrupt / encrypted / textless PDF) and one by an empty .txt;
    their names are in ``result.attrs["unreadable_files"]`` and they have no rows (the index must be missing).
    ``size``: "small" (a few hundred characters each) or "real" (:func:`compose_real_report`).
    ``atomic=False`` writes files in place: for a caller that writes into a scratch folder it renames at the end.
    Returns long-format rows (Stkcd, year, keyword, count, count_mdna) for keywords with count > 0, sorted.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    keywords = default_keywords()
    weights = rng.dirichlet(np.full(len(keywords), 0.5))
    fy = sorted((str(s).zfill(6), int(y), float(lam)) for s, y, lam in firm_years)
    broken: dict[int, str] = {}
    if len(fy) >= 10:
        picks = rng.choice(len(fy), size=int(rng.integers(2, 4)) + 1, replace=False)
        kinds = ["corrupt", "encrypted", "textless"]
        for j, i in enumerate(picks[:-1]):
            broken[int(i)] = kinds[j % 3]
        broken[int(picks[-1])] = "empty"
    rows: list[tuple[str, int, str, int, int]] = []
    unreadable: list[str] = []
    for i, (stk, year, lam) in enumerate(fy):
        stem = f"{stk}_{year}"
        if i in broken:
            kind = broken[i]
            if kind == "empty":
                name = f"{stem}.txt"
                write_bytes(directory / name, b"")
            else:
                name = f"{stem}.pdf"
                if kind == "corrupt":
                    make_corrupt_pdf(directory / name, seed=i)
                else:
                    make_encrypted_or_textless_pdf(directory / name, kind=kind)
            unreadable.append(name)
            continue
        total = int(rng.poisson(max(lam, 0.0)))
        counts = rng.multinomial(total, weights)
        planted = {k: int(c) for k, c in zip(keywords, counts, strict=True) if c > 0}
        u = rng.random()
        if u < pdf_share:
            fmt, enc = "pdf", "utf-8"
        else:
            fmt = "txt"
            v = rng.random()
            enc = "gb18030" if v < 0.05 else ("utf-8-sig" if v < 0.15 else "utf-8")
        rep = write_report(
            directory / f"{stem}.{fmt}",
            planted,
            rng,
            fmt=fmt,
            encoding=enc,
            n_filler=n_filler,
            atomic=atomic,
            contexts=contexts,
            size=size,
        )
        for k in sorted(rep.full):
            rows.append((stk, year, k, rep.full[k], rep.mdna.get(k, 0)))
    out = pd.DataFrame(rows, columns=["Stkcd", "year", "keyword", "count", "count_mdna"])
    out = out.astype(
        {"Stkcd": "string", "year": "int64", "keyword": "string", "count": "int64", "count_mdna": "int64"}
    )
    out = out.sort_values(["Stkcd", "year", "keyword"], kind="stable").reset_index(drop=True)
    out.attrs["unreadable_files"] = sorted(unreadable)
    return out
