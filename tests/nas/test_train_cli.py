"""`nas train`: trains a spec or the r50-fpn baseline with Hydra overrides and ends stdout with
one JSON line; bad overrides and bad data are one stderr line and exit 2."""

from __future__ import annotations

import json

import pytest

from nas.cli import main


def _tiny_data(tmp_path) -> list[str]:
    return [f"data.cache_dir={tmp_path / 'cache'}", "data.synth_images=24", "data.synth_size=64", "data.heldout_images=8"]


def run_cli(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("source", ["spinenet-49", "r50-fpn"])
def test_train_prints_metrics_as_last_json_line(capsys, tmp_path, source):
    code, out, err = run_cli(capsys, "train", source, "proxy=smoke", "proxy.epochs=1", *_tiny_data(tmp_path))
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["source"], result["tier"], result["status"], result["epochs_done"]) == (source, "smoke", "ok", 1)
    assert result["params"] > 0 and result["ap"] is not None
    assert "epoch 1: loss" in err


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["proxy.epochss=2"], "nas train: error: bad override: Could not override 'proxy.epochss'"),
        (["proxy=gpu"], "nas train: error: bad override: In 'train': Could not find 'proxy/gpu'"),
        (["proxy.epochs=0"], "nas train: error: proxy.epochs is 0; it must be > 0"),
        (["proxy=replay"], "nas train: error: the proxy tier is replay, which trains nothing"),
        (["data=coco"], "nas train: error: data=coco needs data.images=DIR and data.annotations=FILE"),
        (["data=coco", "data.images=/nonexistent/x", "data.annotations=/nonexistent/a.json"],
         "nas train: error: images folder /nonexistent/x does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, overrides, message):
    code, out, err = run_cli(capsys, "train", "spinenet-49", "proxy=smoke", *overrides)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_unknown_source(capsys):
    code, _, err = run_cli(capsys, "train", "spinenet-50", "proxy=smoke")
    assert code == 2 and err.startswith("nas train: error: unknown SOURCE 'spinenet-50'")
