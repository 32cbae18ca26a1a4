"""One self-contained HTML report of a run: summary, leaderboard, figures and drawings.

Everything is inline (SVG figures, a small stylesheet); no scripts, fonts or links to fetch,
so the file reads the same in any browser offline. Tables come from `leaderboard.py` (columns
labelled by the run's task), figures from `plots.py` and `draw.py`, so the report shows exactly
what `show`/`plot`/`draw` show.
"""

from __future__ import annotations

import html
import re

from nas.inspect.draw import drawing_svg
from nas.inspect.figures import svg_text
from nas.inspect.leaderboard import (
    leaderboard_columns,
    leaderboard_rows,
    pruning_footnote,
    row_cells,
    summary_data,
    summary_lines,
)
from nas.inspect.plots import pareto_figure, reward_figure
from nas.inspect.runs import RunSnapshot, trial_spec

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f0f0f0; } td.text { text-align: left; }
figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
"""
TEXT_COLUMNS = ("trial_id", "status")  # left-aligned leaderboard columns


def inline_svg(svg: str) -> str:
    """SVG text without its XML prolog and DOCTYPE, ready to sit inside HTML."""
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", "", svg)


def leaderboard_html(rows: list[dict], columns: tuple) -> str:
    """The leaderboard as an HTML table (the columns and units of `nas show`: `leaderboard_columns`)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h, _, _ in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td{" class=text" if key in TEXT_COLUMNS else ""}>{html.escape(cell)}</td>'
            for (_, key, _), cell in zip(columns, row_cells(r, columns))) + "</tr>\n"
        for r in rows
    )
    note = pruning_footnote(rows)
    return f"<table>\n<tr>{head}</tr>\n{body}</table>" + (f"\n<p>{html.escape(note)}</p>" if note else "")


def _drawings(run: RunSnapshot, top: int) -> str:
    parts = []
    for rank, row in enumerate(run.ranked(top), start=1):
        caption = html.escape(f"rank {rank}: trial {row['trial_id']} (reward {row['reward']:.4f})")
        svg = inline_svg(drawing_svg(trial_spec(row), id_prefix=f"top{rank}."))
        parts.append(f"<figure>{svg}<figcaption>{caption}</figcaption></figure>")
    return "\n".join(parts) or "<p>No finished trial yet.</p>"


def report_html(run: RunSnapshot, top: int = 3, leaderboard_top: int | None = 20) -> str:
    """The whole report as one HTML string.

    Args:
        run: the run snapshot.
        top: how many of the best architectures to draw.
        leaderboard_top: leaderboard rows (None for all).
    """
    summary = "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(summary_data(run), run.task))
    figures = "\n".join(f"<figure>{inline_svg(svg_text(build(run)))}</figure>"
                        for build in (reward_figure, pareto_figure))
    table = leaderboard_html(leaderboard_rows(run, leaderboard_top), leaderboard_columns(run.task))
    title = html.escape(f"spinenet-nas run {run.name}")
    return (
        f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{title}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n<h1>{title}</h1>\n<h2>Summary</h2>\n<ul>{summary}</ul>\n"
        f"<h2>Leaderboard</h2>\n{table}\n"
        f"<h2>Search progress</h2>\n{figures}\n<h2>Top architectures</h2>\n{_drawings(run, top)}\n"
        "</body></html>\n"
    )
