"""Turn ocrcli's JSON Lines into a CSV of document, page and text, a row per page.

    ocr scan scans --json - | python examples/pages_to_csv.py > pages.csv

Failed documents are listed on stderr, and so are those a run found current whose text the
stream does not give (`ocr scan --no-sidecar`); pages that were not OCRed (they already had
text) get their reason in the `skipped` column.
"""

import csv
import sys

from ocr_documents import documents

writer = csv.writer(sys.stdout)
writer.writerow(["document", "page", "words", "skipped", "text"])
for doc in documents():
    for page in doc["pages"]:
        # Lines come in reading order; a row per line keeps receipts' item and price apart.
        text = "\n".join(line["text"] for line in page["lines"])
        words = sum(len(line["words"]) for line in page["lines"])
        writer.writerow([doc["source"]["path"], page["page"], words, page.get("skipped", ""), text])
