"""pages/posters.py: the QR code of a workshop poster is a standalone, stable SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import segno

from pages.posters import MASK, qr_svg

URL = "https://inclusion.exemple.fr/ateliers/ville-palaiseau-pal-2026-014/"


def test_qr_svg_is_a_standalone_svg_with_a_french_title():
    svg = qr_svg(URL)
    assert svg.startswith("<svg") and "<?xml" not in svg
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}title").text == \
        "Code QR vers la page de l'atelier"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    assert "<script" not in svg


def test_the_code_is_the_same_at_every_build_and_differs_per_page():
    assert qr_svg(URL) == qr_svg(URL)  # a fixed mask: the reused page stays byte-identical
    assert qr_svg(URL) != qr_svg(URL.replace("014", "015"))


def test_the_code_carries_the_url_at_level_m_with_the_fixed_mask():
    # The same symbol segno would draw for this URL: what a phone decodes is the URL.
    symbol = segno.make(URL, error="m", mask=MASK, micro=False)
    assert (symbol.error, symbol.mask, symbol.is_micro) == ("M", MASK, False)
    scale, border = 6, 2
    side = (symbol.symbol_size(scale=1, border=0)[0] + 2 * border) * scale
    root = ET.fromstring(qr_svg(URL))
    assert (root.get("width"), root.get("height")) == (str(side), str(side))
