"""CLI verbs, one module each; every module exports a click ``command``."""
