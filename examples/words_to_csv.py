"""Turn ocrcli's JSON Lines into a CSV of words with their boxes and confidences.

ocr image examples/scans/* --json - | python examples/words_to_csv.py > words.csv
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
writer.writerow(["source", "page", "line", "word", "x0", "y0", "x1", "y1", "confidence"])
for raw in sys.stdin:
    doc = json.loads(raw)
    if "error" in doc:
        print(f"skipped: {doc['error']['message']}", file=sys.stderr)  # the message names the file
        continue
    if not doc["pages"] and doc.get("status") == "current":  # ocr scan --no-sidecar: no text in the stream
        print(f"{doc['source']['path']}: current; its text is in its PDF (no sidecar)", file=sys.stderr)
        continue
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
