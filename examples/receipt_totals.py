"""Pull the date and the total out of receipts, from ocrcli's JSON Lines.

    ocr image examples/scans/receipt.jpg --json - | python examples/receipt_totals.py
    ocr scan receipts/ --no-pdf --json - | python examples/receipt_totals.py

The total is the amount on the same row as a word like TOTAL (lines of one row sit side by side
as the page's text runs: at the same height, or, on a page whose text is turned a quarter, its
`orientation` 90 or 270, at the same x; so the JSON's boxes tell which amount belongs to which
label). Where a row says it is the final one ("Net Total", "TOTAL ROUNDED", "Total Payable",
"Grand Total", "Amount Due"), the last such row's amount: a total before rounding or a return
comes first. Otherwise, of the amounts on TOTAL rows, the largest: receipts go on after the total
paid with the tax it includes ("GST @6% INCLUDED IN TOTAL 2.43", a tax summary's TOTAL row). A
receipt with no TOTAL row but a SUBTOTAL (no tax on it) has that. Amounts are printed as numbers
with two decimals, whatever separators the receipt uses ("1,284.50" and "1.284,50" are 1284.50).
"""

import json
import re

from ocr_documents import documents

DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")
# Cents after a point or a comma (OCR may put a space after it: "96. 20"), thousands grouped or not
AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:[.,]\d{3})+|\d+)[.,] ?(\d{2})\b")
TOTAL_LABEL = re.compile(r"\b(grand\s+|sub\s*)?total\b(?!\s*(qty|quantity|items?))", re.IGNORECASE)
FINAL_LABEL = re.compile(r"\b(net|nett|payable|rounded|grand|due)\b", re.IGNORECASE)


def same_row(a, b, orientation):
    low, high = (0, 2) if orientation in (90, 270) else (1, 3)  # the boxes' extent across a row
    top, bottom = max(a["box"][low], b["box"][low]), min(a["box"][high], b["box"][high])
    return bottom - top > 0.5 * min(a["box"][high] - a["box"][low], b["box"][high] - b["box"][low])


def amounts(text):
    """The amounts in `text`, as numbers of cents: "1,284.50" is 128450."""
    return [int(re.sub(r"[.,]", "", whole) + cents) for whole, cents in AMOUNT.findall(text)]


for doc in documents():
    lines = [line for page in doc["pages"] for line in page["lines"]]
    date = next((m.group(0) for line in lines if (m := DATE.search(line["text"]))), None)
    final, totals, subtotals = [], [], []  # the amounts of each kind of row, in reading order
    for page in doc["pages"]:  # rows are rows of one page: boxes of two pages share no frame
        for line in page["lines"]:
            if label := TOTAL_LABEL.search(line["text"]):
                row = [other for other in page["lines"] if same_row(line, other, page["orientation"])]
                found = [cents for other in row for cents in amounts(other["text"])]
                kind = subtotals if "sub" in label.group(0).lower() else totals
                kind.extend(found)
                if FINAL_LABEL.search(line["text"]) and kind is totals and found:
                    final.append(found[-1])
    cents = final[-1] if final else max(totals or subtotals, default=None)
    total = None if cents is None else f"{cents // 100}.{cents % 100:02d}"
    print(json.dumps({"source": doc["source"]["path"], "date": date, "total": total}))
