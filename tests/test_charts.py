"""pages/charts.py and its template macro: bars scaled to the largest shown value, every value
stated as text (withheld ones included, with no bar), hostile labels escaped."""

from __future__ import annotations

import re

import runpy

from jinja2 import Environment, FileSystemLoader

from pages.charts import MIN_PERCENT, bar_chart
from pipeline import settings

THEME = settings.REPO_ROOT / "site" / "theme" / "templates"
CONF = runpy.run_path(str(settings.REPO_ROOT / "pelican.conf.py"))


def render(chart: dict) -> str:
    """The macro rendered as Pelican renders it (its Jinja settings and filters)."""
    env = Environment(loader=FileSystemLoader(THEME), **CONF["JINJA_ENVIRONMENT"])
    env.filters.update(CONF["JINJA_FILTERS"])
    return env.from_string('{% import "_results.html" as m %}{{ m.bar_chart(chart) }}').render(
        chart=chart)


def test_bars_are_shares_of_the_largest_value_and_withheld_values_get_no_bar():
    chart = bar_chart("participants-2026", "Participations en 2026", [
        ("Orsay", 120, "120"), ("Massy", None, "< 5"), ("Palaiseau", 60, "60"),
        ("Igny", 0, "0"), ("Saclay", 0.1, "0,1")])
    assert chart["id"] == "participants-2026" and chart["title"] == "Participations en 2026"
    assert [(b["label"], b["text"], b["percent"]) for b in chart["bars"]] == [
        ("Orsay", "120", 100.0), ("Massy", "< 5", None), ("Palaiseau", "60", 50.0),
        ("Igny", "0", None), ("Saclay", "0,1", MIN_PERCENT)]  # tiny but still visible


def test_a_chart_with_nothing_shown_draws_no_bar():
    chart = bar_chart("vide", "Rien", [("Orsay", None, "non renseigné")])
    assert chart["bars"] == [{"label": "Orsay", "text": "non renseigné", "percent": None}]
    assert bar_chart("aucun", "Aucun", [])["bars"] == []


def test_the_macro_states_every_value_as_text_and_hides_the_bars_from_screen_readers():
    html = render(bar_chart("c", "Pass remis", [("Orsay", 30, "30"), ("Massy", None, "secret")]))
    items = re.findall(r"<li>(.*?)</li>", html, re.S)
    assert len(items) == 2
    assert '<span class="bar-value">30</span>' in items[0] and 'width="100.0%"' in items[0]
    assert '<span class="bar-value">secret</span>' in items[1] and "<svg" not in items[1]
    assert html.count('aria-hidden="true"') == 1
    assert 'aria-labelledby="c"' in html and '<figcaption id="c">Pass remis</figcaption>' in html


def test_hostile_labels_are_escaped():
    html = render(bar_chart("c", "<b>titre</b>", [('<script>alert("x")</script>', 1, "1 & 2")]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;titre&lt;/b&gt;" in html and "1 &amp; 2" in html
