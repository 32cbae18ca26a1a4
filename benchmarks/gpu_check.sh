#!/usr/bin/env bash
# GPU check (at most ~6 minutes on one GPU): SpineNet-49 vs R50-FPN training images/s at 640 px in
# bf16 + channels_last, one coco512-tier proxy trial on synthetic 512 px data, then the images/s of
# that tier's training DataLoader (its workers and pinned memory) on the same data.
# Needs python with torch + torchvision; installs nothing. Pass --cpu for a seconds-long dry run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" exec timeout 360 "$PY" benchmarks/gpu_check.py "$@"
