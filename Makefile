# The kata's two entry points: `make demo` and `make test`. Both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint grade-solutions clean

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

test: $(STAMP) lint
	$(BIN)/python -m pytest tests -q

grade-solutions: $(STAMP)
	$(BIN)/python -m pytest grading --kata-target solutions -q

clean:
	rm -rf $(VENV) .kata build *.egg-info
