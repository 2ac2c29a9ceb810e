"""Static SVG bar charts drawn at build time (no JavaScript), with a title and a description
that state every number; the same numbers are in the HTML table beside each chart."""

from __future__ import annotations

from xml.sax.saxutils import escape

BAR_HEIGHT, GAP, LABEL_WIDTH, CHART_WIDTH, VALUE_WIDTH = 22, 8, 190, 620, 110


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float | None, str]]) -> dict:
    """``bars``: (label, value or None when not shown, text shown for the value).
    Returns ``{"svg": markup, "alt": text alternative}``."""
    alt = title + " : " + " ; ".join(f"{label} : {text}" for label, _v, text in bars) + "."
    top = max([v for _l, v, _t in bars if v is not None] or [0]) or 1
    plot = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {CHART_WIDTH} {height}" width="100%" '
             f'aria-labelledby="{chart_id}-titre {chart_id}-desc">',
             f'<title id="{chart_id}-titre">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(alt)}</desc>']
    for index, (label, value, text) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        middle = y + BAR_HEIGHT / 2 + 5
        parts.append(f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{middle:.0f}" '
                     f'text-anchor="end">{escape(label)}</text>')
        width = 0.0 if value is None else max(plot * value / top, 1.0 if value else 0.0)
        if width:
            parts.append(f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" '
                         f'width="{width:.1f}" height="{BAR_HEIGHT}"/>')
        parts.append(f'<text class="chart-value" x="{LABEL_WIDTH + width + 6:.1f}" '
                     f'y="{middle:.0f}">{escape(text)}</text>')
    parts.append("</svg>")
    return {"svg": "".join(parts), "alt": alt}
