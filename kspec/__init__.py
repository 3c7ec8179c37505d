"""kspec: declarative rules and formal model checking for Kubernetes designs.

Load the manifests you already have into one frozen, hashable cluster model:

>>> import kspec
>>> cluster = kspec.load("models/myapp")
>>> [rc.metadata.name for rc in cluster.of_kind("ReplicationController")]
['backend', 'frontend']
>>> cluster == kspec.load(["models/myapp"])
True
"""

from kspec.errors import KspecError, LoadError
from kspec.loading.manifests import load, load_objects, parse_object

__version__ = "0.1.0"

__all__ = ["KspecError", "LoadError", "load", "load_objects", "parse_object", "__version__"]
