"""Inline SVG charts: no script, no library.

The plot is an SVG stretched to its box (``preserveAspectRatio="none"``, strokes that do not
scale) and its labels are HTML around it, so text stays legible from a 390 px phone to a wide
screen. Pure functions of the numbers: pages stay server-rendered and tests can read them.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: Outcome and state colours (the CSS classes of the same names use them too).
COLOURS = {"succeeded": "#18794e", "failed": "#c62828", "dead": "#7b1f1f",
           "cancelled": "#8a8f98", "ready": "#2563eb", "delayed": "#a16207",
           "in_flight": "#7c3aed"}
_FALLBACK = ("#0e7490", "#be185d", "#4d7c0f", "#9333ea", "#b45309", "#1d4ed8")


def colour(name: str, i: int = 0) -> str:
    return COLOURS.get(name, _FALLBACK[i % len(_FALLBACK)])


def stacked_bars(series: dict[str, Sequence[int]], *, label: str) -> Markup:
    """One bar per minute, stacked by series (e.g. outcome), oldest minute left."""
    n = max((len(v) for v in series.values()), default=0)
    top = max((sum(v[i] for v in series.values()) for i in range(n)), default=0) or 1
    parts = []
    for i in range(n):
        y = float(top)
        for j, (name, values) in enumerate(series.items()):
            if values[i] <= 0:
                continue
            y -= values[i]
            parts.append(f'<rect x="{i + 0.1:.2f}" y="{y:.3f}" width="0.8" '
                         f'height="{values[i]}" fill="{colour(name, j)}"><title>{escape(name)}: '
                         f'{values[i]} ({n - i - 1} min ago)</title></rect>')
    return _figure(n, top, label, parts)


def lines(series: dict[str, Sequence[int | None]], *, label: str) -> Markup:
    """One line per series over the minutes, with gaps where a minute has no sample."""
    n = max((len(v) for v in series.values()), default=0)
    top = max((x for v in series.values() for x in v if x is not None), default=0) or 1
    parts = []
    for j, (name, values) in enumerate(series.items()):
        for run in _runs(values):
            points = " ".join(f"{i + 0.5},{top - v}" for i, v in run)
            if len(run) == 1:  # a lone sample: a dot (a zero-length line with round caps)
                points += f" {run[0][0] + 0.5},{top - run[0][1]}"
            parts.append(f'<polyline fill="none" stroke="{colour(name, j)}" stroke-width="2" '
                         f'stroke-linecap="round" vector-effect="non-scaling-stroke" '
                         f'points="{points}"><title>{escape(name)}</title></polyline>')
    return _figure(n, top, label, parts)


def sparkline(values: Sequence[int | None], *, label: str, name: str = "succeeded") -> Markup:
    """A tiny bar chart for a table cell."""
    n = len(values)
    top = max((v for v in values if v), default=0) or 1
    bars = "".join(f'<rect x="{i}" y="{top - v}" width="0.9" height="{v}" '
                   f'fill="{colour(name)}"/>' for i, v in enumerate(values) if v)
    return Markup(f'<svg class="spark" viewBox="0 0 {max(n, 1)} {top}" '
                  f'preserveAspectRatio="none" role="img" aria-label="{escape(label)}">'
                  f'<title>{escape(label)}</title>{bars}</svg>')


def legend(names: Sequence[str]) -> Markup:
    items = "".join(f'<span><i style="background:{colour(n, i)}"></i>{escape(n)}</span>'
                    for i, n in enumerate(names))
    return Markup(f'<div class="legend">{items}</div>')


def _runs(values: Sequence[int | None]) -> list[list[tuple[int, int]]]:
    runs: list[list[tuple[int, int]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]


def _figure(n: int, top: int, label: str, parts: list[str]) -> Markup:
    half = f"-{n - n // 2} min" if n > 1 else ""
    return Markup(
        f'<figure class="chart"><div class="plot"><span class="ymax">{top}</span>'
        f'<span class="yzero">0</span>'
        f'<svg viewBox="0 0 {max(n, 1)} {top}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(label)}"><title>{escape(label)}</title>{"".join(parts)}</svg>'
        f'</div><div class="xaxis"><span>-{n} min</span><span>{half}</span><span>now</span>'
        f'</div></figure>')
