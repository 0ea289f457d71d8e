"""What the readers the text layer is drawn for do with text positions, as numbers.

The layer's words are placed so that extractors which rebuild text from positions (poppler's
TextOutputDev: pdftotext, Evince, Okular; pdf.js: Firefox) read them as the sidecar has them.
These are those readers' own thresholds, in font sizes, as their code has them; the margins the
layer keeps from them are the drawing modules' own (layersizes, layerplacement, wordgaps).
"""

# poppler (TextOutputDev.cc)
POPPLER_WORD_SPACING = 1.5  # a line ends at a gap this wide (maxWordSpacing)
POPPLER_LINE_SPREAD = 0.5  # a line takes in words whose baselines lie this close (maxIntraLineDelta)
POPPLER_LINE_OVERLAP = 0.5  # a line ends at a word starting this far back over the last (minCharSpacing)
# A block takes in words that overlap it, or stand within POPPLER_COLUMN_SPACE beside it, if their
# font size is within this share of its own.
POPPLER_OVERLAP_SIZES = 0.6
POPPLER_COLUMN_SPACE = 0.7  # minColSpacing1
# A block also takes in words beside it within this far, where there are at most three
# (minColSpacing2): linn turned 2 degrees, its columns 0.71 font sizes apart, was read line across
# line.
POPPLER_SIDE_SPACE = 1.0

# pdf.js (compareWithLastPosition): a line ends where the next glyph lies over this share of the
# font size below or above the last, if it also lies this far or more behind the last one's end
# (see layerplacement.apart_for_pdfjs).
PDFJS_LINE_DROP, PDFJS_BACK = 0.5, 0.2
