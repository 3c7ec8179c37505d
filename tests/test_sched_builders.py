"""The scheduling tests' manifest builders (``support.manifests``) make valid records."""

from __future__ import annotations

from support.manifests import cluster, node, pod


def test_builders_make_valid_records():
    n = node("a", alloc={"cpu": "1"})
    p = pod("p", requests={"cpu": "1"}, node_name="a")
    c = cluster(n, p)
    assert c.nodes == (n,) and c.pods == (p,)
    assert p.spec.node_name == "a"
