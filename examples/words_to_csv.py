"""Turn ocrcli's JSON Lines into a CSV of words with their boxes and confidences.

ocr image examples/scans/* --json - | python examples/words_to_csv.py > words.csv
"""

import csv
import sys

from ocr_documents import documents

writer = csv.writer(sys.stdout)
writer.writerow(["source", "page", "line", "word", "x0", "y0", "x1", "y1", "confidence"])
for doc in documents():
    for page in doc["pages"]:
        for number, line in enumerate(page["lines"], start=1):
            for word in line["words"]:
                writer.writerow(
                    [
                        doc["source"]["path"],
                        page["page"],
                        number,
                        word["text"],
                        *word["box"],
                        word["confidence"],
                    ]
                )
