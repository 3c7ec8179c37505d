"""kube-proxy and cluster DNS as a view derived from a state.

CoreDNS answers ``<service>``, ``<service>.<namespace>``,
``<service>.<namespace>.svc`` and ``<service>.<namespace>.svc.cluster.local``
with the Service's cluster IP. kube-proxy on every node programs the cluster IP
to forward each connection to one of the Service's ready endpoint addresses
(iptables/ipvs pick at random); with no ready address the connection is
rejected. The model keeps one shared view of the Endpoints (kube-proxy's
informer lag is not modelled), so a request is routed to any address in
``State.endpoints``, and whether it is *answered* depends on the physical view:
the pod's containers must be up (not hung, not crashed) on a machine that is up.

Properties ask, for example, "can a request to ``backend-service`` reach a
ready pod?" (:func:`can_reach_serving_pod`) or "may a request be routed to a pod
that cannot answer?" (:func:`may_hit_dead_pod`).
"""

from __future__ import annotations

import attrs

from kspec.simulation.state import State, World, serving

__all__ = ["Route", "resolve", "routes", "can_reach_serving_pod", "may_hit_dead_pod", "DNS_SUFFIX"]

DNS_SUFFIX = "svc.cluster.local"


@attrs.frozen
class Route:
    """Where one connection to a Service may go: a pod, and whether it answers."""

    service: str
    pod: str
    node: str | None
    answers: bool


def resolve(world: World, name: str, namespace: str = "default") -> int | None:
    """The Service index a DNS name resolves to (cluster DNS), or None (NXDOMAIN)."""
    parts = name.rstrip(".").split(".")
    if len(parts) == 1:
        svc, ns = parts[0], namespace
    elif len(parts) == 2 or ".".join(parts[2:]) in ("svc", DNS_SUFFIX):
        svc, ns = parts[0], parts[1]
    else:
        return None
    for i, info in enumerate(world.services):
        if info.name == svc and info.namespace == ns:
            return i
    return None


def routes(world: World, state: State, service: int) -> tuple[Route, ...]:
    """Every backend kube-proxy may forward a connection to."""
    out = []
    name = world.services[service].name
    for pod_name in state.endpoints[service]:
        pod = state.pod(pod_name)
        if pod is None:  # stale address: the pod is gone, the connection is refused
            out.append(Route(name, pod_name, None, False))
        else:
            node = world.node_names[pod.node] if pod.node >= 0 else None
            out.append(Route(name, pod_name, node, serving(pod, state)))
    return tuple(out)


def can_reach_serving_pod(world: World, state: State, name: str, namespace: str = "default") -> bool:
    """DNS resolves ``name`` and at least one route ends at a pod that answers."""
    service = resolve(world, name, namespace)
    return service is not None and any(r.answers for r in routes(world, state, service))


def may_hit_dead_pod(world: World, state: State, name: str, namespace: str = "default") -> bool:
    """Some route for ``name`` ends at a pod that cannot answer (down, hung, crashed, gone)."""
    service = resolve(world, name, namespace)
    return service is not None and any(not r.answers for r in routes(world, state, service))
