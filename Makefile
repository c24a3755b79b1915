# The kata's two entry points: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-platforms kata-tests lint packages test-postgres test-redis test-backends grade-solutions gradescope-zip \
	student-template clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== kata check 01 on the starter (exercises/): it should fail, and say why =="
	@$(BIN)/kata check 01 || true
	@if [ -d solutions ]; then \
		echo; echo "== kata check 01 on the solution (solutions/): it should pass =="; \
		$(BIN)/kata check 01 --path solutions; \
	fi
	@echo
	@echo "Your turn: edit exercises/01_dashboard_n_plus_one/app.py, then run .venv/bin/kata check 01"

# Ruff's lint and its format check (students' exercises and solutions keep their layout: see pyproject), then mypy.
lint: $(STAMP)
	$(BIN)/ruff check harness grading tests solutions exercises benchmarks scripts autograder
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# In CI (CI=true, as root), install the Debian packages the tests use for real:
# Chromium (the HTML report test), PostgreSQL and Redis (the real back-ends).
# Elsewhere nothing is installed: those tests skip and say why.
packages:
	@if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		missing=""; \
		command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
		command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
		if [ -n "$$missing" ]; then \
			echo "CI: installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
				|| { echo "could not install:$$missing"; exit 1; }; \
		fi; \
	fi

# Two pytest workers (pytest-xdist): the suite is mostly grading runs, and the numbers are
# modeled, so sharing the cores changes nothing but the wall time.
# The end-to-end platform runs (a class of 30 graded and compared, the Gradescope zip in a real
# /autograder, the whole corpus through `kata grade`'s isolation) take minutes of their own:
# `make test-platforms`, which CI runs too.
PLATFORM_TESTS := tests/test_class.py tests/test_gradescope.py tests/test_corpus_isolated.py tests/test_load_baseline.py \
	tests/test_hidden_seeds.py tests/test_determinism.py tests/test_forgery_class.py \
	tests/test_load_determinism.py

# Real Locust next to the kata's runner compares real time: it runs alone, after the rest.
LOCUST_TESTS := tests/test_locust.py

test: $(STAMP) kata-tests lint packages
	$(BIN)/python -m pytest tests -q -n 2 --durations=15 $(addprefix --ignore=,$(PLATFORM_TESTS) $(LOCUST_TESTS))

test-platforms: $(STAMP) kata-tests packages
	$(BIN)/python -m pytest -q -n 2 $(PLATFORM_TESTS)
	$(BIN)/python -m pytest -q $(LOCUST_TESTS)

# A student copy (make student-template) has no tests of the kata's own: say so instead of failing in ruff.
kata-tests:
	@test -d tests || { echo "This is a student copy of the kata, without the kata's own tests:"; \
		echo "check your work with .venv/bin/kata check NN"; exit 2; }

# The real back-ends: throwaway servers from the Debian packages (scripts/with_servers.py),
# on free ports in temporary directories, stopped afterwards.
META_ENTRY := tests/test_meta.py::test_starters_fail_and_solutions_pass_through_the_autograder_entry_point \
	tests/test_readme.py::test_the_real_backends_block

test-postgres: $(STAMP) packages
	$(BIN)/python scripts/with_servers.py --postgres -- $(BIN)/python -m pytest -q -n 2 tests/test_backends.py $(META_ENTRY)

test-redis: $(STAMP) packages
	$(BIN)/python scripts/with_servers.py --redis -- $(BIN)/python -m pytest -q -n 2 tests/test_backends.py

# Both at once (CI): every exercise graded on PostgreSQL with a real Redis.
test-backends: $(STAMP) packages
	$(BIN)/python scripts/with_servers.py --postgres --redis -- $(BIN)/python -m pytest -q -n 2 tests/test_backends.py $(META_ENTRY)

grade-solutions: $(STAMP)
	$(BIN)/python -m pytest grading --kata-target solutions -q

# The Gradescope autograder: the kata (the files git tracks) at the top, beside setup.sh and run_autograder,
# and the hidden seed (KATA_HIDDEN_SEED, or one chosen at random): keep the zip private.
gradescope-zip:
	$(PYTHON) autograder/gradescope/build_zip.py build/gradescope-autograder.zip

# The repository a course hands out (GitHub Classroom template): no solutions, no kata tests, no hidden seed.
TEMPLATE ?= build/student-template
student-template: $(STAMP)
	$(BIN)/kata student-template $(TEMPLATE) --replace

clean:
	rm -rf $(VENV) .kata build *.egg-info
