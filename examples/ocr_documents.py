"""What the example scripts share: ocrcli's JSON read from standard input, document by document.

It takes JSON Lines as `--json -` streams them (a document per line, each handled as it arrives)
and whole JSON files one after another, indented or not: a sidecar, or the files of
`ocr image -o DIR` (`cat out/*.json | python examples/words_to_csv.py`). Those files' lines were
taken for JSON Lines, and the first ended the script in a JSONDecodeError traceback.
"""

import json
import signal
import sys

# Piped into `head`, end quietly when it stops reading, as ocr does (and cat, grep...).
if hasattr(signal, "SIGPIPE"):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

# A file name that is not valid UTF-8 reaches the JSON as a lone surrogate ("\udce9"), which a
# UTF-8 stdout refuses (UnicodeEncodeError): written escaped, as ocr --text writes it.
sys.stdout.reconfigure(errors="backslashreplace")


def documents(stream=sys.stdin):
    """Each OCRed document of `stream`. A failed one, or one a run found current whose text the
    stream does not give (`ocr scan --no-sidecar`), is said on stderr and left out."""
    for doc in _json_values(stream):
        if "error" in doc:
            print(f"failed: {doc['error']['message']}", file=sys.stderr)  # the message names the file
        elif not doc["pages"] and doc.get("status") == "current":
            print(f"{doc['source']['path']}: current; its text is in its PDF (no sidecar)", file=sys.stderr)
        else:
            yield doc


def _json_values(stream):
    """The JSON values of `stream`, one after another. A value is decoded once a line could end
    it: a line that is an object (JSON Lines; a sidecar's last page), or an indented document's
    closing brace at the line's start (trying at every line would decode a long indented file
    again and again)."""
    decoder, pending = json.JSONDecoder(), ""
    for line in stream:
        pending += line
        if not (line.startswith("}") or line.lstrip().startswith("{") and line.rstrip().endswith("}")):
            continue
        text = pending.strip()
        try:
            value, end = decoder.raw_decode(text)
        except json.JSONDecodeError:
            continue  # not whole yet: a "}" inside a document
        yield value
        pending = text[end:]
    if pending.strip():
        sys.exit(f"error: the input ends inside a JSON document, or is not JSON: {pending.strip()[:60]!r}")
