"""Proxy-design study: which proxy task makes the reward rank the paper's architectures as the
paper does, with every object scale seen, at a cost a search can pay?

Stages (each resumable; every finished training is stored with its provenance as it ends and a
rerun trains only what is missing):
- `ceiling`: r50-fpn and spinenet-49 at proxy widths overfit a 32-image subset for many epochs
  and are scored on it: a working detector, anchors, letterbox and evaluation reach AP >= 0.5.
- `screen`: the four references (r50-sd, r50-fpn, r0-sp53, spinenet-49), one seed, per training
  setting (input size, object-scale profile, anchor size); each run evaluates after every epoch
  (the learning curve against images seen) and keeps its final weights, to which the
  evaluation-only levers are applied afterwards without retraining (precise BN and its batch
  count, score threshold, area ranges).
- `choose`: seeds 1-2 of the references for the settings named with `--only` (with the screen's
  seed 0: seeds 0-2 choose the tier);
- `confirm`: fresh seeds 3-5 of the references and of 4 seeded random specs not used in choosing;
- `rank`: 12 architectures (the references and 8 random specs), one seed, at the setting's epochs
  and at 3x them, for the rank agreement of the short schedule with the long one.
A training already stored by another stage with the same architecture, seed, overrides and
epochs is reused, not retrained.

Trainings run in their own processes, one thread each, `--jobs` at once (2: as a search runs them
on 2 cores), so their seconds are those a search pays. Spread decomposition and rank statistics
are the proxy-fidelity benchmark's own functions.

Usage: python benchmarks/proxy_design.py [--stage ceiling|screen|choose|confirm|rank] [--jobs J]
                                         [--quick] [--out DIR] [--models DIR] [--only SETTING ...]
Writes results/benchmarks/proxy_design.json (or DIR/proxy_design.json); weights under --models
(default runs/proxy_design/, outside git).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, write_json
from design_study import plan, report, train
from proxy_fidelity import train_in_parallel

NAME = "proxy_design"
MODELS_DIR = Path(__file__).resolve().parent.parent / "runs" / "proxy_design"


def load(path: Path) -> dict:
    """The study's stored trainings (empty when nothing was stored yet)."""
    if not path.exists():
        return {"trainings": []}
    return json.loads(path.read_text())


def _identity(row: dict) -> tuple:
    """What a training is, whatever stage asked for it: architecture, seed, overrides, epochs."""
    return row["arch"], row["seed"], tuple(row["overrides"]), row["epochs"], bool(row.get("score_on_training"))


def reuse_stored(jobs: list[dict], study: dict) -> list[dict]:
    """Store, under each job's own key, a finished training of the same identity from another
    stage (e.g. the screen's seed 0 in the rank stage); returns the jobs still to train."""
    stored = {_identity(t): t for t in study["trainings"] if t["status"] == "ok"}
    keys = {t["key"] for t in study["trainings"] if t["status"] == "ok"}
    todo = []
    for job in jobs:
        twin = stored.get(_identity(job))
        if twin is None:
            todo.append(job)
        elif job["key"] not in keys:
            study["trainings"].append({**twin, **{k: job[k] for k in ("key", "stage", "setting")},
                                       "reused_from": twin["key"]})
    return todo


def run_stage(jobs: list[dict], workers: int, out_dir: Path, study: dict) -> None:
    """Train every job not yet stored, storing each as it ends."""
    todo = reuse_stored(jobs, study)
    todo_keys = {j["key"] for j in todo}
    study["trainings"] = [t for t in study["trainings"] if t["status"] == "ok" or t["key"] not in todo_keys]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} trainings stored; {len(todo)} to train, {workers} at a time", flush=True)
    if not todo:
        return
    plan.prepare_all_data(todo)
    progress = report.Progress(len(todo))

    def store(row: dict) -> None:
        study["trainings"] = [t for t in study["trainings"] if t["key"] != row["key"]] + [row]
        write_json(NAME, {"trainings": study["trainings"]}, out_dir)
        print(progress.line(row), flush=True)

    train_in_parallel(todo, workers, store, worker=train.train_job)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=plan.STAGES, default="screen", help="which trainings (default screen)")
    parser.add_argument("--only", nargs="*", help="only these screen settings (choose, confirm and rank need them)")
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once, one thread each (default 2)")
    parser.add_argument("--quick", action="store_true", help="tiny settings that finish in seconds (tests)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder of the JSON")
    parser.add_argument("--models", type=Path, default=MODELS_DIR, help="folder of the trained weights")
    parser.add_argument("--summary-only", action="store_true", help="train nothing; summarize what is stored")
    parser.add_argument("--markdown", action="store_true", help="also print the summary as a markdown table")
    args = parser.parse_args(argv)
    study = load(args.out / f"{NAME}.json")
    if not args.summary_only:
        jobs = plan.jobs(args.stage, quick=args.quick, only=args.only, models=args.models, jobs=args.jobs)
        run_stage(jobs, args.jobs, args.out, study)
    summary = report.summarize(study["trainings"])
    report.print_summary(summary)
    if args.markdown:
        print("\n" + report.markdown_table(summary))
    path = write_json(NAME, {"trainings": study["trainings"], "summary": summary}, args.out)
    figure = report.plot(summary, args.out / report.FIGURE_NAME)
    print(f"\nwrote {path}" + (f" and {figure}" if figure else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
