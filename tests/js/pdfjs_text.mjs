// Extract the text of every page of a PDF with Mozilla's pdf.js (pdfjs-dist, legacy build for Node).
//
//   node tests/js/pdfjs_text.mjs FILE.pdf
//
// stdout: one JSON object {"pages": ["text of page 1", "text of page 2", ...]}.
// Page text: the getTextContent() items in order, a single space between two items (none next to an
// item whose str is empty, and none where the text already has whitespace on that side), and a
// newline after every item whose hasEOL is true.
// Exit 1 with a one-line message on stderr if the PDF cannot be read or opened; exit 2 on bad usage.
// Installed by `npm ci --prefix tests/js`; used by tests/pdfjs.py.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const PROG = "pdfjs_text.mjs";

function die(message, code = 1) {
  process.stderr.write(`${PROG}: ${String(message).replace(/\s+/g, " ").trim()}\n`);
  process.exit(code);
}

// stdout carries the JSON and nothing else: anything pdf.js (or a dependency) logs goes to stderr.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

// Joins the text items of one page; see the header comment.
function joinItems(items) {
  let text = "";
  let prev = null; // the last item with a non-empty str since the last newline
  for (const item of items) {
    const str = item.str ?? "";
    if (str !== "") {
      if (prev !== null && !/\s$/u.test(prev) && !/^\s/u.test(str)) {
        text += " ";
      }
      text += str;
      prev = str;
    }
    if (item.hasEOL) {
      text += "\n";
      prev = null;
    }
  }
  return text;
}

async function main(argv) {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    die("usage: node pdfjs_text.mjs FILE.pdf", 2);
  }
  const file = argv[0];

  let pdfjs;
  try {
    pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
  } catch (err) {
    die(`cannot load pdfjs-dist (run: npm ci --prefix tests/js): ${err?.message ?? err}`);
  }

  let data;
  try {
    data = new Uint8Array(await readFile(file));
  } catch (err) {
    die(`cannot read ${file}: ${err?.message ?? err}`);
  }

  // Data files shipped inside pdfjs-dist (read with fs by pdf.js's Node factory: plain paths, trailing
  // slash required): CMaps for CJK fonts without a ToUnicode map, widths of non-embedded standard fonts.
  const require = createRequire(import.meta.url);
  const distDir = path.dirname(require.resolve("pdfjs-dist/package.json"));
  const dataDir = (name) => path.join(distDir, name) + path.sep;

  const loadingTask = pdfjs.getDocument({
    data,
    verbosity: pdfjs.VerbosityLevel.ERRORS, // 0: no warnings on the console
    cMapUrl: dataDir("cmaps"),
    cMapPacked: true,
    standardFontDataUrl: dataDir("standard_fonts"),
    wasmUrl: dataDir("wasm"),
    iccUrl: dataDir("iccs"),
    disableFontFace: true, // no FontFace/DOM in Node
    useSystemFonts: false,
    isEvalSupported: false, // no new Function() for font glyph programs
    useWorkerFetch: false, // the fetching above is done by the main thread's fs reader
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    stopAtErrors: false,
  });

  let doc;
  try {
    doc = await loadingTask.promise;
  } catch (err) {
    await loadingTask.destroy().catch(() => {});
    die(`cannot open ${file}: ${err?.name ?? "Error"}: ${err?.message ?? err}`);
  }

  try {
    const pages = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      pages.push(joinItems(content.items));
      page.cleanup();
    }
    process.stdout.write(`${JSON.stringify({ pages })}\n`);
  } catch (err) {
    await loadingTask.destroy().catch(() => {});
    die(`cannot extract text from ${file}: ${err?.name ?? "Error"}: ${err?.message ?? err}`);
  }
  await loadingTask.destroy();
}

await main(process.argv.slice(2));
