# The two commands of this project:
#   make demo   run the quick-start DAG in a real Airflow against the local sandbox API
#               (make demo DAG=vimmerse_content_production for the scheduled-production example)
#               (or against the real API when VIMMERSE_API_KEY is set)
#   make test   lint, type-check and test on the lowest and the newest supported Airflow
# Everything installs itself into .venvs/ from the pinned constraints in constraints/.

PYTHON ?= python3
AIRFLOW_LOW := 2.11.2
AIRFLOW_HIGH := 3.3.2
UV := .venvs/uv/bin/uv
# The package's extras in each test venv. Only the newest Airflow gets OpenLineage, so the oldest
# tests the operators without it, for real.
EXTRAS := sandbox,test,docs
EXTRAS_$(AIRFLOW_HIGH) := $(EXTRAS),lineage
extras_of = $(or $(EXTRAS_$(1)),$(EXTRAS))

.PHONY: demo test test-side-a test-side-b test-low test-high lint docs bench lock clean

DAG ?= vimmerse_quickstart

demo: .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	scripts/demo.sh .venvs/airflow-$(AIRFLOW_HIGH) $(DAG)

# Two sides run at once (much of each suite waits on sandbox jobs and Airflow processes); each side's
# output is printed whole when it ends. The newest Airflow's suite is the long one, so its slowest
# tests (HIGH_LATE: each starts its own Airflow processes) run on the first side, after the oldest
# Airflow's suite, and the rest of it on the second: both sides take about 20 minutes.
HIGH_LATE := tests/native tests/test_rerun_waits.py

test: lint docs
	$(MAKE) --no-print-directory -j2 --output-sync=target test-side-a test-side-b

# Both parts always run, so one failure does not hide another.
test-side-a: .venvs/airflow-$(AIRFLOW_LOW)/.installed .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	scripts/pytest.sh .venvs/airflow-$(AIRFLOW_LOW); low=$$?; \
	scripts/pytest.sh .venvs/airflow-$(AIRFLOW_HIGH) $(HIGH_LATE); high=$$?; \
	exit $$((low || high))

test-side-b: .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	scripts/pytest.sh .venvs/airflow-$(AIRFLOW_HIGH) $(addprefix --ignore=,$(HIGH_LATE))

lint: .venvs/airflow-$(AIRFLOW_LOW)/.installed .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	scripts/lint.sh .venvs/airflow-$(AIRFLOW_HIGH)
	.venvs/airflow-$(AIRFLOW_LOW)/bin/mypy

# The Sphinx site in docs/ (warnings are errors; -E re-reads every page so no warning hides in a cache).
docs: .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	.venvs/airflow-$(AIRFLOW_HIGH)/bin/sphinx-build -E -W --keep-going -b html docs docs/_build/html

test-low: .venvs/airflow-$(AIRFLOW_LOW)/.installed
	scripts/pytest.sh .venvs/airflow-$(AIRFLOW_LOW)

test-high: .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	scripts/pytest.sh .venvs/airflow-$(AIRFLOW_HIGH)

bench: .venvs/airflow-$(AIRFLOW_HIGH)/.installed
	.venvs/airflow-$(AIRFLOW_HIGH)/bin/python -m benchmarks

$(UV):
	$(PYTHON) -m venv .venvs/uv
	.venvs/uv/bin/pip install -q "uv==0.13.8"

.venvs/airflow-%/.installed: constraints/airflow-%.txt pyproject.toml | $(UV)
	$(UV) venv -q --allow-existing -p $(PYTHON) .venvs/airflow-$*
	VIRTUAL_ENV=$(CURDIR)/.venvs/airflow-$* $(UV) pip install -q -c constraints/airflow-$*.txt \
		"apache-airflow==$*" -e ".[$(call extras_of,$*)]"
	touch $@

# Re-resolve the pinned environments (run by hand when a dependency should move).
lock: | $(UV)
	scripts/lock.sh $(UV) $(AIRFLOW_LOW):$(call extras_of,$(AIRFLOW_LOW)) $(AIRFLOW_HIGH):$(call extras_of,$(AIRFLOW_HIGH))

clean:
	rm -rf .venvs output
