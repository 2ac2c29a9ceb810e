"""pages/charts.py: the static SVG bar charts state every number in their text alternative,
scale bars to the largest shown value, and escape whatever text they are given."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from pages.charts import BAR_HEIGHT, CHART_WIDTH, GAP, LABEL_WIDTH, VALUE_WIDTH, bar_chart

SVG = "{http://www.w3.org/2000/svg}"
PLOT = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH  # 320 px for the longest bar


def bar_widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect class="chart-bar"[^>]* width="([\d.]+)"', svg)]


def test_alt_text_states_every_bar_in_order_including_withheld_ones():
    chart = bar_chart("participants-2026", "Participants en 2026", [
        ("Orsay", 120, "120"), ("Massy", None, "moins de 5"), ("Palaiseau", 60, "60")])
    assert chart["alt"] == ("Participants en 2026 : Orsay : 120 ; Massy : moins de 5 ; "
                            "Palaiseau : 60.")
    root = ET.fromstring(chart["svg"])
    assert root.find(f"{SVG}title").text == "Participants en 2026"
    assert root.find(f"{SVG}desc").text == chart["alt"]
    assert root.get("aria-labelledby") == "participants-2026-titre participants-2026-desc"
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-value"]
    assert labels == ["Orsay", "Massy", "Palaiseau"]
    assert values == ["120", "moins de 5", "60"]


def test_bars_scale_to_the_largest_value_and_withheld_or_zero_values_draw_none():
    chart = bar_chart("c", "Séances", [("A", 200, "200"), ("B", None, "secret"), ("C", 50, "50"),
                                       ("D", 0, "0")])
    assert bar_widths(chart["svg"]) == [PLOT, PLOT / 4]
    assert f'viewBox="0 0 {CHART_WIDTH} {4 * (BAR_HEIGHT + GAP) + GAP}"' in chart["svg"]
    # The value's text sits after the bar, or at the axis when there is no bar.
    xs = re.findall(r'<text class="chart-value" x="([\d.]+)"', chart["svg"])
    assert xs == [f"{LABEL_WIDTH + PLOT + 6:.1f}", f"{LABEL_WIDTH + 6:.1f}",
                  f"{LABEL_WIDTH + PLOT / 4 + 6:.1f}", f"{LABEL_WIDTH + 6:.1f}"]


def test_a_tiny_non_zero_value_still_shows_a_one_pixel_bar():
    chart = bar_chart("c", "Pass", [("Grand", 100_000, "100 000"), ("Petit", 3, "3")])
    assert bar_widths(chart["svg"]) == [PLOT, 1.0]


def test_hostile_labels_and_titles_are_escaped_and_the_svg_stays_well_formed():
    hostile = '<script>alert("x")</script> & Cie'
    chart = bar_chart("c", "Ateliers <b>2026</b>", [(hostile, 12, "12 <img src=x>")])
    assert "<script>" not in chart["svg"] and "<img" not in chart["svg"] and "<b>" not in chart["svg"]
    assert "&lt;script&gt;" in chart["svg"] and "&amp; Cie" in chart["svg"]
    root = ET.fromstring(chart["svg"])  # would raise on a raw "&" or "<"
    assert [t.text for t in root.iter(f"{SVG}text")] == [hostile, "12 <img src=x>"]
    assert root.find(f"{SVG}title").text == "Ateliers <b>2026</b>"


def test_no_bars_and_all_withheld_give_an_empty_plot_without_dividing_by_zero():
    empty = bar_chart("vide", "Aucun atelier", [])
    assert bar_widths(empty["svg"]) == []
    assert f'viewBox="0 0 {CHART_WIDTH} {GAP}"' in empty["svg"]
    withheld = bar_chart("c", "Pass", [("Orsay", None, "secret"), ("Massy", 0, "0")])
    assert bar_widths(withheld["svg"]) == []
    assert withheld["alt"] == "Pass : Orsay : secret ; Massy : 0."
