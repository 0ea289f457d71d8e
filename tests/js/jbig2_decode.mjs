// Decode a bare JBIG2 stream (the segments a PDF's /JBIG2Decode image holds) with pdf.js's own
// decoder, as Firefox does, and write its page bitmap: one byte per pixel, 1 for black.
//
//   node tests/js/jbig2_decode.mjs IN.jb2 OUT.bin
//
// stdout: {"width": W, "height": H}. Exit 1 with a one-line message if pdf.js cannot decode it.
// Used by tests/test_jbig2.py.

import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

console.log = console.error; // stdout carries the JSON alone

const require = createRequire(import.meta.url);
const decoders = path.join(
  path.dirname(require.resolve("pdfjs-dist/package.json")),
  "legacy/image_decoders/pdf.image_decoders.mjs",
);

try {
  const [input, output] = process.argv.slice(2);
  const { Jbig2Image } = await import(decoders);
  const data = new Uint8Array(await readFile(input));
  const packed = new Jbig2Image().parseChunks([{ data, start: 0, end: data.length }]);
  // The page's width and height are in its page information segment (type 48), the first one.
  const view = new DataView(data.buffer, data.byteOffset);
  const width = view.getUint32(11), height = view.getUint32(15);
  const stride = (width + 7) >> 3;
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      pixels[y * width + x] = (packed[y * stride + (x >> 3)] >> (7 - (x & 7))) & 1;
    }
  }
  await writeFile(output, pixels);
  process.stdout.write(JSON.stringify({ width, height }) + "\n");
} catch (error) {
  process.stderr.write(`jbig2_decode.mjs: ${String(error?.message ?? error).replace(/\s+/g, " ")}\n`);
  process.exit(1);
}
