"""kspec: declarative rules and formal model checking for Kubernetes designs."""

from kspec.errors import KspecError

__version__ = "0.1.0"

__all__ = ["KspecError", "__version__"]
