"""Figures of search runs: reward per trial, the reward metric (AP, top-1, ...) vs FLOPs with the
Pareto front, and the best-so-far curves of several runs on one plot. Axes and titles name the
run's reward metric by its task's label (`nas/run_task.py` `RunTask`).

The series are computed by small pure functions (`running_best`, `moving_average`,
`pareto_front`); the figures only draw them. Artists carry SVG ids (`trial-points`,
`failed-points`, `running-best`, `moving-average`, `pareto-front`, `baseline`, `best-<i>`)
so tests and tools can find them.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from nas.inspect.figures import new_figure
from nas.inspect.runs import RunSnapshot, baseline_value
from nas.run_task import RunTask
from nas.store import FAILED_STATUSES

MOVING_AVERAGE_WINDOW = 5  # trials per moving-average point: smooths noise, keeps trends of short runs


def running_best(values: Sequence[float | None]) -> list[float | None]:
    """Best value so far at each position (None until the first value)."""
    best, out = None, []
    for value in values:
        if value is not None and (best is None or value > best):
            best = value
        out.append(best)
    return out


def moving_average(values: Sequence[float | None], window: int = MOVING_AVERAGE_WINDOW) -> list[float | None]:
    """Trailing mean over the last `window` positions, ignoring missing values (None if all are)."""
    out = []
    for i in range(len(values)):
        recent = [v for v in values[max(0, i - window + 1): i + 1] if v is not None]
        out.append(sum(recent) / len(recent) if recent else None)
    return out


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats (lower cost x and higher value y), by cost.

    A point is on the front when every point with cost <= its cost has a lower value
    (ties: the earliest point of equal (x, y) is kept).
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1], i))
    front, best = [], None
    for i in order:
        if best is None or points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def _series(ax: Axes, xs, ys, gid: str, **style) -> None:
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    if pairs:
        (line,) = ax.plot([p[0] for p in pairs], [p[1] for p in pairs], **style)
        line.set_gid(gid)


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666666")


def _finish(ax: Axes, xlabel: str, ylabel: str, title: str, legend: bool) -> None:
    """Axis labels, title, light grid, and the legend when anything was plotted."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(color="#e5e5e5", linewidth=0.6)
    if legend:
        ax.legend(fontsize=8, loc="lower right")


def reward_axis(task: RunTask) -> str:
    """What a reward axis shows: the reward, the held-out value of the run's reward metric."""
    return f"held-out {task.reward_label}, 0-1"


def reward_figure(run: RunSnapshot) -> Figure:
    """Reward of every trial in feedback order, with the running best and a moving average."""
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    rewards = [t["reward"] for t in run.trials]
    xs = list(range(1, len(rewards) + 1))
    ok = [(x, r) for x, r, t in zip(xs, rewards, run.trials) if r is not None and t["status"] not in FAILED_STATUSES]
    failed = [(x, r or 0.0) for x, r, t in zip(xs, rewards, run.trials) if t["status"] in FAILED_STATUSES]
    if ok:
        ax.scatter(*zip(*ok), s=18, color="#1f77b4", alpha=0.7, label="trial reward", zorder=3).set_gid("trial-points")
    if failed:
        ax.scatter(*zip(*failed), s=30, marker="x", color="#d62728", label="failed trial (penalty)",
                   zorder=3).set_gid("failed-points")
    _series(ax, xs, running_best(rewards), "running-best", drawstyle="steps-post", color="black", linewidth=1.6,
            label="running best")
    _series(ax, xs, moving_average(rewards), "moving-average", color="#ff7f0e", linewidth=1.4,
            label=f"moving average ({MOVING_AVERAGE_WINDOW} trials)")
    if not rewards:
        _empty(ax, "no finished trials yet")
    _finish(ax, "trial (in the order rewards reached the controller)", f"reward ({reward_axis(run.task)})",
            f"{run.name}: reward per trial ({run.controller})", bool(rewards))
    return fig


def _metric_flops_points(run: RunSnapshot) -> list[tuple[float, float, str]]:
    """(GMACs, reward metric in %, trial id) of every trial that has both."""
    task, points = run.task, []
    for t in run.trials:
        value = task.value(t)
        if value is not None and t["flops"] and t["status"] not in FAILED_STATUSES:
            points.append((t["flops"] / 1e9, 100 * value, t["trial_id"]))
    return points


def _mark_counted_before_pruning(ax, run: RunSnapshot, points) -> None:
    """Ring the trials whose stored FLOPs include dead blocks (a store from before pruning)."""
    old = {t["trial_id"] for t in run.trials if t.get("flops_before_pruning")}
    marked = [p for p in points if p[2] in old]
    if marked:
        ax.scatter([p[0] for p in marked], [p[1] for p in marked], s=70, facecolors="none", edgecolors="#ff7f0e",
                   linewidths=1.3, zorder=4, label="FLOPs counted before dead blocks were pruned",
                   ).set_gid("counted-before-pruning")


def pareto_figure(run: RunSnapshot) -> Figure:
    """The reward metric (%) against FLOPs (G multiply-adds) of every trial, the Pareto front, and
    the seed baseline."""
    fig = new_figure(7.5, 4.6)
    ax = fig.subplots()
    label = run.task.reward_label
    points = _metric_flops_points(run)
    if points:
        ax.scatter([p[0] for p in points], [p[1] for p in points], s=18, color="#1f77b4", alpha=0.6,
                   label="trial", zorder=3).set_gid("trial-points")
        front = [points[i] for i in pareto_front([(p[0], p[1]) for p in points])]
        ax.plot([p[0] for p in front], [p[1] for p in front], drawstyle="steps-post", color="#d62728", marker="o",
                markersize=5, linewidth=1.4, label=f"Pareto front ({len(front)})", zorder=4)[0].set_gid("pareto-front")
        for x, y, trial_id in front:
            ax.annotate(trial_id, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        _mark_counted_before_pruning(ax, run, points)
    else:
        _empty(ax, f"no trial with both {label} and FLOPs yet")
    baseline = baseline_value(run)
    if baseline is not None and run.baseline.get("flops"):
        ax.scatter([run.baseline["flops"] / 1e9], [100 * baseline], marker="*", s=160, color="#2ca02c",
                   edgecolor="black", zorder=5, label=f"seed baseline ({run.baseline.get('label', 'seed')})",
                   ).set_gid("baseline")
    _finish(ax, "FLOPs (G multiply-adds at the proxy input size)", f"{label} (%, held-out split)",
            f"{run.name}: {label} vs FLOPs", bool(points))
    return fig


def compare_figure(runs: Sequence[RunSnapshot]) -> Figure:
    """Best-so-far reward of several runs (of one reward metric) against trials done, one curve per run."""
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    for i, run in enumerate(runs):
        rewards = [t["reward"] for t in run.trials]
        _series(ax, range(1, len(rewards) + 1), running_best(rewards), f"best-{i}", drawstyle="steps-post",
                linewidth=1.6, label=f"{run.name} ({run.controller}, {len(rewards)} trials)")
    task = runs[0].task if runs else RunTask.of_config(None)
    _finish(ax, "trials done", f"best reward so far ({reward_axis(task)})", "best-so-far reward by run",
            any(t["reward"] is not None for run in runs for t in run.trials))
    return fig
