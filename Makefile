# Verbs: demo, test, lint, bench. Each creates .venv and installs into it by itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Most tests wait on brokers and reader timeouts, not on the CPU: four workers on two cores.
PYTEST_WORKERS ?= 4

.PHONY: demo test test-columnar fuzz fuzz-pipeline test-tansu test-protobuf6 reliability reliability-long soak lint bench protos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

# pytest exits 5 when it collects nothing; that is not a failure of the code under test.
# The fault suite (tests/reliability) kills brokers and processes: it runs on its own, below.
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not reliability" $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# The unit tier again with each fallback parser forced (the default run covers native), and the
# contract tier on the in-process stores with numpy, after checking that the install built the
# native extension and the tests import it.
test-columnar: $(STAMP)
	$(PY) -c "from ma_dataplatforms_streaming_support_library.columnar import active_implementation as a; assert a() == 'native', 'native columnar extension not built: ' + a()"
	MA_STREAMING_COLUMNAR=numpy $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not kafka and not reliability" tests/unit tests/contract $(PYTEST_ARGS)
	MA_STREAMING_COLUMNAR=reference $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests/unit $(PYTEST_ARGS)

# 1M mutated real packets through the native codec, bounded at about two minutes.
fuzz: $(STAMP)
	$(PY) tests/fuzz/fuzz_columnar.py --packets 1000000 --seconds 110

# Mutated packets through the reading pipeline: 1M through the envelope check and read_session's
# decoders, 20k through buffering and interpolation, 2k through a store and the packet reader.
fuzz-pipeline: $(STAMP)
	$(PY) tests/fuzz/fuzz_pipeline.py --packets 1000000 --buffered 20000 --stored 2000 --seconds 150

# The Kafka tiers again on the second, independent broker implementation (tansu).
test-tansu: $(STAMP)
	TEST_KAFKA_BROKER=tansu $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "kafka and not reliability" $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# The generated protobuf code must also import and work under the oldest supported runtime.
test-protobuf6: $(STAMP)
	$(PYTHON) -m venv .venv-pb6
	.venv-pb6/bin/python -m pip install --quiet --upgrade pip
	.venv-pb6/bin/python -m pip install --quiet -e ".[dev]" "protobuf==6.31.1"
	.venv-pb6/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup tests/unit -q -p no:cacheprovider; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; fi; exit $$rc

# Faults from outside (tests/reliability): broker SIGTERM/SIGKILL under readers and writers,
# kill -9 of embedded writers and readers, a full disk, a 60 s soak. Two workers: the tests
# start processes of their own.
reliability: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -m reliability tests/reliability $(PYTEST_ARGS)

# The long forms: a 60 s broker outage, 100 kill -9 of writers, then the 10-minute soak.
reliability-long: $(STAMP)
	MA_STREAMING_RELIABILITY_LONG=1 $(PY) -m pytest -n 2 --dist loadfile -m "reliability and not slow" tests/reliability $(PYTEST_ARGS)
	MA_STREAMING_RELIABILITY_LONG=1 $(PY) -m pytest -m "reliability and slow" -k "not soak" tests/reliability $(PYTEST_ARGS)
	$(MAKE) soak

# 8 writer + 8 live-reader processes on an embedded store for 10 minutes (SOAK_SECONDS to change).
SOAK_SECONDS ?= 600
soak: $(STAMP)
	$(PY) tests/reliability/soak.py --seconds $(SOAK_SECONDS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks scripts
	$(VENV)/bin/ruff format --check src tests examples benchmarks scripts
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

protos:
	$(PY) scripts/generate_protos.py

clean:
	rm -rf $(VENV) .venv-pb6 .venv-protoc .pytest_cache .mypy_cache .ruff_cache
