"""ocrcli: batch document OCR on the CPU."""

__version__ = "0.1.0"
