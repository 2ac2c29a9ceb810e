"""pages/posters.py: the QR code of a poster is a standalone, stable SVG that reads back as its
address."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pages.posters import BORDER, SCALE, qr_modules, qr_svg
from qr_reading import decoded, drawn_modules

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


def test_the_title_is_escaped():
    svg = qr_svg(URL, title="Lieu <b> & co")
    assert ET.fromstring(svg).find("{http://www.w3.org/2000/svg}title").text == "Lieu <b> & co"


def test_the_code_is_the_same_at_every_build_and_differs_per_page():
    assert qr_svg(URL) == qr_svg(URL)  # the reused page stays byte-identical
    assert qr_svg(URL) != qr_svg(URL.replace("014", "015"))


def test_a_phone_reads_the_url_back_at_level_m():
    for url in (URL, "https://x.fr/", "https://inclusion.exemple.fr/lieux/" + "a" * 180 + "/"):
        result = decoded(qr_svg(url))
        assert (result.text, result.ec_level) == (url, "M")


def test_the_strokes_paint_exactly_the_symbol_inside_its_quiet_zone():
    modules = qr_modules(URL)
    drawn = drawn_modules(qr_svg(URL))
    side = modules.shape[0] + 2 * BORDER
    assert drawn.shape == (side, side)
    assert (drawn[BORDER:-BORDER, BORDER:-BORDER] == modules).all()
    assert not drawn[:BORDER].any() and not drawn[-BORDER:].any()
    assert not drawn[:, :BORDER].any() and not drawn[:, -BORDER:].any()
    assert ET.fromstring(qr_svg(URL)).get("width") == str(side * SCALE)
