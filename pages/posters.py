"""QR codes for printed posters and sheets, drawn at build time as standalone SVG files.

The symbol is encoded by zxing-cpp (C++: the mask search included, about 0.4 ms a code, where
segno, pure Python, took 2.8 ms with a fixed mask); the SVG is written here from its module
matrix, so the file carries a French title and stays byte-identical from one build to the next
for the same address. The national site draws some 68,000 of them.
"""

from __future__ import annotations

from html import escape

import numpy as np
import zxingcpp

SCALE = 6  # pixels per module: posters are printed large, and phones read them from afar
BORDER = 2  # quiet zone, in modules, around the symbol
ERROR_CORRECTION = "M"


def qr_modules(url: str) -> np.ndarray:
    """The symbol's dark modules (True), without quiet zone."""
    symbol = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode,
                                     ec_level=ERROR_CORRECTION)
    return np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) == 0


def qr_svg(url: str, title: str = "Code QR vers la page de l'atelier") -> str:
    modules = qr_modules(url)
    side = (modules.shape[0] + 2 * BORDER) * SCALE
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
            f'class="qr"><title>{escape(title, quote=False)}</title>'
            f'<path transform="scale({SCALE})" stroke="#000" d="{_runs_path(modules)}"/></svg>')


def _runs_path(modules: np.ndarray) -> str:
    """One horizontal stroke per run of dark modules, each relative to the end of the last."""
    rows, width = modules.shape
    # A light column on each side keeps runs from joining across rows.
    padded = np.zeros((rows, width + 2), dtype=np.int8)
    padded[:, 1:-1] = modules
    steps = np.diff(padded.ravel())
    starts = np.flatnonzero(steps == 1) + 1
    lengths = np.flatnonzero(steps == -1) + 1 - starts
    row, column = np.divmod(starts, width + 2)
    row += BORDER
    column += BORDER - 1
    run_ends = column + lengths
    dx = (column[1:] - run_ends[:-1]).tolist()
    dy = np.diff(row).tolist()
    first = f"M{column[0]} {row[0]}.5h{lengths[0]}"
    return first + "".join([f"m{a} {b}h{c}" for a, b, c in zip(dx, dy, lengths[1:].tolist())])
