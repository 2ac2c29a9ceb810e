"""QR codes for printed posters, drawn at build time as inline-free SVG files (``segno``)."""

from __future__ import annotations

import io

import segno

# segno tries the eight QR masks and keeps the best-scoring one; that search is most of its
# time (about 10 ms a code). A fixed mask is allowed by the standard and every phone reads it;
# the posters are printed large, on paper, at error-correction level M.
MASK = 4


def qr_svg(url: str, title: str = "Code QR vers la page de l'atelier") -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m", mask=MASK, micro=False).save(
        buffer, kind="svg", scale=6, border=2, xmldecl=False, svgns=True,
        title=title)
    return buffer.getvalue().decode("utf-8")
