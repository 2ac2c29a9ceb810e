"""QR codes for printed posters, drawn at build time as inline-free SVG files (``segno``)."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False,
                                    svgns=True, title="Code QR vers la page de l'atelier")
    return buffer.getvalue().decode("utf-8")
