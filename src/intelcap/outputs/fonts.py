"""Bundled CJK font: a subset of Noto Sans CJK SC (SIL OFL 1.1), for figures and synthetic PDF reports.

Why bundle a subset: matplotlib's default DejaVu Sans has no Chinese glyphs (labels come out as boxes and a
"Glyph missing" warning), and the workflow must not depend on fonts a machine may lack. The full Noto CJK
collection is ~20 MB; the subset keeps GB2312 level 1 (the 3,755 most common simplified characters), ASCII,
full-width forms, CJK punctuation and every character of config/keywords.yaml and of the synthetic report
vocabulary, converted to TrueType outlines (glyf). TrueType rather than CFF because matplotlib's PDF/PS
backends embed TrueType (Type 42) reliably and PDFium's FPDFText_LoadFont embeds it as FontFile2.

The file is built once with tools/build_font_subset.py (needs Debian's fonts-noto-cjk) and shipped in
``intelcap/data``; users never need the source font.
"""

from __future__ import annotations

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


def cjk_font_path() -> Path:
    """Path of the bundled CJK TrueType font (an InputError with the remedy if the package lacks it; rebuild
    with tools/build_font_subset.py, which needs the apt package fonts-noto-cjk)."""
    from intelcap.resources import shipped

    return shipped(FONT_FILE)


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
