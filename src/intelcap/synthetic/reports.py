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


def _section_text(
    tokens: list[str],
    rng: np.random.Generator,
    n_filler: int,
    traps: bool,
    negated: list[str],
    fill: _Fillers,
) -> str:
    """Filler sentences with the planted keyword tokens and negated traps interleaved at random positions."""
    items: list[str] = [fill() for _ in range(n_filler)]
    for kw in tokens:
        if traps and rng.random() < 0.1:
            items.append(FAR_NEGATION_FRAME.format(k=_variant(kw, rng, traps)))
        else:
            frame = PLANT_FRAMES[rng.integers(len(PLANT_FRAMES))]
            items.append(frame.format(k=_variant(kw, rng, traps)))
    for kw in negated:
        items.append(NEGATED_FRAMES[rng.integers(len(NEGATED_FRAMES))].format(k=kw))
    order = rng.permutation(len(items))
    # Paragraphs of 1-4 sentences; a paragraph starts with a filler sentence so headings never touch keywords.
    lines: list[str] = []
    para: list[str] = [fill()]
    breaks = rng.random(len(order)) < 0.3
    for i, brk in zip(order, breaks, strict=True):
        para.append(items[i])
        if brk:
            lines.append("".join(para))
            para = [fill()]
    lines.append("".join(para))
    return "\n".join(lines)


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
    mdna: dict[str, int] = {}
    for k, w in zip(tokens, where, strict=True):
        if w == 1:
            mdna[k] = mdna.get(k, 0) + 1
    negated: list[str] = []
    if traps:
        pool = sorted(planted) or keywords[:5]
        negated = [pool[int(i)] for i in rng.integers(0, len(pool), size=int(rng.integers(1, 4)))]
    neg_where = rng.integers(0, 3, size=len(negated))
    fill = _Fillers(rng, block=n_filler + 10)
    # planted category contexts (opt-in: contexts=0 draws nothing, so the default stream is unchanged)
    ctx_text, ctx = keyword_contexts.planted_block(_categories(), contexts, rng) if contexts > 0 else ("", {})
    for k, v in ctx.items():  # planted keyword truth stays exact
        planted, mdna = {**planted, k: planted.get(k, 0) + v}, {**mdna, k: mdna.get(k, 0) + v}

    def part(w: int) -> str:
        return _section_text(
            [t for t, x in zip(tokens, where, strict=True) if x == w],
            rng,
            n_filler // 3 + 1,
            traps,
            [t for t, x in zip(negated, neg_where, strict=True) if x == w],
            fill,
        )

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
) -> WrittenReport:
    """Write one synthetic report; the returned planted counts are what a correct counter must find."""
    path = Path(path)
    title = (
        "".join(_COMPANY_PREFIX[i] for i in rng.integers(0, len(_COMPANY_PREFIX), size=2)) + "股份有限公司"
    )
    year = int(path.stem.split("_")[-1]) if path.stem.split("_")[-1].isdigit() else 2015
    text, full, mdna, negated = compose_report(
        planted, rng, traps=traps, n_filler=n_filler, title=title, year=year, contexts=contexts
    )
    if fmt == "txt":
        if encoding not in ("utf-8", "utf-8-sig", "gb18030"):
            raise ValueError(f"encoding must be utf-8, utf-8-sig or gb18030, not {encoding!r}")
        (write_bytes if atomic else Path.write_bytes)(path, text.encode(encoding))
    elif fmt == "pdf":
        write_pdf(path, text, atomic=atomic)
    else:
        raise ValueError(f"fmt must be 'txt' or 'pdf', not {fmt!r}")
    return WrittenReport(path=path, full=full, mdna=mdna, n_chars=len(text), negated=negated)


# --------------------------------------------------------------------------------------------------- PDFs


@lru_cache(maxsize=1)
def _pdf_font_bytes() -> bytes:
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
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    font_data = _pdf_font_bytes()
    font_buf = (ctypes.c_uint8 * len(font_data)).from_buffer_copy(font_data)
    lines = _wrap(text, chars_per_line) or [""]
    pdf = pdfium.PdfDocument.new()
    try:
        font = raw.FPDFText_LoadFont(pdf.raw, font_buf, len(font_data), raw.FPDF_FONT_TRUETYPE, True)
        if not font:
            raise RuntimeError("PDFium could not load the bundled font")
        width, height, margin, leading = 595.0, 842.0, 56.0, font_size * 1.6
        n_pages = 0
        for start in range(0, len(lines), lines_per_page):
            page = pdf.new_page(width, height)
            n_pages += 1
            for j, line in enumerate(lines[start : start + lines_per_page]):
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
    return n_pages


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
) -> pd.DataFrame:
    """Write ``<Stkcd>_<year>.txt|pdf`` for each (Stkcd, year, expected_intensity); return planted counts.

    Planted total per report ~ Poisson(expected_intensity), spread over keywords with Dirichlet weights.
    About 5% of text files are GB18030 and 10% UTF-8 with BOM; ``pdf_share`` are PDFs. With >= 10 firm-years,
    2-3 reports are replaced by broken files (corrupt / encrypted / textless PDF) and one by an empty .txt;
    their names are in ``result.attrs["unreadable_files"]`` and they have no rows (the index must be missing).
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
