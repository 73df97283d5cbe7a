"""Small server-rendered SVG charts for the editors' performance page: no script, no CDN.

Each function returns markup built from numbers and escaped labels only, so a title with ``<`` in
it stays text. The charts are deliberately plain: horizontal bars with their values written at
the end (readable without a legend or axis), and one line over days with its last value labelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

INK, ACCENT, MUTED, RULE = "#1d232b", "#2f5fb3", "#66707c", "#dfe3e8"


def bars(rows: Sequence[tuple[str, float, str]], *, width: int = 760, title: str) -> Markup:
    """One horizontal bar per (label, value, value text), scaled to the largest value."""
    row_h, label_w, pad = 24, 280, 6
    height = max(1, len(rows)) * row_h + 2 * pad
    top = max((v for _, v, _ in rows), default=0.0) or 1.0
    span = width - label_w - 160  # room for the value written after the bar
    parts = [f'<svg class="ed-chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
             f"<title>{escape(title)}</title>"]
    if not rows:
        parts.append(f'<text x="0" y="{pad + 14}" fill="{MUTED}" font-size="12">No data yet.</text>')
    for n, (label, value, text) in enumerate(rows):
        y = pad + n * row_h
        w = max(1.0, span * value / top) if value > 0 else 0.0
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="{INK}" '
                     f'font-size="12"><title>{escape(label)}</title>{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
                     f'fill="{ACCENT}" rx="2"/>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="{MUTED}" '
                     f'font-size="12">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every label above is escaped


def line(points: Sequence[tuple[str, float]], *, width: int = 760, height: int = 170,
         title: str, percent: bool = True) -> Markup:
    """One series over days (0..max), first and last day labelled on the axis."""
    left, right, top_pad, bottom = 44, 56, 10, 24
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((v for _, v in points), default=0.0) or 1.0
    fmt = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:g}")
    parts = [f'<svg class="ed-chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
             f"<title>{escape(title)}</title>",
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
             f'y2="{top_pad + plot_h}" stroke="{RULE}"/>',
             f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" font-size="11" '
             f'fill="{MUTED}">{escape(fmt(top))}</text>',
             f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11" '
             f'fill="{MUTED}">{escape(fmt(0))}</text>']
    if points:
        step = plot_w / max(1, len(points) - 1)
        xy = [(left + i * step, top_pad + plot_h - plot_h * v / top)
              for i, (_, v) in enumerate(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" '
                     f'stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{ACCENT}"/>' for x, y in xy]
        last_x, last_y = xy[-1]
        parts.append(f'<text x="{last_x + 6:.1f}" y="{last_y + 4:.1f}" font-size="11" '
                     f'fill="{INK}">{escape(fmt(points[-1][1]))}</text>')
        parts.append(f'<text x="{left}" y="{height - 6}" font-size="11" fill="{MUTED}">'
                     f"{escape(points[0][0])}</text>")
        parts.append(f'<text x="{left + plot_w}" y="{height - 6}" font-size="11" '
                     f'text-anchor="end" fill="{MUTED}">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # every label above is escaped
