"""Build-time tool: the bundled CJK font subset src/intelcap/data/NotoSansSC-subset.ttf.

Run once when the synthetic vocabulary or the label texts gain characters the subset lacks
(`intelcap.outputs.fonts.missing_chars` tells); the runtime package only reads the result.

    python tools/build_font_subset.py /path/to/NotoSansCJKsc-Regular.otf
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

from intelcap.outputs.fonts import FAMILY_NAME, FONT_FILE, LABEL_CHARS, SOURCE_TTC, SOURCE_TTC_INDEX
from intelcap.resources import DATA, shipped


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
    from intelcap.synthetic import reports as reports_synth  # the synthetic vocabulary must render in PDFs

    chars.update(reports_synth.vocabulary_chars())
    keywords = shipped("paper_keywords.yaml")
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

    out = Path(out) if out is not None else DATA / FONT_FILE
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


if __name__ == "__main__":
    print(build_font_subset(*(sys.argv[1:2] or [SOURCE_TTC])))
