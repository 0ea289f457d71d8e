"""Turn ocrcli's JSON Lines into a CSV of document, page and text, a row per page.

    ocr scan scans --json - | python examples/pages_to_csv.py > pages.csv

Failed documents are listed on stderr, and so are those a run found current whose text the
stream does not give (`ocr scan --no-sidecar`); pages that were not OCRed (they already had
text) get their reason in the `skipped` column.
"""

import csv
import json
import signal
import sys

# Piped into `head`, end quietly when it stops reading, as ocr does (and cat, grep...).
if hasattr(signal, "SIGPIPE"):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

# A file name that is not valid UTF-8 reaches the JSON as a lone surrogate ("\udce9"), which a UTF-8
# stdout refuses (UnicodeEncodeError): written escaped, as ocr --text writes it
sys.stdout.reconfigure(errors="backslashreplace")
writer = csv.writer(sys.stdout)
writer.writerow(["document", "page", "words", "skipped", "text"])
for raw in sys.stdin:
    doc = json.loads(raw)
    if "error" in doc:
        print(f"failed: {doc['error']['message']}", file=sys.stderr)  # the message names the file
        continue
    if not doc["pages"] and doc.get("status") == "current":  # ocr scan --no-sidecar: no text in the stream
        print(f"{doc['source']['path']}: current; its text is in its PDF (no sidecar)", file=sys.stderr)
        continue
    for page in doc["pages"]:
        # Lines come in reading order; a row per line keeps receipts' item and price apart.
        text = "\n".join(line["text"] for line in page["lines"])
        words = sum(len(line["words"]) for line in page["lines"])
        writer.writerow([doc["source"]["path"], page["page"], words, page.get("skipped", ""), text])
