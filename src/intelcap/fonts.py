"""Bundled CJK font: a subset of Noto Sans CJK SC (SIL OFL 1.1), for figures and synthetic PDF reports.

Why bundle a subset: matplotlib's default DejaVu Sans has no Chinese glyphs (labels come out as boxes and a
"Glyph missing" warning), and the workflow must not depend on fonts a machine may lack. The full Noto CJK
collection is ~20 MB; the subset keeps GB2312 level 1 (the 3,755 most common simplified characters), ASCII,
full-width forms, CJK punctuation and every character of config/keywords.yaml and of the synthetic report
vocabulary, converted to TrueType outlines (glyf). TrueType rather than CFF because matplotlib's PDF/PS
backends embed TrueType (Type 42) reliably and PDFium's FPDFText_LoadFont embeds it as FontFile2.

The file is built once with :func:`build_font_subset` (needs Debian's fonts-noto-cjk) and shipped in
``intelcap/data``; users never need the source font.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

FONT_FILE = "NotoSansSC-subset.ttf"
LICENSE_FILE = "OFL.txt"
FAMILY_NAME = "Noto Sans SC Subset"
SOURCE_TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SOURCE_TTC_INDEX = 2  # 0 JP, 1 KR, 2 SC, 3 TC, 4 HK in Debian's NotoSansCJK-Regular.ttc

# Labels the workflow's tables and figures are likely to use; GB2312 level 1 covers nearly all of them, this
# list makes sure the ones that are not (and the keyword characters) are in whatever the subset builder gets.
LABEL_CHARS = (
    "工业智能化产能利用率企业年份固定效应控制变量观测值全球安装数量万台机器人系数置信区间国有东部中部西部"
    "高新技术劳动资本密集型非国有制造业行业地区省份城市直辖市北京天津上海重庆样本均值标准差最小值最大值"
    "中位数回归结果稳健性检验工具变量第一阶段第二阶段弱工具聚类标准误显著性水平资源配置效率机制异质性"
    "滞后一期剔除替换文本指数关键词词频年报管理层讨论与分析经营情况董事会报告重要事项宏观政策范式特征"
    "使用技术设备及工具延伸领域中国美国日本德国韩国存量密度暴露度冲击渗透率就业人数基期权重对数比例"
    "营业收入总资产固定资产净值负债利润现金流量支付职工薪酬规模杠杆盈利能力成长性年龄董事长总经理两职合一"
    "独立董事股权集中度出口人力资本融资约束政府补助市场化程度注图表说明来源数据库作者计算整理"
)


def _data_dir() -> Path:
    return Path(__file__).resolve().parent / "data"


def cjk_font_path() -> Path:
    """Path of the bundled CJK TrueType font (raises FileNotFoundError with a remedy if it is missing)."""
    path = _data_dir() / FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"bundled CJK font missing: {path}. Rebuild it with "
            "`python -c 'import intelcap.fonts as f; f.build_font_subset()'` (needs apt package fonts-noto-cjk)."
        )
    return path


def font_chars() -> set[str]:
    """Characters the bundled font has glyphs for (from its cmap)."""
    from fontTools.ttLib import TTFont

    with TTFont(cjk_font_path(), lazy=True) as font:
        return {chr(cp) for cp in font.getBestCmap()}


def missing_chars(text: str) -> list[str]:
    """Characters of ``text`` (whitespace aside) the bundled font cannot draw, sorted; [] means all render."""
    have = font_chars()
    return sorted({c for c in text if not c.isspace() and c not in have})


def use_cjk_in_matplotlib() -> str:
    """Register the bundled font with matplotlib and make it the default sans-serif font.

    DejaVu Sans stays as a fallback family for glyphs the subset lacks (e.g. math symbols); ``axes.unicode_minus``
    is switched off because the subset has no U+2212 MINUS SIGN. Returns the registered family name.
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    path = str(cjk_font_path())
    font_manager.fontManager.addfont(path)
    name = font_manager.FontProperties(fname=path).get_name()
    mpl.rcParams["font.family"] = "sans-serif"
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f != name]
    mpl.rcParams["font.sans-serif"] = [name, *rest]
    mpl.rcParams["axes.unicode_minus"] = False
    # Type 42 keeps PDF/PS figures' text as real (searchable, selectable) TrueType text.
    mpl.rcParams["pdf.fonttype"] = 42
    mpl.rcParams["ps.fonttype"] = 42
    return name


def _gb2312_level1() -> str:
    """The 3,755 level-1 hanzi of GB 2312 (rows 16-55), decoded from their EUC-CN byte pairs."""
    out = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                out.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # row 55 ends early (0xD7FA-0xD7FE are unassigned)
    return "".join(out)


def subset_chars(extra: str = "") -> str:
    """The character set of the subset, sorted (deterministic build)."""
    chars: set[str] = set()
    chars.update(chr(c) for c in range(0x20, 0x7F))  # ASCII
    chars.update(chr(c) for c in range(0xFF01, 0xFF5F))  # full-width forms (traps: 工业４.０, 互联网＋)
    chars.update(chr(c) for c in range(0x3000, 0x3020))  # CJK punctuation: 、。〈〉《》「」【】〔〕
    chars.update("·—–‘’“”…‰※→←↑↓×÷±≤≥≠°％‰№")
    chars.update(_gb2312_level1())
    chars.update(LABEL_CHARS)
    from intelcap import reports_synth  # the synthetic vocabulary must render in PDFs

    chars.update(reports_synth.vocabulary_chars())
    keywords = _data_dir().parent.parent.parent / "config" / "keywords.yaml"
    if keywords.is_file():
        chars.update(keywords.read_text(encoding="utf-8"))
    chars.update(extra)
    chars = {c for c in chars if not c.isspace() and unicodedata.category(c)[0] != "C"}
    chars |= {" ", "\u3000", "\u00a0"}  # spaces need (empty) glyphs too: labels and PDF text contain them
    return "".join(sorted(chars))


def build_font_subset(
    source: str | os.PathLike = SOURCE_TTC,
    index: int = SOURCE_TTC_INDEX,
    out: str | os.PathLike | None = None,
    extra: str = "",
) -> Path:
    """Subset Noto Sans CJK SC to :func:`subset_chars`, convert CFF to TrueType outlines, write it atomically."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    from intelcap.atomic import atomic_path

    out = Path(out) if out is not None else _data_dir() / FONT_FILE
    font = TTFont(source, fontNumber=index)
    opts = subset.Options()
    # No OpenType layout features: vertical/locl alternates would double the glyph count (and the size), and
    # neither matplotlib nor the PDF writer shapes text.
    opts.layout_features = []
    opts.drop_tables += ["vhea", "vmtx", "VORG", "BASE"]
    opts.name_IDs = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    opts.desubroutinize = True
    sub = subset.Subsetter(opts)
    sub.populate(text=subset_chars(extra))
    sub.subset(font)

    # CFF (cubic) -> glyf (quadratic): the conversion recipe of fontTools' Snippets/otf2ttf.py.
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))  # 1/1000 em
        glyf[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf
    del font["CFF "]
    font["maxp"] = newTable("maxp")
    font["maxp"].tableVersion = 0x00010000
    for attr in (
        "maxZones maxTwilightPoints maxStorage maxFunctionDefs maxInstructionDefs maxStackElements "
        "maxSizeOfInstructions maxComponentElements"
    ).split():
        setattr(font["maxp"], attr, 0)
    font["maxp"].maxZones = 1
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0  # no glyph names: saves ~80 kB; text extraction uses ToUnicode, not names
    font.sfntVersion = "\x00\x01\x00\x00"
    # A derivative must not carry the original's name (OFL §3 is about Reserved Font Names; "Source" is
    # Adobe's RFN, Noto has none) - renaming also keeps matplotlib from confusing it with a system Noto.
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 16):
            rec.string = FAMILY_NAME
        elif rec.nameID == 4:
            rec.string = f"{FAMILY_NAME} Regular"
        elif rec.nameID == 6:
            rec.string = "NotoSansSCSubset-Regular"
        elif rec.nameID == 3:
            rec.string = "2.004;intelcap;NotoSansSCSubset-Regular"
    with atomic_path(out) as tmp:
        font.save(tmp)
    return out
