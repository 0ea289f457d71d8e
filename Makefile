# One command to set up and run on the bundled examples, one to run the tests.
# Both create .venv and install the project into it from this repository's own files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PDFJS := tests/js/node_modules/pdfjs-dist/package.json

.PHONY: demo test lint setup clean

demo: setup  ## OCR the bundled sample scans: plain text to the terminal, JSON into out/
	$(BIN)/ocr models
	$(BIN)/ocr image examples/scans/* --text
	$(BIN)/ocr image examples/scans/* -o out/
	$(BIN)/ocr image examples/scans/* --pdf out/scans.pdf
	@echo "JSON written to out/; searchable PDF of the scans: out/scans.pdf (sidecar out/scans.json)"

test: setup $(PDFJS)  ## lint, then the whole test suite (needs ../shared/data beside the repo)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

setup: $(BIN)/ocr

$(BIN)/ocr: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

$(PDFJS): tests/js/package-lock.json  ## pdf.js for the tests: a text extractor none of us wrote
	npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
	@touch $@

clean:
	rm -rf $(VENV) out
