// Extract the text of every page of a PDF with Mozilla's pdf.js (pdfjs-dist, legacy build for Node).
//
//   node tests/js/pdfjs_text.mjs [--join=spaced|firefox] FILE.pdf
//
// stdout: one JSON object {"pages": ["text of page 1", "text of page 2", ...]}.
// Page text: the getTextContent() items in order (pdf.js's default Unicode normalization, as its
// copy does: "ﬁ" comes out as "fi"), a newline after every item whose hasEOL is true, and between items:
//   spaced (default): a single space between two items, none next to an item whose str is empty and
//     none where the text already has whitespace on that side (pdf.js emits many spaces as " " items);
//   firefox: nothing, as Firefox's find bar and copy join them; pdf.js splits items at font changes
//     and superscripts without a gap ("NOTE" + ": text"), which stay glued here and get a space above.
// Exit 1 with a one-line message on stderr if the PDF cannot be read or opened or a page's text cannot
// be extracted; exit 2 on bad usage.
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
function joinItems(items, spaced) {
  let text = "";
  let prev = null; // the last item with a non-empty str since the last newline
  for (const item of items) {
    const str = item.str ?? "";
    if (str !== "") {
      if (spaced && prev !== null && !/\s$/u.test(prev) && !/^\s/u.test(str)) {
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
  let join = "spaced";
  if (argv.length === 2 && /^--join=(spaced|firefox)$/.test(argv[0])) {
    join = argv.shift().slice("--join=".length);
  }
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    die("usage: node pdfjs_text.mjs [--join=spaced|firefox] FILE.pdf", 2);
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

  const pages = [];
  for (let n = 1; n <= doc.numPages; n++) {
    try {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      pages.push(joinItems(content.items, join === "spaced"));
      page.cleanup();
    } catch (err) {
      await loadingTask.destroy().catch(() => {});
      die(`cannot extract the text of page ${n} of ${file}: ${err?.name ?? "Error"}: ${err?.message ?? err}`);
    }
  }
  await loadingTask.destroy();
  process.stdout.write(`${JSON.stringify({ pages })}\n`);
}

await main(process.argv.slice(2));
