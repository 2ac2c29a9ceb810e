"""Reads back a QR code SVG written by pages/posters.py, as a phone would: the path is drawn
into pixels and decoded by zxing-cpp's reader (a different code path from its writer)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import zxingcpp

SVG = "{http://www.w3.org/2000/svg}"


def drawn_modules(svg: str) -> np.ndarray:
    """The modules the SVG's strokes paint (True = dark), quiet zone included."""
    root = ET.fromstring(svg)
    path = root.find(f"{SVG}path")
    scale = int(re.fullmatch(r"scale\((\d+)\)", path.get("transform")).group(1))
    side = int(root.get("width")) // scale
    modules = np.zeros((side, side), dtype=bool)
    x = y = 0.0
    for command, dx, dy, length in re.findall(r"([Mm])(-?\d+) (-?[\d.]+)h(\d+)", path.get("d")):
        x, y = (float(dx), float(dy)) if command == "M" else (x + float(dx), y + float(dy))
        row = int(y)  # strokes run along the middle of their row (y + 0.5)
        modules[row, int(x):int(x) + int(length)] = True
        x += int(length)
    return modules


def decoded(svg: str) -> zxingcpp.Barcode:
    pixels = np.where(np.kron(drawn_modules(svg), np.ones((4, 4), dtype=bool)), 0, 255)
    result = zxingcpp.read_barcode(pixels.astype(np.uint8))
    assert result is not None, "le code QR ne se lit pas"
    return result
