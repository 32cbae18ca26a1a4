"""The verbs that read a run's results store (`show`, `plot`, `report`, `compare`, `export --top`),
on small runs fabricated with the store's own write API, plus the pure series behind the plots."""

import json
import re
import subprocess
import sys

import pytest

from nas.cli import main
from nas.inspect.plots import moving_average, pareto_front, running_best
from nas.store import ResultsStore
from search_space import BUILTIN_SPECS, SearchSpace, load_spec
from search_space.serialize import spec_to_dict

SPACE = SearchSpace.from_seed("resnet50")
# (trial id, status, reward, ap, GMACs): t3 best; Pareto front by FLOPs: t4, t5, t3
TRIALS = [("t0", "ok", 0.10, 0.10, 4.0), ("t1", "ok", 0.25, 0.25, 6.0), ("t2", "nan_loss", 0.0, None, None),
          ("t3", "ok", 0.30, 0.30, 8.0), ("t4", "ok", 0.20, 0.20, 3.0), ("t5", "stopped", 0.28, 0.28, 5.0)]
RANKED = ["t3", "t5", "t1", "t4", "t0", "t2"]


def trial_row(k, trial_id, status, reward, ap, gmacs, spec=None):
    decisions = SPACE.sample(seed=7, k=k)
    spec = spec or SPACE.decode(decisions, name=f"cand-{trial_id}")
    return {"trial_id": trial_id, "proposal_index": k, "decisions": list(SPACE.encode(spec)),
            "spec": spec_to_dict(spec), "status": status,
            "reward": reward, "ap": ap, "ap50": ap and ap + 0.2, "aps": ap and ap / 2, "apm": ap, "apl": None,
            "flops": gmacs and int(gmacs * 1e9), "params": 1_000_000 + k, "train_seconds": 60.0 + k,
            "error": "loss is NaN" if status == "nan_loss" else None,
            "started_at": f"2026-01-01T00:0{k}:00+00:00", "finished_at": f"2026-01-01T00:0{k}:50+00:00"}


def make_run(folder, name, controller, trials, baseline=None, options=None):
    store = ResultsStore(str(folder / "search.db"))
    store.set_meta("config", {"trials": 8, "controller": {"name": controller, "options": options or {}},
                              "run": {"name": name},
                              "space": {"seed": "resnet50", "overrides": {}}})
    if baseline:
        store.set_meta("baseline", baseline)
    for k, trial in enumerate(trials):
        assert store.commit_trial(trial_row(k, *trial))
    return store


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    evo = make_run(root / "evo", "evo6", "evolution", TRIALS, {"label": "r50-sd", "ap": 0.22, "flops": 7_000_000_000})
    rnd = make_run(root / "rnd", "evo4", "evolution", [
        ("r0", "ok", 0.05, 0.05, 2.0), ("r1", "ok", 0.15, 0.15, 9.0), ("r2", "error", 0.0, None, None),
        ("r3", "ok", 0.12, 0.12, 6.0, BUILTIN_SPECS["r50-sd"])], options={"seed_arch": "r50-sd"})
    evo.close()
    rnd.close()
    return root


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- pure series -----------------------------------------------------------------------------
def test_running_best_and_moving_average():
    values = [0.1, None, 0.25, 0.0, 0.3, 0.2]
    assert running_best(values) == [0.1, 0.1, 0.25, 0.25, 0.3, 0.3]
    assert running_best([None, 0.2]) == [None, 0.2]
    assert moving_average(values, window=2) == pytest.approx([0.1, 0.1, 0.25, 0.125, 0.15, 0.25])
    assert moving_average([None, None], window=3) == [None, None]


def test_pareto_front():
    points = [(4.0, 10), (6.0, 25), (8.0, 30), (3.0, 20), (5.0, 28), (5.0, 28), (9.0, 30)]
    assert pareto_front(points) == [3, 4, 2]
    assert pareto_front([]) == []


# ---- show ------------------------------------------------------------------------------------
def test_show_json_summary_and_ordering(capsys, runs):
    code, out, err = cli(capsys, "show", runs / "evo", "--json", "--top", "4")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert [r["trial_id"] for r in data["leaderboard"]] == RANKED[:4]
    assert [r["rank"] for r in data["leaderboard"]] == [1, 2, 3, 4]
    assert data["leaderboard"][0] == {
        "rank": 1, "trial_id": "t3", "status": "ok", "reward": 0.3, "ap": 0.3, "ap50": 0.5, "ap75": None,
        "aps": 0.15, "apm": 0.3, "apl": None, "flops": 8_000_000_000, "params": 1_000_003, "train_seconds": 63.0,
        "flops_before_pruning": False}
    s = data["summary"]
    assert (s["run"], s["controller"], s["trials_done"], s["trials_requested"], s["failed"]) == \
        ("evo6", "evolution", 6, 8, 1)
    assert (s["best_trial"], s["best_ap"], s["wall_seconds"]) == ("t3", 0.3, 350.0)
    assert s["statuses"] == {"ok": 4, "nan_loss": 1, "stopped": 1}
    assert s["search_space"]["paper_orderings"] == 435_456_000
    assert s["baseline"]["label"] == "r50-sd"


def test_seed_baseline_from_a_seeded_controller(capsys, runs, tmp_path):
    data = json.loads(cli(capsys, "show", runs / "rnd", "--json")[1])
    assert data["summary"]["baseline"] == {"label": "r50-sd (trial r3)", "ap": 0.12, "flops": 6_000_000_000,
                                           "trial_id": "r3"}
    assert cli(capsys, "plot", runs / "rnd", "-o", tmp_path)[0] == 0
    assert "seed baseline (r50-sd (trial r3))" in (tmp_path / "ap_vs_flops.svg").read_text()


def test_show_text(capsys, runs):
    code, out, _ = cli(capsys, "show", runs / "evo")
    assert code == 0
    lines = out.splitlines()
    assert "controller: evolution" in lines and "trials: 6 done of 8, 1 failed" in lines
    assert "best: 30.0 AP (trial t3)" in lines and "wall time: 0h05m50s" in lines
    table = lines[lines.index("") + 1:]
    assert table[0].split() == ["rank", "trial", "status", "AP", "AP50", "APs", "APm", "APl", "GMACs", "params(M)",
                                "seconds"]
    assert [row.split()[1] for row in table[1:]] == RANKED
    assert table[1].split() == ["1", "t3", "ok", "30.0", "50.0", "15.0", "30.0", "-", "8.000", "1.000", "63"]


def test_show_reads_while_a_search_writes(capsys, tmp_path):
    writer = make_run(tmp_path, "live", "ppo", TRIALS[:2])
    try:
        assert json.loads(cli(capsys, "show", tmp_path, "--json")[1])["summary"]["trials_done"] == 2
        assert writer.commit_trial(trial_row(2, *TRIALS[3]))
        data = json.loads(cli(capsys, "show", tmp_path, "--json")[1])
        assert data["summary"]["trials_done"] == 3 and data["leaderboard"][0]["trial_id"] == "t3"
    finally:
        writer.close()


def test_show_empty_run(capsys, tmp_path):
    make_run(tmp_path, "empty", "random", []).close()
    code, out, _ = cli(capsys, "show", tmp_path)
    assert code == 0 and "best: -" in out and "trials: 0 done of 8, 0 failed" in out


# ---- plot, compare, report, export --top ----------------------------------------------------
def svg_ids(text):
    return set(re.findall(r'id="([a-z0-9.-]+)"', text))


def test_plot_writes_png_and_svg(capsys, runs, tmp_path):
    code, out, _ = cli(capsys, "plot", runs / "evo", "-o", tmp_path / "figs")
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == ["ap_vs_flops.png", "ap_vs_flops.svg", "reward.png", "reward.svg"]
    assert out.count("wrote ") == 4
    assert (tmp_path / "figs" / "reward.png").read_bytes().startswith(b"\x89PNG")
    reward = (tmp_path / "figs" / "reward.svg").read_text()
    assert {"trial-points", "failed-points", "running-best", "moving-average"} <= svg_ids(reward)
    pareto = (tmp_path / "figs" / "ap_vs_flops.svg").read_text()
    assert {"trial-points", "pareto-front", "baseline"} <= svg_ids(pareto)
    assert "Pareto front (3)" in pareto and "G multiply-adds" in pareto
    assert all(f">{t}<" in pareto for t in ("t4", "t5", "t3")) and ">t1<" not in pareto


def test_compare(capsys, runs, tmp_path):
    code, out, _ = cli(capsys, "compare", runs / "evo", runs / "rnd", "--json", "-o", tmp_path / "c.svg")
    assert code == 0
    rows = json.loads(out[: out.rindex("]") + 1])
    assert rows == [
        {"run": "evo6", "controller": "evolution", "trials_done": 6, "failed": 1, "best_ap": 0.3, "best_trial": "t3"},
        {"run": "evo4", "controller": "evolution", "trials_done": 4, "failed": 1, "best_ap": 0.15, "best_trial": "r1"}]
    assert {"best-0", "best-1"} <= svg_ids((tmp_path / "c.svg").read_text())
    code, out, _ = cli(capsys, "compare", runs / "evo", runs / "rnd")
    assert out.splitlines()[1].split() == ["evo6", "evolution", "6", "1", "30.0", "t3"]


def test_report_is_self_contained(capsys, runs, tmp_path):
    out = tmp_path / "report.html"
    code, _, _ = cli(capsys, "report", runs / "evo", "-o", out, "--top", "1")
    assert code == 0
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 3  # 2 figures + 1 drawing
    rows = re.findall(r"<tr><td>(\d+)</td><td class=text>(\w+)</td>", text)
    assert rows == [(str(i + 1), t) for i, t in enumerate(RANKED)]
    assert "<td>30.0</td>" in text and "rank 1: trial t3" in text and "rank 2:" not in text
    ids = svg_ids(text)
    assert {"top1.block-16", "top1.edge-0-2", "pareto-front", "running-best"} <= ids
    assert not re.search(r"(src|href)=\"(https?:|//)", text) and "<script" not in text and "<link" not in text


def test_export_top_k(capsys, runs, tmp_path):
    code, _, _ = cli(capsys, "export", runs / "evo", "--top", "2", "--format", "json", "-o", tmp_path / "best")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "best").iterdir()) == ["top1-t3.json", "top2-t5.json"]
    assert load_spec(str(tmp_path / "best" / "top1-t3.json")) == SPACE.decode(SPACE.sample(seed=7, k=3), name="cand-t3")


def test_draw_and_export_run_sources(capsys, runs, tmp_path):
    code, _, _ = cli(capsys, "draw", f"{runs / 'evo'}:best", "-o", tmp_path / "d.png")
    assert code == 0 and (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")
    code, out, _ = cli(capsys, "export", f"{runs / 'evo'}:t0")
    assert code == 0 and json.loads(out)["name"] == "cand-t0"
    code, _, err = cli(capsys, "draw", f"{runs / 'evo'}:t99")
    assert code == 2 and "no trial 't99'" in err


# ---- errors and help -------------------------------------------------------------------------
VERBS = ("show", "plot", "report", "compare")


@pytest.mark.parametrize("verb", VERBS)
def test_bad_run_dir_is_one_line_exit_2(capsys, tmp_path, verb):
    (tmp_path / "notastore").mkdir()
    (tmp_path / "notastore" / "search.db").write_text("garbage that is not sqlite")
    for run, fragment in [(tmp_path / "missing", "does not exist"), (tmp_path, "has no search.db"),
                          (tmp_path / "notastore", "")]:
        code, _, err = cli(capsys, verb, run)
        assert code == 2 and err.count("\n") == 1 and err.startswith(f"nas {verb}: error: ")
        assert fragment in err


@pytest.mark.parametrize("argv, fragment", [
    (["plot", "{evo}", "-o", "{evo}/search.db"], "is a file; give a folder"),
    (["report", "{evo}", "-o", "{tmp}/missing/r.html"], "cannot write"),
    (["compare", "{evo}", "-o", "{tmp}/c.pdf"], "end the file name in .svg or .png"),
    (["show", "{evo}", "--top", "0"], "0 is outside [1, "),
    (["export", "{evo}", "--top", "-1"], "-1 is outside [1, "),
])
def test_bad_outputs_are_one_line_exit_2(capsys, runs, tmp_path, argv, fragment):
    argv = [a.replace("{evo}", str(runs / "evo")).replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse rejects bad option values itself
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and fragment in err


@pytest.mark.parametrize("verb", (*VERBS, "draw", "export"))
def test_help_has_an_example(capsys, verb):
    with pytest.raises(SystemExit) as info:
        main([verb, "--help"])
    assert info.value.code == 0
    assert f"nas {verb} " in capsys.readouterr().out.split("example")[1]


def test_inspection_verbs_never_import_ray(runs, tmp_path):
    code = (
        "import sys; from nas.cli import main; "
        f"assert main(['show', {str(runs / 'evo')!r}, '--json']) == 0; "
        f"assert main(['plot', {str(runs / 'evo')!r}, '-o', {str(tmp_path)!r}]) == 0; "
        "import nas.inspect.report, nas.commands.compare, nas.commands.export, nas.commands.draw; "
        "print('LOADED', sorted(m for m in ('ray', 'hydra', 'omegaconf', 'torch') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "LOADED []"
