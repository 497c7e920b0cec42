"""Live images: sources → one hub per stream (capture once, encode once) → viewers."""
