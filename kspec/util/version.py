"""kspec's version, in the lowest layer so that every report can name it
(``kspec.__version__`` re-exports it; keep it equal to pyproject.toml's)."""

VERSION = "0.1.0"
