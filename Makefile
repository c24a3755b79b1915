# The kata's two entry points: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint browser grade-solutions gradescope-zip clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@echo "== kata check 01 on the starter (exercises/): it should fail, and say why =="
	@$(BIN)/kata check 01 || true
	@echo
	@echo "== kata check 01 on the solution (solutions/): it should pass =="
	@$(BIN)/kata check 01 --path solutions
	@echo
	@echo "Your turn: edit exercises/01_dashboard_n_plus_one/app.py, then run .venv/bin/kata check 01"

lint: $(STAMP)
	$(BIN)/ruff check harness grading tests solutions exercises

# In CI (CI=true, as root), install Chromium so the HTML report test runs instead of skipping.
browser:
	@if [ -n "$$CI" ] && ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "CI: installing Chromium (Debian package) for the HTML report test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "could not install Chromium: the screenshot test will skip"; \
	fi

test: $(STAMP) lint browser
	$(BIN)/python -m pytest tests -q

grade-solutions: $(STAMP)
	$(BIN)/python -m pytest grading --kata-target solutions -q

# The Gradescope autograder: setup.sh and run_autograder at the top, the committed kata under source/.
gradescope-zip:
	$(PYTHON) autograder/gradescope/build_zip.py build/gradescope-autograder.zip

clean:
	rm -rf $(VENV) .kata build *.egg-info
