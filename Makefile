# spinenet-nas: `make test` and `make search` work from a fresh clone (they create .venv).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Ray's token authentication stays on for `make search`; the tests (and the benchmarks' own
# throw-away local searches) switch it off for themselves only.

.PHONY: install test search lint clean check-tf bench-speed bench-speed-compile bench-controllers bench-screen bench-overhead bench-memory bench-fidelity bench-classification bench-instance bench-proxy-design bench-gpu bench-store bench-data bench-coco-scale repro-mini ground-truth bench-estimates ablations ablations-table8

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its pinned stack

test: $(STAMP)  ## the whole test suite, slowest tests listed at the end
	RAY_AUTH_MODE=disabled $(PY) -m pytest -q --durations=15

search: $(STAMP)  ## the out-of-box run: nas search with its defaults
	$(VENV)/bin/nas search

bench-speed: $(STAMP)  ## proxy train-step time, FLOPs and norm volume, SpineNet-49 vs R50-FPN (5 settings)
	$(PY) benchmarks/proxy_step_speed.py
	$(PY) benchmarks/proxy_step_speed.py --channels-last
	$(PY) benchmarks/proxy_step_speed.py --keep-freed-memory
	$(PY) benchmarks/proxy_step_speed.py --channels-last --keep-freed-memory
	$(PY) benchmarks/proxy_step_speed.py --width full --steps 4 --warmup 1

bench-speed-compile: $(STAMP)  ## proxy step speed with both backbones through torch.compile (~30 min of compiling on 2 cores)
	$(PY) benchmarks/proxy_step_speed.py --compile

bench-controllers: $(STAMP)  ## controller sample efficiency on surrogate rewards
	$(PY) benchmarks/controller_efficiency.py --jobs 2 --tune

bench-screen: $(STAMP)  ## does the predictor screen reach plain PPO's best in a third of the trainings (surrogate rewards)
	$(PY) benchmarks/screen_efficiency.py --jobs 2

bench-overhead: $(STAMP)  ## Ray search overhead per trial at concurrency 1 and 2
	$(PY) benchmarks/search_overhead.py

bench-memory: $(STAMP)  ## peak RSS of one cpu-tier trial and of the search driver
	$(PY) benchmarks/memory.py

bench-fidelity: $(STAMP)  ## does the cpu proxy rank architectures above seed noise
	$(PY) benchmarks/proxy_fidelity.py

bench-proxy-design: $(STAMP)  ## proxy-design study: ceiling, then the screen (resumable; hours on 2 cores)
	$(PY) benchmarks/proxy_design.py --stage ceiling
	$(PY) benchmarks/proxy_design.py --stage screen

bench-classification: $(STAMP)  ## classification tier: top-1 of r50-sd, r0-sp53, spinenet-49 over 3 seeds, and its cost (resumable)
	$(PY) benchmarks/classification_tier.py

bench-instance: $(STAMP)  ## instance tier: mask AP of r50-sd, r0-sp53, spinenet-49 over 3 seeds, and its cost (resumable)
	$(PY) benchmarks/instance_tier.py

bench-store: $(STAMP)  ## size of search.db after 16, 1000 and 2000 trials (replay search, default PPO)
	$(PY) benchmarks/store_growth.py

bench-data: $(STAMP)  ## loader images/s per core at 512 px: decoding JPEGs vs the input cache, 0/1/2 workers (~5 min)
	$(PY) benchmarks/data_loader.py

bench-coco-scale: $(STAMP)  ## load, validate, clean and split a generated COCO train2017-sized annotation file (targets: 30 s, 2 GB)
	$(PY) benchmarks/coco_scale.py

bench-gpu:  ## GPU check (needs only torch + torchvision); --cpu for a dry run
	bash benchmarks/gpu_check.sh

repro-mini: $(STAMP)  ## 16-trial search on the repro tier, winners and baselines retrained (~80 min on 2 cores)
	$(PY) benchmarks/repro_mini.py --reuse results/benchmarks/proxy_design.json results/benchmarks/proxy_fidelity.json

ground-truth: $(STAMP)  ## ground-truth table: 40 architectures x 2 seeds on the repro tier, estimates (resumable; ~38 trainings, ~2.5 h on 2 cores)
	$(PY) benchmarks/ground_truth.py --reuse results/benchmarks/proxy_design.json results/benchmarks/repro_mini.json

bench-estimates: $(STAMP)  ## cheap estimates (params, FLOPs, zero-cost, early AP, predictor) ranked against the ground-truth table (~5 min)
	$(PY) benchmarks/estimates.py

ablations: $(STAMP)  ## paper Table 9 on the repro tier: R0-SP53 and its damaged connections (~35 min on 2 cores)
	$(PY) benchmarks/ablations.py --tables 9 --reuse results/benchmarks/proxy_design.json

ablations-table8: $(STAMP)  ## paper Table 8 too: searches with fixed orderings (two more 16-trial searches, ~2 h after repro-mini)
	$(PY) benchmarks/ablations.py --reuse results/benchmarks/proxy_design.json
	$(PY) benchmarks/ablations.py --space r0-sp53 --reuse results/benchmarks/proxy_design.json results/benchmarks/ablations.json

# TF Model Garden in its own venv (Ray pins a protobuf TensorFlow cannot use); ~1.5 GB, a few minutes
TF_VENV ?= .venv-tf
TF_STAMP := $(TF_VENV)/.installed

$(TF_STAMP):
	test -x $(TF_VENV)/bin/python || python3 -m venv $(TF_VENV)
	$(TF_VENV)/bin/pip install -q tensorflow-cpu==2.21.0 tf-keras==2.21.0 gin-config==0.5.0 PyYAML==6.0.4 scipy==1.17.1
	$(TF_VENV)/bin/pip install -q --no-deps tf-models-official==2.20.0  # it asks for tensorflow~=2.20; 2.21 builds it
	touch $(TF_STAMP)

check-tf: $(STAMP) $(TF_STAMP)  ## our exports built by TF Model Garden itself: params, BN statistics, shapes, SCALING_MAP keys
	$(PY) benchmarks/check_tf.py --tf-python $(TF_VENV)/bin/python

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
