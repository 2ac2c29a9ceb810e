"""Bar charts drawn at build time as HTML (no JavaScript): each bar is a list item whose label
and value are HTML text, so they keep the page's font size on a phone and in print, and a bar
is a tiny SVG whose rectangle is as wide as its share of the largest value (an SVG attribute
rather than a ``style``, which the site's Content-Security-Policy forbids). The template
``_results.html`` (macro ``bar_chart``) lays them out; the same numbers are in the HTML table
beside each chart."""

from __future__ import annotations

# The smallest bar drawn for a value above zero, in % of the largest, so it stays visible.
MIN_PERCENT = 0.5


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float | None, str]]) -> dict:
    """``bars``: (label, value or None when not shown, text shown for the value).
    Returns ``{"id", "title", "bars": [{"label", "text", "percent"}]}``; ``percent`` is None
    when no bar is drawn (a withheld or missing value, or zero)."""
    top = max([abs(v) for _l, v, _t in bars if v is not None] or [0]) or 1
    drawn = []
    for label, value, text in bars:
        percent = None
        if value:
            percent = round(max(100 * abs(value) / top, MIN_PERCENT), 1)
        drawn.append({"label": label, "text": text, "percent": percent})
    return {"id": chart_id, "title": title, "bars": drawn}
