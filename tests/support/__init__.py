"""Helpers shared by the test files; no test file imports another.

- :mod:`support.manifests`: Kubernetes API objects (Node, Pod, Cluster) built
  from manifest dicts through the real loader.
- :mod:`support.states`: simulation states (pods, nodes, whole states) built
  with named fields instead of positional tuples.
- :mod:`support.models`: small hand-made models with known graphs (Peterson's
  mutex, two counters) for the checker's tests.
- :mod:`support.scenarios`: the bundled scenarios, explored once per test run.
- :mod:`support.profiles`: the Hypothesis settings profiles (fast and thorough).
- :mod:`support.browser`: headless Chromium over the DevTools protocol (HTML report tests).

pytest puts ``tests/`` on ``sys.path`` (the rootdir-relative "prepend" import
mode), so a test writes ``from support.states import pod``.
"""
