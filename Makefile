# One command to set up and run on the bundled examples, one to run the tests.
# Both create .venv and install the project into it (its dependencies from PyPI, as pyproject.toml lists them).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PDFJS := tests/js/node_modules/pdfjs-dist/package.json

.PHONY: demo test lint setup clean

demo: setup  ## OCR the bundled sample scans: a searchable PDF + JSON each in out/scan, text to the terminal
	$(BIN)/ocr models
	$(BIN)/ocr scan examples/scans -o out/scan -v
	$(BIN)/ocr image examples/scans/* --text
	$(BIN)/ocr image examples/scans/* -o out/json/
	$(BIN)/ocr image examples/scans/* --pdf out/scans.pdf
	@echo "Searchable PDFs and sidecars: out/scan/; JSON per image: out/json/; all scans in one PDF: out/scans.pdf"

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
