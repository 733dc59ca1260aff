"""The CJK font that charts use, shipped by a registry package (never downloaded at run time).

The font is Noto Sans CJK SC (``NotoSansCJKsc-Regular.otf``, SIL Open Font
License) as shipped inside the ``mplfonts`` wheel (``mplfonts/fonts/``).  We
only read the file from there and register it with matplotlib's font
manager for this process: we do not call ``mplfonts.use_font`` or its
``init`` command, which rewrite matplotlib's own rc file and clear its cache.
The package is located with :func:`importlib.util.find_spec`, so its
``__init__`` (which imports ``fire`` and ``fontmeta``) is not run.

Noto Sans CJK SC also covers Latin letters and digits, so one family serves
both languages; DejaVu Sans (bundled with matplotlib) follows it in the
family list as a fallback for the few symbols it lacks.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
CJK_FONT_PACKAGE = "mplfonts"
NO_CJK_FONT = ("no CJK font: expected {file} in the {package} package (pip install {package}); "
               "Chinese text in charts would show as empty boxes")


class FontMissingError(RuntimeError):
    """The CJK font file is not installed."""


def cjk_font_path() -> Path:
    """Path of the bundled Noto Sans CJK SC font file.

    Raises
    ------
    FontMissingError
        When ``mplfonts`` or its font file is not installed.
    """
    spec = importlib.util.find_spec(CJK_FONT_PACKAGE)
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / "fonts" / CJK_FONT_FILE
        if path.is_file():
            return path
    raise FontMissingError(NO_CJK_FONT.format(file=CJK_FONT_FILE, package=CJK_FONT_PACKAGE))


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Add the CJK font to matplotlib's font manager (once per process); return its family name."""
    from matplotlib import font_manager

    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def font_rc() -> dict:
    """matplotlib rc settings that put the CJK font first (for :func:`matplotlib.rc_context`)."""
    family = register_cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": True,
        "svg.fonttype": "path",  # SVG opens anywhere without the font installed
    }


__all__ = ["cjk_font_path", "register_cjk_font", "font_rc", "subset_font_base64", "FontMissingError",
           "CJK_FONT_FILE"]


def subset_font_base64(text: str) -> str:
    """The CJK font cut down to the characters of ``text``, as base64 WOFF (for an HTML @font-face).

    An HTML report then shows Chinese on a machine without CJK fonts, offline,
    without carrying the whole 16 MB font.  Uses fontTools (a matplotlib dependency).
    """
    import base64
    import io

    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(cjk_font_path()), options)
    try:
        sub = subset.Subsetter(options)
        sub.populate(text=text + "".join(chr(c) for c in range(0x20, 0x7F)))
        sub.subset(font)
        buf = io.BytesIO()
        font.flavor = "woff"
        font.save(buf)
    finally:
        font.close()
    return base64.b64encode(buf.getvalue()).decode("ascii")
