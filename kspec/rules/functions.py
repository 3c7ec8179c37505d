"""The functions kspec adds to CEL, as plain Python (no CEL library import here).

Three groups, declared in :data:`FUNCTIONS` and registered by
:mod:`kspec.rules.cel`:

* **Kubernetes CEL libraries** that no Python CEL implementation ships: the
  quantity library (``k8s.io/apiserver/pkg/cel/library/quantity.go``:
  ``quantity``, ``isQuantity``, ``sign``, ``isLessThan``, ``isGreaterThan``,
  ``compareTo``, ``add``, ``sub``, ``asInteger``, ``isInteger``,
  ``asApproximateFloat``) and the list library (``lists.go``: ``isSorted``,
  ``sum``, ``min``, ``max``, ``indexOf``, ``lastIndexOf``; kspec rules also get
  cel-go's ``sort``), regex (``find``,
  ``findAll``), sets, URLs, IP and CIDR, semver, format and the authorizer
  (answered from the loaded RBAC objects). A quantity is carried through CEL
  as the map ``{"@quantity": "<numerator>/<denominator>"}`` (its exact
  value), so ``quantity('1Gi') == quantity('1024Mi')`` holds, as upstream's
  ``Equal`` (which compares values with ``Cmp``) says; the other opaque
  values travel the same way. :data:`KUBERNETES_FUNCTIONS` is what a
  ValidatingAdmissionPolicy gets (the API server's set), :data:`FUNCTIONS`
  what kspec rules get (all but format and the authorizer, plus the groups
  below).
* **Label selectors**: ``selectorMatches(labelSelector, labels)``
  (``metav1.LabelSelectorAsSelector``: null selects nothing, ``{}`` everything)
  and ``mapSelectorMatches(map, labels)`` (``labels.SelectorFromSet``, the
  Service and ReplicationController form).
* **Cluster helpers** that look at every loaded object, answered from indexes
  built once per checked cluster (a :class:`Scope`, bound with :func:`bind`):
  ``podTemplate(w)``, ``podsOf(w)``, ``workloadsSelectedBy(service)``,
  ``servicesSelecting(w)``, ``pdbsSelecting(w)`` (and ``anyWorkloadSelectedBy``,
  ``anyServiceSelecting``, ``anyPdbSelecting``: whether those lists are not
  empty, without converting whole manifests to CEL), ``overlappingControllers(w)``,
  ``definitions(object)``, ``clusterHostRefs(value, namespace)`` and
  ``serviceExists(namespace, name)``.

Every function receives and returns plain Python values (dict, list, str, int,
float, bool, None) and raises :class:`FunctionError` on bad arguments; the CEL
layer turns that into an evaluation error for the rule and object at hand.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping

import attrs

from kspec.errors import KspecError, QuantityError, SelectorError
from kspec.api.labels import (
    Selector,
    label_value_errors,
    qualified_name_errors,
    selector_from_dict,
    selector_from_map,
    witness,
)
from kspec.api.quantity import Quantity, parse_quantity

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
QUANTITY_KEY = "@quantity"


class FunctionError(KspecError):
    """A kspec CEL function called with arguments it cannot handle."""


@attrs.frozen
class Overload:
    """One CEL overload of a kspec function.

    ``params`` are CEL type names (``dyn``, ``string``, ``int``, ``list``,
    ``map``, ``bool``); ``member`` means receiver-call style (``x.f(y)``).
    """

    id: str
    params: tuple[str, ...]
    result: str
    impl: Callable[..., Any]
    member: bool = False


# ---------------------------------------------------------------------------
# Quantities (k8s.io/apiserver/pkg/cel/library/quantity.go)
# ---------------------------------------------------------------------------


def quantity_value(q: Quantity) -> dict:
    """The CEL representation of a quantity: its exact value."""
    f = q.as_fraction()
    return {QUANTITY_KEY: f"{f.numerator}/{f.denominator}"}


def _fraction(value) -> Fraction:
    if isinstance(value, dict) and isinstance(value.get(QUANTITY_KEY), str) and len(value) == 1:
        return Fraction(value[QUANTITY_KEY])
    raise FunctionError(f"expected a quantity, got {_cel_type(value)}")


def _from_fraction(f: Fraction) -> dict:
    return {QUANTITY_KEY: f"{f.numerator}/{f.denominator}"}


def quantity(text) -> dict:
    """``quantity(string)``: parse like ``resource.ParseQuantity``; error when invalid."""
    if not isinstance(text, str):
        raise FunctionError(f"quantity() needs a string, got {_cel_type(text)}")
    try:
        return quantity_value(parse_quantity(text))
    except QuantityError as err:
        raise FunctionError(str(err)) from None


def is_quantity(text) -> bool:
    """``isQuantity(string)``: true iff ``quantity(string)`` would not fail."""
    if not isinstance(text, str):
        raise FunctionError(f"isQuantity() needs a string, got {_cel_type(text)}")
    try:
        parse_quantity(text)
    except QuantityError:
        return False
    return True


def q_sign(q) -> int:
    f = _fraction(q)
    return (f > 0) - (f < 0)


def q_compare(a, b) -> int:
    x, y = _fraction(a), _fraction(b)
    return (x > y) - (x < y)


def q_less(a, b) -> bool:
    return q_compare(a, b) == -1


def q_greater(a, b) -> bool:
    return q_compare(a, b) == 1


def _operand(value) -> Fraction:
    # add/sub take a quantity or an int (NewQuantity(int, DecimalExponent)).
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    return _fraction(value)


def q_add(a, b) -> dict:
    return _from_fraction(_fraction(a) + _operand(b))


def q_sub(a, b) -> dict:
    return _from_fraction(_fraction(a) - _operand(b))


def q_is_integer(q) -> bool:
    """Upstream ``AsInt64`` succeeds: an integral value that fits in int64."""
    f = _fraction(q)
    return f.denominator == 1 and INT64_MIN <= f.numerator <= INT64_MAX


def q_as_integer(q) -> int:
    if not q_is_integer(q):
        raise FunctionError("cannot convert value to integer")
    return _fraction(q).numerator


def q_as_float(q) -> float:
    f = _fraction(q)
    try:
        return float(f)
    except OverflowError:
        return float("inf") if f > 0 else float("-inf")


# ---------------------------------------------------------------------------
# Lists (k8s.io/apiserver/pkg/cel/library/lists.go)
# ---------------------------------------------------------------------------


def _comparable(values) -> list:
    if not isinstance(values, list):
        raise FunctionError(f"expected a list, got {_cel_type(values)}")
    kinds = {_cel_type(v) for v in values}
    if len(kinds) > 1 or kinds & {"map", "list", "bool", "null"}:
        raise FunctionError(f"no such overload: list elements must be comparable and of one type, got {sorted(kinds)}")
    return values


def is_sorted(values) -> bool:
    values = _comparable(values)
    return all(a <= b for a, b in zip(values, values[1:]))


def list_sum(values):
    values = _comparable(values)
    if not values:
        return 0
    if isinstance(values[0], str):
        raise FunctionError("no such overload: sum() of strings")
    total = sum(values)
    if isinstance(total, int) and not INT64_MIN <= total <= INT64_MAX:
        raise FunctionError("integer overflow")
    return total


def list_sort(values) -> list:
    """``l.sort()``: the elements in ascending order (cel-go's list extension;
    elements comparable and of one type). Map keys iterate in no fixed order,
    so a message that lists a map's keys sorts them first:
    ``m.map(k, k).sort()``."""
    return sorted(_comparable(values))


def list_min(values):
    values = _comparable(values)
    if not values:
        raise FunctionError("min called on empty list")
    return min(values)


def list_max(values):
    values = _comparable(values)
    if not values:
        raise FunctionError("max called on empty list")
    return max(values)


# ---------------------------------------------------------------------------
# Label selectors
# ---------------------------------------------------------------------------


def _labels(value) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FunctionError(f"labels must be a map, got {_cel_type(value)}")
    return value


def selector_matches(selector, labels) -> bool:
    """``selectorMatches(labelSelector, labels)``: ``metav1.LabelSelectorAsSelector`` then ``Matches``."""
    try:
        return selector_from_dict(selector).matches(_labels(labels))
    except SelectorError as err:
        raise FunctionError(f"invalid label selector: {err}") from None


def map_selector_matches(selector, labels) -> bool:
    """``mapSelectorMatches(map, labels)``: ``labels.SelectorFromSet`` (empty map: everything)."""
    try:
        return selector_from_map(_labels(selector), validate=False).matches(_labels(labels))
    except SelectorError as err:
        raise FunctionError(f"invalid selector: {err}") from None


# ---------------------------------------------------------------------------
# Pod templates of workloads
# ---------------------------------------------------------------------------

CONTROLLER_KINDS = ("ReplicationController", "ReplicaSet", "Deployment", "StatefulSet")
"""The kinds whose selectors ``controllers-overlap`` compares."""


def _get(obj, *path, default=None):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return default
        obj = obj[part]
    return obj


def template_of(raw: Mapping) -> Mapping | None:
    """The pod template of a workload manifest (CronJob: the job's template)."""
    kind = raw.get("kind")
    if kind == "CronJob":
        return _get(raw, "spec", "jobTemplate", "spec", "template")
    template = _get(raw, "spec", "template")
    return template if isinstance(template, dict) else None


def pod_template(raw) -> dict:
    """``podTemplate(w)``: a Pod-shaped map ``{apiVersion, kind, metadata, spec}``.

    For a Pod, the Pod itself; for a workload, its template with the
    workload's namespace (what the controller's pods would carry).
    """
    if not isinstance(raw, dict):
        raise FunctionError(f"podTemplate() needs an object, got {_cel_type(raw)}")
    if raw.get("kind") == "Pod":
        return dict(raw)
    template = template_of(raw)
    if template is None:
        raise FunctionError(f"{raw.get('kind')} has no pod template")
    metadata = dict(template.get("metadata") or {})
    namespace = _get(raw, "metadata", "namespace")
    if namespace is not None:
        metadata.setdefault("namespace", namespace)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec") or {}}


def template_labels(raw: Mapping) -> Mapping[str, str]:
    if raw.get("kind") == "Pod":
        return _get(raw, "metadata", "labels", default={}) or {}
    return _get(template_of(raw) or {}, "metadata", "labels", default={}) or {}


STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"
POD_INDEX = "apps.kubernetes.io/pod-index"


def pod_label_sets(raw: Mapping) -> list[Mapping[str, str]]:
    """The distinct label sets of the pods a workload (or bare Pod) puts in its namespace.

    One set, the template's labels, except for a StatefulSet, whose controller
    labels each pod with its own name and ordinal
    (``pkg/controller/statefulset/stateful_set_utils.go``, ``updateIdentity``:
    ``statefulset.kubernetes.io/pod-name`` and ``apps.kubernetes.io/pod-index``)
    for the ordinals ``spec.ordinals.start`` onwards, one per replica.
    """
    labels = template_labels(raw)
    if raw.get("kind") != "StatefulSet":
        return [labels]
    replicas = _get(raw, "spec", "replicas", default=1)
    start = _get(raw, "spec", "ordinals", "start", default=0)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (replicas, start)) or replicas < 1 or start < 0:
        return [labels]  # scaled to zero (or invalid): the template's labels, as for other kinds
    name = _get(raw, "metadata", "name", default="")
    return [dict(labels, **{STATEFULSET_POD_NAME: f"{name}-{i}", POD_INDEX: str(i)})
            for i in range(start, start + replicas)]


# ---------------------------------------------------------------------------
# The scope: indexes over one loaded cluster
# ---------------------------------------------------------------------------


def _namespace(raw: Mapping) -> str | None:
    return _get(raw, "metadata", "namespace")


def _identity(raw: Mapping) -> tuple:
    return (raw.get("kind"), _namespace(raw), _get(raw, "metadata", "name"))


@attrs.frozen
class _Source:
    """A workload or bare Pod that puts pods with ``labels`` into ``namespace``."""

    raw: Mapping = attrs.field(eq=False)
    namespace: str | None
    labels: Mapping[str, str] = attrs.field(eq=False)


class Scope:
    """Indexes over one cluster's objects for the cluster helper functions.

    ``records`` are every loaded record in input order, duplicates included
    (``definitions`` reports them); every other index uses ``unique`` (one
    record per identity). Indexes are built on first use.
    """

    def __init__(self, unique: Iterable, records: Iterable | None = None):
        self.unique = tuple(unique)
        self.records = tuple(records) if records is not None else self.unique
        self._cache: dict[str, Any] = {}

    def _memo(self, name: str, build: Callable[[], Any]):
        try:
            return self._cache[name]
        except KeyError:
            value = self._cache[name] = build()
            return value

    def raw_by_identity(self, identity: tuple) -> dict | None:
        index = self._memo("identities", lambda: {_identity(r.raw): r.raw for r in reversed(self.unique)})
        return index.get(identity)

    # -- pod sources (workloads and bare pods), indexed by label pair --------

    def _sources(self) -> dict:
        def build():
            by_ns: dict[str | None, list[_Source]] = {}
            by_pair: dict[tuple, list[_Source]] = {}
            for record in self.unique:
                raw = record.raw
                if raw.get("kind") != "Pod" and template_of(raw) is None:
                    continue
                for labels in pod_label_sets(raw):
                    source = _Source(raw, _namespace(raw), labels)
                    by_ns.setdefault(source.namespace, []).append(source)
                    for pair in source.labels.items():
                        by_pair.setdefault((source.namespace,) + pair, []).append(source)
            return {"by_ns": by_ns, "by_pair": by_pair}

        return self._memo("sources", build)

    def workloads_selected_by(self, service) -> list:
        """Workloads (and bare Pods) in the Service's namespace whose pods its selector matches.

        A Service without a selector (or with an empty one) selects no pods:
        the endpoints controller manages no endpoints for it
        (``pkg/controller/endpointslice``: services with a nil selector are
        skipped), so the answer is ``[]``.
        """
        service = _object(service)
        selector = _get(service, "spec", "selector")
        if not selector:
            return []
        if not isinstance(selector, dict):
            raise FunctionError("spec.selector must be a map")
        namespace = _namespace(service)
        index = self._sources()
        first = min(selector.items(), key=lambda kv: len(index["by_pair"].get((namespace,) + kv, ())))
        candidates = index["by_pair"].get((namespace,) + first, ())
        found = {id(s.raw): s.raw for s in candidates if all(s.labels.get(k) == v for k, v in selector.items())}
        return list(found.values())

    def any_workload_selected_by(self, service) -> bool:
        """``anyWorkloadSelectedBy(s)``: whether ``workloadsSelectedBy(s)`` is not empty,
        answered without converting the workloads' manifests to CEL values."""
        return bool(self.workloads_selected_by(service))

    # -- services, indexed by selector pair ---------------------------------

    def _services(self) -> dict:
        def build():
            by_pair: dict[tuple, list] = {}
            for record in self.unique:
                raw = record.raw
                selector = _get(raw, "spec", "selector")
                if raw.get("kind") != "Service" or not isinstance(selector, dict) or not selector:
                    continue
                for pair in selector.items():
                    by_pair.setdefault((_namespace(raw),) + pair, []).append(raw)
            return by_pair

        return self._memo("services", build)

    def services_selecting(self, workload) -> list:
        """Services in the workload's namespace whose selector matches its pod labels."""
        workload = _object(workload)
        labels = template_labels(workload)
        namespace = _namespace(workload)
        index = self._services()
        hits: dict[int, list] = {}
        for pair in labels.items():
            for service in index.get((namespace,) + pair, ()):
                hits.setdefault(id(service), [service, 0])[1] += 1
        return [s for s, n in hits.values() if n == len(s["spec"]["selector"])]

    def any_service_selecting(self, workload) -> bool:
        """``anyServiceSelecting(w)``: whether ``servicesSelecting(w)`` is not empty (no list for CEL)."""
        return bool(self.services_selecting(workload))

    def service_exists(self, namespace, name) -> bool:
        return self._memo("service_names", lambda: {
            (_namespace(r.raw), _get(r.raw, "metadata", "name")) for r in self.unique if r.raw.get("kind") == "Service"
        }).__contains__((namespace, name))

    def namespaces(self) -> frozenset:
        def build():
            names = {_namespace(r.raw) for r in self.unique}
            names |= {_get(r.raw, "metadata", "name") for r in self.unique if r.raw.get("kind") == "Namespace"}
            return frozenset(n for n in names if n)

        return self._memo("namespaces", build)

    # -- PodDisruptionBudgets ------------------------------------------------

    def pdbs_selecting(self, workload) -> list:
        """PodDisruptionBudgets in the namespace whose selector matches the pod labels.

        policy/v1: a null selector selects no pods, an empty one every pod in
        the namespace (``LabelSelectorAsSelector``).
        """
        workload = _object(workload)
        labels = template_labels(workload)
        namespace = _namespace(workload)
        index = self._memo("pdbs", self._build_pdbs)
        candidates = list(index.get((namespace,), ()))
        for pair in labels.items():
            candidates.extend(index.get((namespace,) + pair, ()))
        return [raw for raw, sel in candidates if sel.matches(labels)]

    def any_pdb_selecting(self, workload) -> bool:
        """``anyPdbSelecting(w)``: whether ``pdbsSelecting(w)`` is not empty (no list for CEL)."""
        return bool(self.pdbs_selecting(workload))

    def _build_pdbs(self) -> dict:
        """PDBs by (namespace, key, value) of one pinned label, else by (namespace,)."""
        index: dict = {}
        for record in self.unique:
            if record.kind == "PodDisruptionBudget":
                selector = _pdb_selector(record.raw)
                pins = _exact(selector)
                key = (_namespace(record.raw),) + (min(pins.items()) if pins else ())
                index.setdefault(key, []).append((record.raw, selector))
        return index

    # -- duplicates ----------------------------------------------------------

    def definitions(self, obj) -> list:
        """``file:line`` of every loaded object with this identity, in input order."""
        if not isinstance(obj, dict):
            raise FunctionError(f"expected an object, got {_cel_type(obj)}")
        index = self._memo("definitions", self._build_definitions)
        return list(index.get(_identity(obj), ()))

    def _build_definitions(self) -> dict:
        index: dict[tuple, list[str]] = {}
        for record in self.records:
            index.setdefault(_identity(record.raw), []).append(_where(record))
        return index

    # -- overlapping controllers ----------------------------------------------

    def overlapping_controllers(self, obj) -> list:
        """Other controllers in the namespace whose selectors can select a common pod.

        Decided exactly with :func:`kspec.api.labels.witness`; each entry is
        ``{kind, name, namespace, witness, actual}`` where ``witness`` is a
        label set (``k=v,...``) that both selectors match and ``actual`` says
        that one's pod template already carries labels the other selects. A controller and the
        controllers it owns (a Deployment's ReplicaSets) are not compared.
        """
        if not isinstance(obj, dict):
            raise FunctionError(f"expected an object, got {_cel_type(obj)}")
        index = self._memo("overlaps", self._build_overlaps)
        return list(index.get(_identity(obj), ()))

    def _build_overlaps(self) -> dict:
        controllers: dict[str | None, list[tuple]] = {}
        for record in self.unique:
            if record.kind in CONTROLLER_KINDS:
                selector = _controller_selector(record)
                if selector is not None:
                    controllers.setdefault(record.metadata.namespace, []).append((record, selector))
        result: dict[tuple, list] = {}
        for group in controllers.values():
            for i, j, labels in _overlapping_pairs(group):
                a, b = group[i][0], group[j][0]
                if _owns(a, b) or _owns(b, a):
                    continue
                text = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
                sa, sb = group[i][1], group[j][1]
                actual = sa.matches(template_labels(b.raw)) or sb.matches(template_labels(a.raw))
                result.setdefault(_identity(a.raw), []).append(_overlap_entry(b, text, actual))
                result.setdefault(_identity(b.raw), []).append(_overlap_entry(a, text, actual))
        return result


def _object(value) -> dict:
    """An object argument: a manifest, or a ``ref`` (identity only) resolved to the loaded manifest.

    Passing ``ref`` instead of ``object`` spares converting the whole
    manifest from CEL to Python on every call.
    """
    if not isinstance(value, dict):
        raise FunctionError(f"expected an object, got {_cel_type(value)}")
    if "spec" not in value and value.get("kind") and isinstance(value.get("metadata"), dict):
        scope = _SCOPE.get()
        if scope is not None:
            found = scope.raw_by_identity(_identity(value))
            if found is not None:
                return found
    return value


def _where(record) -> str:
    source = record.source
    return f"{source.file}:{source.line}" if source.line is not None else str(source.file)


def _pdb_selector(raw) -> Selector:
    try:
        return selector_from_dict(_get(raw, "spec", "selector"))
    except SelectorError:
        return Selector.nothing()


def _controller_selector(record) -> Selector | None:
    selector = getattr(record.spec, "selector", None)
    if isinstance(selector, Selector):
        return selector
    raw_selector = _get(record.raw, "spec", "selector")
    try:
        if record.kind == "ReplicationController":
            return selector_from_map(raw_selector or template_labels(record.raw), validate=False)
        return selector_from_dict(raw_selector)
    except SelectorError:
        return None


def _owns(owner, owned) -> bool:
    return any(
        ref.kind == owner.kind and ref.name == owner.metadata.name for ref in owned.metadata.owner_references
    )


def _overlap_entry(record, witness_text: str, actual: bool) -> dict:
    return {
        "kind": record.kind,
        "name": record.metadata.name,
        "namespace": record.metadata.namespace,
        "witness": witness_text,
        "actual": actual,
    }


def _exact(selector: Selector) -> dict[str, str]:
    """The keys a selector pins to one value (``app=web``, ``app in (web)``)."""
    pinned = {}
    for requirement in selector.requirements:
        value = selector.requires_exact_match(requirement.key)
        if value is not None:
            pinned[requirement.key] = value
    return pinned


def _overlapping_pairs(group: list[tuple]):
    """Yield ``(i, j, witness)`` for every overlapping pair ``i < j``.

    Two selectors that pin one key to different values cannot overlap, so for
    each selector we only test the others that pin its most selective key to
    the same value or leave that key unpinned; every candidate is then decided
    exactly by :func:`witness`.
    """
    pinned = [_exact(sel) for _, sel in group]
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, pins in enumerate(pinned):
        for pair in pins.items():
            by_pair.setdefault(pair, []).append(i)
    unpinned_cache: dict[str, list[int]] = {}

    def unpinned(key: str) -> list[int]:
        if key not in unpinned_cache:
            unpinned_cache[key] = [i for i, pins in enumerate(pinned) if key not in pins]
        return unpinned_cache[key]

    everyone = range(len(group))
    for i, pins in enumerate(pinned):
        if pins:
            key = min(pins, key=lambda k: len(by_pair[(k, pins[k])]) + len(unpinned(k)))
            candidates = set(by_pair[(key, pins[key])]) | set(unpinned(key))
        else:
            candidates = everyone
        for j in sorted(candidates):
            if j <= i:
                continue
            labels = witness(group[i][1], group[j][1])
            if labels is not None:
                yield i, j, labels


# ---------------------------------------------------------------------------
# Host references in environment values
# ---------------------------------------------------------------------------

_HOST_PORT = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?([A-Za-z0-9.-]+):([0-9]{1,5})(?:[/?#].*)?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def cluster_host_refs(value, namespace, namespaces: frozenset) -> list:
    """``host:port`` references in an env value that name an in-cluster Service.

    Splits on commas and whitespace (broker lists), strips a URL scheme and
    user info, and keeps ``host:port`` whose host has the shape of a Service
    DNS name as cluster DNS resolves it (``<service>``, ``<service>.<ns>``
    when ``<ns>`` is a loaded namespace, ``<service>.<ns>.svc[.<domain>]``);
    ``<service>`` must be a DNS-1035 label (Service name validation).
    ``localhost``, IP addresses and external names are not references.
    ``namespaceLoaded`` says whether any loaded object is in the reference's
    namespace (the Service is only known to be missing when one is).
    """
    if not isinstance(value, str):
        return []
    refs = []
    for token in re.split(r"[,\s]+", value):
        match = _HOST_PORT.match(token)
        if not match or not 0 < int(match.group(2)) < 65536:
            continue
        ref = _service_of(match.group(1).rstrip("."), namespace, namespaces)
        if ref is not None:
            refs.append({"host": match.group(1), "port": int(match.group(2)), "service": ref[1], "namespace": ref[0],
                         "namespaceLoaded": ref[0] in namespaces or ref[0] == namespace})
    return refs


def _service_of(host: str, namespace, namespaces) -> tuple[str, str] | None:
    parts = host.split(".")
    if not _DNS1035.match(parts[0]) or parts[0] == "localhost":
        return None
    if len(parts) == 1:
        return (namespace, parts[0])
    if len(parts) == 2 and parts[1] in namespaces:
        return (parts[1], parts[0])
    if len(parts) >= 3 and parts[2] == "svc":
        return (parts[1], parts[0])
    return None


# ---------------------------------------------------------------------------
# Binding a scope, and the table of functions
# ---------------------------------------------------------------------------

_SCOPE: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("kspec_rules_scope", default=None)


@contextlib.contextmanager
def bind(scope: Scope):
    """Make ``scope`` the cluster that the cluster helper functions answer about."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> Scope:
    scope = _SCOPE.get()
    if scope is None:
        raise FunctionError("cluster functions need a loaded cluster (none is bound)")
    return scope


def pods_of(raw) -> list:
    """``podsOf(w)``: the pods a workload creates, one Pod-shaped map per pod.

    Replicas come from ``spec.replicas`` (defaulted to 1 by the API server);
    a Job creates ``spec.parallelism`` pods at once (default 1); a DaemonSet
    one per loaded Node (one representative pod when no Node is loaded); a
    Pod is itself. Pod names follow the controller's pattern ``<name>-<i>``.
    """
    raw = _object(raw)
    if raw.get("kind") == "Pod":
        return [dict(raw)]
    template = pod_template(raw)
    kind = raw.get("kind")
    if kind == "DaemonSet":
        count = max(1, sum(1 for r in current_scope().unique if r.kind == "Node"))
    elif kind in ("Job", "CronJob"):
        spec = _get(raw, "spec", "jobTemplate", "spec") if kind == "CronJob" else raw.get("spec")
        count = _get(spec or {}, "parallelism", default=1)
    else:
        count = _get(raw, "spec", "replicas", default=1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise FunctionError(f"invalid replica count {count!r}")
    name = _get(raw, "metadata", "name", default="pod")
    pods = []
    for i in range(count):
        pod = dict(template)
        pod["metadata"] = dict(template["metadata"], name=f"{name}-{i}")
        pods.append(pod)
    return pods


def _scoped(method: str) -> Callable:
    def call(*args):
        return getattr(current_scope(), method)(*args)

    call.__name__ = method
    return call


def _host_refs(value, namespace):
    return cluster_host_refs(value, namespace, current_scope().namespaces())


# ---------------------------------------------------------------------------
# More Kubernetes CEL libraries (k8s.io/apiserver/pkg/cel/library): lists
# (indexOf, lastIndexOf), regex (find, findAll), sets (ext.Sets), URLs, IP
# and CIDR, semver, and the authorizer answered from loaded RBAC objects.
# Opaque values travel as one-key maps, like quantities: ``{"@url": text}``,
# ``{"@ip": text}``, ``{"@cidr": text}``, ``{"@semver": text}``.
# ---------------------------------------------------------------------------

URL_KEY, IP_KEY, CIDR_KEY, SEMVER_KEY = "@url", "@ip", "@cidr", "@semver"
AUTHZ_KEY = "@authorizer"


def _opaque(value, key: str, what: str) -> str:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get(key), str):
        return value[key]
    raise FunctionError(f"expected {what}, got {_cel_type(value)}")


def list_index_of(values, item) -> int:
    """``lists.go`` ``indexOf``: the first index of ``item`` (-1 when absent); strings
    keep the string extension's ``indexOf``."""
    return next((i for i, v in enumerate(values) if _cel_equal(v, item)), -1)


def list_last_index_of(values, item) -> int:
    """``lists.go`` ``lastIndexOf``: the last index of ``item`` (-1 when absent)."""
    return next((i for i in range(len(values) - 1, -1, -1) if _cel_equal(values[i], item)), -1)


def _cel_equal(a, b) -> bool:
    """CEL equality on plain values: numbers compare across int and double, a bool is never a number."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _regex(pattern):
    try:
        return re.compile(pattern)
    except (re.error, TypeError) as err:
        raise FunctionError(f"invalid regex {pattern!r}: {err}") from None


def regex_find(text, pattern) -> str:
    """``regex.go`` ``find``: the first match, or ``''``."""
    match = _regex(pattern).search(text)
    return match.group(0) if match else ""


def regex_find_all(text, pattern, limit=-1) -> list:
    """``regex.go`` ``findAll``: every match (at most ``limit`` when it is not negative)."""
    found = [m.group(0) for m in _regex(pattern).finditer(text)]
    return found if limit < 0 else found[:limit]


def sets_contains(a, b) -> bool:
    return all(any(_cel_equal(x, y) for y in a) for x in b)


def sets_equivalent(a, b) -> bool:
    return sets_contains(a, b) and sets_contains(b, a)


def sets_intersects(a, b) -> bool:
    return any(_cel_equal(x, y) for x in a for y in b)


def _parsed_url(text: str):
    from urllib.parse import urlsplit  # deferred: start-up time
    if not isinstance(text, str):
        raise FunctionError(f"url() needs a string, got {_cel_type(text)}")
    parts = urlsplit(text)
    if not parts.scheme and not text.startswith("/"):
        raise FunctionError(f"URL parse error during conversion from string: {text!r}")
    return parts


def url(text) -> dict:
    """``urls.go`` ``url``: an absolute URI or absolute path."""
    _parsed_url(text)
    return {URL_KEY: text}


def is_url(text) -> bool:
    try:
        _parsed_url(text)
    except (FunctionError, ValueError):
        return False
    return True


def url_scheme(u) -> str:
    return _parsed_url(_opaque(u, URL_KEY, "a URL")).scheme


def url_host(u) -> str:
    return _parsed_url(_opaque(u, URL_KEY, "a URL")).netloc.rpartition("@")[2]


def url_hostname(u) -> str:
    host = url_host(u)
    if host.startswith("["):
        return host[1:host.index("]")]
    return host.rpartition(":")[0] if ":" in host else host


def url_port(u) -> str:
    host = url_host(u)
    tail = host[host.index("]") + 1:] if host.startswith("[") else host
    return tail.rpartition(":")[2] if ":" in tail else ""


def url_escaped_path(u) -> str:
    return _parsed_url(_opaque(u, URL_KEY, "a URL")).path


def url_query(u) -> dict:
    from urllib.parse import parse_qs  # deferred: start-up time
    return parse_qs(_parsed_url(_opaque(u, URL_KEY, "a URL")).query, keep_blank_values=True)


def _ip(text):
    import ipaddress  # deferred: start-up time
    if not isinstance(text, str) or "%" in text:
        raise FunctionError(f"IP Address {text!r} parse error during conversion from string")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise FunctionError(f"IP Address {text!r} parse error during conversion from string") from None
    if address.version == 6 and address.ipv4_mapped is not None:
        raise FunctionError(f"IPv4-mapped IPv6 address {text!r} is not allowed")
    return address


def ip(text) -> dict:
    """``ip.go`` ``ip``: an IPv4 or IPv6 address (no zone, no IPv4-mapped IPv6)."""
    return {IP_KEY: str(_ip(text))}


def is_ip(text) -> bool:
    try:
        _ip(text)
    except FunctionError:
        return False
    return True


def ip_is_canonical(text) -> bool:
    return str(_ip(text)) == text


def _address(value):
    return _ip(_opaque(value, IP_KEY, "an IP address"))


def ip_family(value) -> int:
    return _address(value).version


def ip_is_unspecified(value) -> bool:
    return _address(value).is_unspecified


def ip_is_loopback(value) -> bool:
    return _address(value).is_loopback


def ip_is_link_local_multicast(value) -> bool:
    address = _address(value)
    prefix = "224.0.0.0/24" if address.version == 4 else "ff02::/16"
    return _in_network(address, prefix)


def ip_is_link_local_unicast(value) -> bool:
    return _address(value).is_link_local


def ip_is_global_unicast(value) -> bool:
    """Go's ``IsGlobalUnicast``: not unspecified, loopback, multicast, link-local or the IPv4 broadcast."""
    address = _address(value)
    return not (address.is_unspecified or address.is_loopback or address.is_multicast or address.is_link_local
                or str(address) == "255.255.255.255")


def _in_network(address, prefix: str) -> bool:
    import ipaddress  # deferred: start-up time
    network = ipaddress.ip_network(prefix)
    return address.version == network.version and address in network


def _network(text):
    import ipaddress  # deferred: start-up time
    if not isinstance(text, str) or "/" not in text:
        raise FunctionError(f"network address parse error during conversion from string: {text!r}")
    try:
        address, _, _ = text.partition("/")
        _ip(address)
        return ipaddress.ip_interface(text)
    except ValueError:
        raise FunctionError(f"network address parse error during conversion from string: {text!r}") from None


def cidr(text) -> dict:
    """``cidr.go`` ``cidr``: an address with a prefix length (host bits kept, as ``netip.Prefix``)."""
    _network(text)
    return {CIDR_KEY: text}


def is_cidr(text) -> bool:
    try:
        _network(text)
    except FunctionError:
        return False
    return True


def _prefix(value):
    return _network(_opaque(value, CIDR_KEY, "a CIDR"))


def cidr_contains_ip(value, other) -> bool:
    address = _ip(other) if isinstance(other, str) else _address(other)
    network = _prefix(value).network
    return address.version == network.version and address in network


def cidr_contains_cidr(value, other) -> bool:
    inner = _network(other) if isinstance(other, str) else _prefix(other)
    outer = _prefix(value).network
    return inner.version == outer.version and inner.network.subnet_of(outer)


def cidr_ip(value) -> dict:
    return {IP_KEY: str(_prefix(value).ip)}


def cidr_masked(value) -> dict:
    return {CIDR_KEY: str(_prefix(value).network)}


def cidr_prefix_length(value) -> int:
    return _prefix(value).network.prefixlen


def opaque_string(value) -> str:
    """``string(ip)`` (``ip.go``) and ``string(cidr)`` (``cidr.go``): the canonical text."""
    if isinstance(value, dict) and IP_KEY in value:
        return str(_address(value))
    if isinstance(value, dict) and CIDR_KEY in value:
        prefix = _prefix(value)
        return f"{prefix.ip}/{prefix.network.prefixlen}"
    raise FunctionError(f"no such overload: string({_cel_type(value)})")


_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                     r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$")


def _version(text):
    match = _SEMVER.match(text) if isinstance(text, str) else None
    if match is None:
        raise FunctionError(f"Invalid semver {text!r}")
    return match


def _normalized(text: str) -> str:
    """``semver(text, true)``: a leading ``v`` dropped, missing minor and patch as 0, leading zeros dropped."""
    body = text[1:] if text.startswith("v") else text
    cut = min((i for i in (body.find("-"), body.find("+")) if i >= 0), default=len(body))
    parts = body[:cut].split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return text
    return ".".join([str(int(p)) for p in parts] + ["0"] * (3 - len(parts))) + body[cut:]


def semver(text, normalize: bool = False) -> dict:
    """``semverlib.go`` ``semver``: a strict semantic version (``1.2.3``, ``1.2.3-rc.1+build``);
    with ``normalize`` true, ``v1.2`` reads as ``1.2.0``."""
    if normalize and isinstance(text, str):
        text = _normalized(text)
    _version(text)
    return {SEMVER_KEY: text}


def is_semver(text, normalize: bool = False) -> bool:
    try:
        semver(text, normalize)
    except FunctionError:
        return False
    return True


def _semver_part(value, index: int) -> int:
    return int(_version(_opaque(value, SEMVER_KEY, "a semver")).group(index))


def semver_major(value) -> int:
    return _semver_part(value, 1)


def semver_minor(value) -> int:
    return _semver_part(value, 2)


def semver_patch(value) -> int:
    return _semver_part(value, 3)


def _semver_key(value) -> tuple:
    match = _version(_opaque(value, SEMVER_KEY, "a semver"))
    pre = match.group(4)
    identifiers = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(match.group(1)), int(match.group(2)), int(match.group(3)), not pre, identifiers)


def compare(a, b) -> int:
    """``compareTo`` for quantities and semvers alike (the two libraries share the name)."""
    if isinstance(a, dict) and SEMVER_KEY in a:
        x, y = _semver_key(a), _semver_key(b)
        return (x > y) - (x < y)
    return q_compare(a, b)


def less(a, b) -> bool:
    return compare(a, b) == -1


def greater(a, b) -> bool:
    return compare(a, b) == 1


# --- the authorizer (k8s.io/apiserver/pkg/cel/library/authz.go), answered from loaded RBAC objects


def authorizer_value(username: str, groups, request_resource: dict, namespace: str, name: str) -> dict:
    """The ``authorizer`` variable for a request by ``username`` in ``groups``."""
    who = {"user": username, "groups": list(groups)}
    resource = {"group": request_resource.get("group", ""), "resource": request_resource.get("resource", ""),
                "namespace": namespace, "name": name, "subresource": ""}
    return {AUTHZ_KEY: who, "requestResource": {AUTHZ_KEY: who, "check": resource}}


def _authz(value) -> dict:
    if isinstance(value, dict) and isinstance(value.get(AUTHZ_KEY), dict):
        return value
    raise FunctionError(f"expected an authorizer value, got {_cel_type(value)}")


def _with(value, key: str, part) -> dict:
    value = _authz(value)
    check = dict(value.get("check") or {"group": "", "resource": "", "namespace": "", "name": "", "subresource": ""})
    check[key] = part
    return {AUTHZ_KEY: value[AUTHZ_KEY], "check": check}


def authz_service_account(value, namespace, name) -> dict:
    _authz(value)
    user = f"system:serviceaccount:{namespace}:{name}"
    return {AUTHZ_KEY: {"user": user, "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                                                   "system:authenticated"]}}


def authz_group(value, group) -> dict:
    return _with(value, "group", group)


def authz_resource(value, resource) -> dict:
    return _with(value, "resource", resource)


def authz_namespace(value, namespace) -> dict:
    return _with(value, "namespace", namespace)


def authz_name(value, name) -> dict:
    return _with(value, "name", name)


def authz_subresource(value, subresource) -> dict:
    return _with(value, "subresource", subresource)


def authz_path(value, path) -> dict:
    value = _authz(value)
    return {AUTHZ_KEY: value[AUTHZ_KEY], "path": path}


def authz_check(value, verb) -> dict:
    """``check(verb)``: allowed when a loaded (Cluster)RoleBinding grants it (or the user is in
    ``system:masters``); otherwise the answer depends on RBAC objects kspec has not seen."""
    value = _authz(value)
    who = value[AUTHZ_KEY]
    if "system:masters" in who["groups"]:
        return {"@decision": "allow", "reason": "system:masters"}
    granted = _rbac_grants(who, verb, value.get("check"), value.get("path"))
    return {"@decision": "allow" if granted else "unknown", "reason": granted or ""}


def _decision(value) -> dict:
    if isinstance(value, dict) and "@decision" in value:
        return value
    raise FunctionError(f"expected an authorization decision, got {_cel_type(value)}")


def decision_allowed(value) -> bool:
    decision = _decision(value)
    if decision["@decision"] != "allow":
        raise FunctionError("authorizer: inconclusive offline: no loaded RBAC object grants this, and the "
                            "cluster may hold others")
    return True


def decision_reason(value) -> str:
    return _decision(value)["reason"]


def decision_errored(value) -> bool:
    _decision(value)
    return False


def decision_error(value) -> str:
    _decision(value)
    return ""


def _subject_matches(subject, who) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == who["user"]
    if kind == "Group":
        return name in who["groups"]
    if kind == "ServiceAccount":
        return who["user"] == f"system:serviceaccount:{subject.get('namespace', '')}:{name}"
    return False


def _rule_allows(rule, verb, check, path) -> bool:
    def has(key, value):
        values = rule.get(key) or []
        return "*" in values or value in values

    if not has("verbs", verb):
        return False
    if path is not None:
        return any(p == path or (p.endswith("*") and path.startswith(p[:-1])) for p in rule.get("nonResourceURLs") or [])
    if check is None:
        return False
    resource = check["resource"] + (f"/{check['subresource']}" if check["subresource"] else "")
    names = rule.get("resourceNames") or []
    return (has("apiGroups", check["group"]) and has("resources", resource)
            and (not names or check["name"] in names))


def _rbac_grants(who, verb, check, path) -> str:
    """The binding that grants ``verb`` (``namespace/name`` or ``name``), or ``''``."""
    scope = current_scope()
    roles = {(r.kind, r.metadata.namespace, r.metadata.name): r.raw for r in scope.unique
             if r.kind in ("Role", "ClusterRole")}
    for record in scope.unique:
        if record.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        raw = record.raw
        if not any(_subject_matches(s, who) for s in raw.get("subjects") or [] if isinstance(s, dict)):
            continue
        ref = raw.get("roleRef") or {}
        namespace = record.metadata.namespace if record.kind == "RoleBinding" else None
        if record.kind == "RoleBinding" and (path is not None or check is None or check["namespace"] != namespace):
            continue
        role = roles.get((ref.get("kind"), namespace if ref.get("kind") == "Role" else None, ref.get("name")))
        if role and any(_rule_allows(r, verb, check, path) for r in role.get("rules") or [] if isinstance(r, dict)):
            return f"{record.kind} {record.metadata.name}"
    return ""


def _overload(name: str, params, result: str, impl, member: bool = False) -> Overload:
    return Overload(f"k8s_{name}_{'_'.join(params)}", tuple(params), result, impl, member)


def _member(name: str, impl, result: str = "dyn", arity: int = 0) -> tuple[Overload, ...]:
    return (_overload(name, ("dyn",) * (arity + 1), result, impl, member=True),)


KUBERNETES_LIBRARY: dict[str, tuple[Overload, ...]] = {
    "indexOf": (_overload("index_of", ("list", "dyn"), "int", list_index_of, member=True),),
    "lastIndexOf": (_overload("last_index_of", ("list", "dyn"), "int", list_last_index_of, member=True),),
    "find": (_overload("find", ("string", "string"), "string", regex_find, member=True),),
    "findAll": (_overload("find_all", ("string", "string"), "list", regex_find_all, member=True),
                _overload("find_all_n", ("string", "string", "int"), "list", regex_find_all, member=True)),
    "sets.contains": (_overload("sets_contains", ("list", "list"), "bool", sets_contains),),
    "sets.equivalent": (_overload("sets_equivalent", ("list", "list"), "bool", sets_equivalent),),
    "sets.intersects": (_overload("sets_intersects", ("list", "list"), "bool", sets_intersects),),
    "url": (_overload("url", ("string",), "dyn", url),),
    "isURL": (_overload("is_url", ("string",), "bool", is_url),),
    "getScheme": _member("get_scheme", url_scheme, "string"),
    "getHost": _member("get_host", url_host, "string"),
    "getHostname": _member("get_hostname", url_hostname, "string"),
    "getPort": _member("get_port", url_port, "string"),
    "getEscapedPath": _member("get_escaped_path", url_escaped_path, "string"),
    "getQuery": _member("get_query", url_query, "map"),
    "ip": (_overload("ip", ("string",), "dyn", ip), _overload("cidr_ip", ("dyn",), "dyn", cidr_ip, member=True)),
    "isIP": (_overload("is_ip", ("string",), "bool", is_ip),),
    "ip.isCanonical": (_overload("ip_is_canonical", ("string",), "bool", ip_is_canonical),),
    "family": _member("family", ip_family, "int"),
    "isUnspecified": _member("is_unspecified", ip_is_unspecified, "bool"),
    "isLoopback": _member("is_loopback", ip_is_loopback, "bool"),
    "isLinkLocalMulticast": _member("is_link_local_multicast", ip_is_link_local_multicast, "bool"),
    "isLinkLocalUnicast": _member("is_link_local_unicast", ip_is_link_local_unicast, "bool"),
    "isGlobalUnicast": _member("is_global_unicast", ip_is_global_unicast, "bool"),
    "cidr": (_overload("cidr", ("string",), "dyn", cidr),),
    "isCIDR": (_overload("is_cidr", ("string",), "bool", is_cidr),),
    "containsIP": _member("contains_ip", cidr_contains_ip, "bool", 1),
    "containsCIDR": _member("contains_cidr", cidr_contains_cidr, "bool", 1),
    "masked": _member("masked", cidr_masked),
    "prefixLength": _member("prefix_length", cidr_prefix_length, "int"),
    "string": (_overload("opaque_string", ("map",), "string", opaque_string),),
    "semver": (_overload("semver", ("string",), "dyn", semver),
               _overload("semver_normalized", ("string", "bool"), "dyn", semver)),
    "isSemver": (_overload("is_semver", ("string",), "bool", is_semver),
                 _overload("is_semver_normalized", ("string", "bool"), "bool", is_semver)),
    "major": _member("major", semver_major, "int"),
    "minor": _member("minor", semver_minor, "int"),
    "patch": _member("patch", semver_patch, "int"),
}

# --- the format library (format.go): named string formats whose validate() gives the
# problems found (an optional list, carried as ``{"@optional": list or None}``: hasValue()
# and value() read it; orValue() does not, as cel-expr-python cannot add it)

OPTIONAL_KEY, FORMAT_KEY = "@optional", "@format"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_FORMAT_RULES = {
    "dns1123Label": (re.compile(_LABEL), 63, "a lowercase RFC 1123 label"),
    "dns1123Subdomain": (re.compile(rf"{_LABEL}(\.{_LABEL})*"), 253, "a lowercase RFC 1123 subdomain"),
    "dns1035Label": (re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?"), 63, "a DNS-1035 label"),
    "uuid": (re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"), 36,
             "a UUID"),
    "date": (re.compile(r"\d{4}-\d{2}-\d{2}"), 10, "a date (YYYY-MM-DD)"),
    "datetime": (re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"), 64,
                 "an RFC 3339 date-time"),
    "byte": (re.compile(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"), 1 << 30,
             "base64-encoded bytes"),
}
FORMAT_NAMES = ("dns1123Label", "dns1123Subdomain", "dns1035Label", "qualifiedName", "dns1123LabelPrefix",
                "dns1123SubdomainPrefix", "dns1035LabelPrefix", "labelValue", "uri", "uuid", "byte", "date",
                "datetime")


def format_problems(name: str, value: str) -> list[str]:
    """What format ``name`` finds wrong with ``value`` (empty when valid)."""
    if name == "qualifiedName":
        return qualified_name_errors(value)
    if name == "labelValue":
        return label_value_errors(value)
    if name == "uri":
        return [] if is_url(value) else ["must be a valid URI"]
    if name.endswith("Prefix"):  # a generateName prefix: the name without its trailing dash
        name, value = name[:-len("Prefix")], value[:-1] if value.endswith("-") else value
    pattern, limit, what = _FORMAT_RULES[name]
    problems = [f"must be no more than {limit} characters"] if len(value) > limit else []
    if not pattern.fullmatch(value):
        problems.append(f"{what} must match the regex {pattern.pattern!r}")
    return problems


def _format(name: str) -> Callable[[], dict]:
    def make() -> dict:
        return {FORMAT_KEY: name}

    make.__name__ = f"format_{name}"
    return make


def format_named(name) -> dict:
    """``format.named(name)``: the format, or none when there is no such format."""
    return {OPTIONAL_KEY: {FORMAT_KEY: name} if name in FORMAT_NAMES else None}


def format_validate(fmt, value) -> dict:
    if not isinstance(value, str):
        raise FunctionError(f"validate() needs a string, got {_cel_type(value)}")
    problems = format_problems(_opaque(fmt, FORMAT_KEY, "a format"), value)
    return {OPTIONAL_KEY: problems or None}


def _optional(value) -> dict:
    if isinstance(value, dict) and len(value) == 1 and OPTIONAL_KEY in value:
        return value
    raise FunctionError(f"expected an optional, got {_cel_type(value)}")


def optional_has_value(value) -> bool:
    return _optional(value)[OPTIONAL_KEY] is not None


def optional_value(value):
    found = _optional(value)[OPTIONAL_KEY]
    if found is None:
        raise FunctionError("optional.none() dereference")
    return found



FORMAT_LIBRARY: dict[str, tuple[Overload, ...]] = {
    **{f"format.{name}": (_overload(f"format_{name}", (), "dyn", _format(name)),) for name in FORMAT_NAMES},
    "format.named": (_overload("format_named", ("string",), "dyn", format_named),),
    "validate": (_overload("format_validate", ("dyn", "string"), "dyn", format_validate, member=True),),
    "hasValue": (_overload("optional_has_value", ("map",), "bool", optional_has_value, member=True),),
    "value": (_overload("optional_value", ("map",), "dyn", optional_value, member=True),),
}


AUTHORIZER_LIBRARY: dict[str, tuple[Overload, ...]] = {
    "serviceAccount": _member("service_account", authz_service_account, "dyn", 2),
    "group": _member("group", authz_group, "dyn", 1),
    "resource": _member("resource", authz_resource, "dyn", 1),
    "namespace": _member("namespace", authz_namespace, "dyn", 1),
    "name": _member("name", authz_name, "dyn", 1),
    "subresource": _member("subresource", authz_subresource, "dyn", 1),
    "path": _member("path", authz_path, "dyn", 1),
    "check": _member("check", authz_check, "dyn", 1),
    "allowed": _member("allowed", decision_allowed, "bool"),
    "reason": _member("reason", decision_reason, "string"),
    "errored": _member("errored", decision_errored, "bool"),
    "error": _member("error", decision_error, "string"),
}


FUNCTIONS: dict[str, tuple[Overload, ...]] = {
    # quantity library
    "quantity": (Overload("kspec_string_to_quantity", ("string",), "dyn", quantity),),
    "isQuantity": (Overload("kspec_is_quantity_string", ("string",), "bool", is_quantity),),
    "sign": (Overload("kspec_quantity_sign", ("dyn",), "int", q_sign, member=True),),
    "isLessThan": (Overload("kspec_quantity_is_less_than", ("dyn", "dyn"), "bool", less, member=True),),
    "isGreaterThan": (Overload("kspec_quantity_is_greater_than", ("dyn", "dyn"), "bool", greater, member=True),),
    "compareTo": (Overload("kspec_quantity_compare_to", ("dyn", "dyn"), "int", compare, member=True),),
    "add": (Overload("kspec_quantity_add", ("dyn", "dyn"), "dyn", q_add, member=True),),
    "sub": (Overload("kspec_quantity_sub", ("dyn", "dyn"), "dyn", q_sub, member=True),),
    "isInteger": (Overload("kspec_quantity_is_integer", ("dyn",), "bool", q_is_integer, member=True),),
    "asInteger": (Overload("kspec_quantity_get_int", ("dyn",), "int", q_as_integer, member=True),),
    "asApproximateFloat": (Overload("kspec_quantity_get_float", ("dyn",), "double", q_as_float, member=True),),
    # list library
    "isSorted": (Overload("kspec_list_is_sorted", ("list",), "bool", is_sorted, member=True),),
    "sum": (Overload("kspec_list_sum", ("list",), "dyn", list_sum, member=True),),
    "min": (Overload("kspec_list_min", ("list",), "dyn", list_min, member=True),),
    "max": (Overload("kspec_list_max", ("list",), "dyn", list_max, member=True),),
    "sort": (Overload("kspec_list_sort", ("list",), "list", list_sort, member=True),),
    # selectors
    "selectorMatches": (Overload("kspec_selector_matches", ("dyn", "dyn"), "bool", selector_matches),),
    "mapSelectorMatches": (Overload("kspec_map_selector_matches", ("dyn", "dyn"), "bool", map_selector_matches),),
    # cluster helpers
    "podTemplate": (Overload("kspec_pod_template", ("dyn",), "dyn", pod_template),),
    "podsOf": (Overload("kspec_pods_of", ("dyn",), "list", pods_of),),
    "workloadsSelectedBy": (Overload("kspec_workloads_selected_by", ("dyn",), "list", _scoped("workloads_selected_by")),),
    "servicesSelecting": (Overload("kspec_services_selecting", ("dyn",), "list", _scoped("services_selecting")),),
    "pdbsSelecting": (Overload("kspec_pdbs_selecting", ("dyn",), "list", _scoped("pdbs_selecting")),),
    "anyWorkloadSelectedBy": (
        Overload("kspec_any_workload_selected_by", ("dyn",), "bool", _scoped("any_workload_selected_by")),
    ),
    "anyServiceSelecting": (
        Overload("kspec_any_service_selecting", ("dyn",), "bool", _scoped("any_service_selecting")),
    ),
    "anyPdbSelecting": (Overload("kspec_any_pdb_selecting", ("dyn",), "bool", _scoped("any_pdb_selecting")),),
    "overlappingControllers": (
        Overload("kspec_overlapping_controllers", ("dyn",), "list", _scoped("overlapping_controllers")),
    ),
    "definitions": (Overload("kspec_definitions", ("dyn",), "list", _scoped("definitions")),),
    "clusterHostRefs": (Overload("kspec_cluster_host_refs", ("dyn", "dyn"), "list", _host_refs),),
    "serviceExists": (Overload("kspec_service_exists", ("dyn", "dyn"), "bool", _scoped("service_exists")),),
    **KUBERNETES_LIBRARY,
}

# The API server's CEL functions (ValidatingAdmissionPolicy): quantity, lists, the libraries above
# and the authorizer; none of kspec's selector or cluster helpers.
_KSPEC_ONLY = ("sort", "selectorMatches", "mapSelectorMatches", "podTemplate", "podsOf", "workloadsSelectedBy",
               "servicesSelecting", "pdbsSelecting", "anyWorkloadSelectedBy", "anyServiceSelecting",
               "anyPdbSelecting", "overlappingControllers", "definitions", "clusterHostRefs", "serviceExists")
KUBERNETES_FUNCTIONS: dict[str, tuple[Overload, ...]] = {
    **{name: overloads for name, overloads in FUNCTIONS.items() if name not in _KSPEC_ONLY},
    **FORMAT_LIBRARY,
    **AUTHORIZER_LIBRARY,
}


def _cel_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "quantity" if QUANTITY_KEY in value else "map"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


# ---------------------------------------------------------------------------
# References between objects (the rule families of checks/)
# ---------------------------------------------------------------------------


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise FunctionError(f"{what} must be a string, got {_cel_type(value)}")
    return value


def object_named(kind, namespace, name) -> dict | None:
    """``objectNamed(kind, namespace, name)``: the loaded manifest with that identity, else null.

    ``namespace`` is null for a cluster-scoped kind. Of several definitions of
    one identity, the effective one (the last applied) answers.
    """
    if namespace is not None:
        _text(namespace, "namespace")
    return current_scope().raw_by_identity((_text(kind, "kind"), namespace, _text(name, "name")))


def workloads_matching(namespace, selector) -> list:
    """``workloadsMatching(namespace, labelSelector)``: workloads and bare Pods in ``namespace`` whose pods the
    selector matches (``metav1.LabelSelectorAsSelector``: null selects nothing, ``{}`` every pod).

    What a PodDisruptionBudget or a NetworkPolicy's ``podSelector`` selects;
    a StatefulSet's pods carry their per-pod labels (:func:`pod_label_sets`).
    """
    try:
        wanted = selector_from_dict(selector)
    except SelectorError as err:
        raise FunctionError(f"invalid label selector: {err}") from None
    if namespace is not None:
        _text(namespace, "namespace")
    index = current_scope()._sources()
    pins = _exact(wanted)
    if pins:
        pair = min(pins.items(), key=lambda kv: len(index["by_pair"].get((namespace,) + kv, ())))
        candidates = index["by_pair"].get((namespace,) + pair, ())
    else:
        candidates = index["by_ns"].get(namespace, ())
    found = {id(s.raw): s.raw for s in candidates if wanted.matches(s.labels)}
    return list(found.values())


def _network_policies(scope: Scope) -> dict:
    index: dict = {}
    for record in scope.unique:
        if record.kind == "NetworkPolicy":
            try:
                selector = selector_from_dict(_get(record.raw, "spec", "podSelector", default={}))
            except SelectorError:
                continue
            index.setdefault(_namespace(record.raw), []).append((record.raw, selector))
    return index


def network_policies_selecting(workload) -> list:
    """``networkPoliciesSelecting(w)``: NetworkPolicies in the workload's namespace whose ``podSelector``
    matches its pods (an empty ``podSelector`` selects every pod of the namespace)."""
    workload = _object(workload)
    scope = current_scope()
    index = scope._memo("network_policies", lambda: _network_policies(scope))
    label_sets = pod_label_sets(workload)
    return [raw for raw, selector in index.get(_namespace(workload), ())
            if any(selector.matches(labels) for labels in label_sets)]


def _autoscalers(scope: Scope) -> dict:
    index: dict = {}
    for record in scope.unique:
        target = _get(record.raw, "spec", "scaleTargetRef")
        if record.kind == "HorizontalPodAutoscaler" and isinstance(target, dict):
            key = (target.get("kind"), _namespace(record.raw), target.get("name"))
            index.setdefault(key, []).append(record.raw)
    return index


def autoscalers_targeting(workload) -> list:
    """``autoscalersTargeting(w)``: HorizontalPodAutoscalers whose ``scaleTargetRef`` names the workload
    (same namespace, kind and name)."""
    workload = _object(workload)
    scope = current_scope()
    index = scope._memo("autoscalers", lambda: _autoscalers(scope))
    return list(index.get(_identity(workload), ()))


FUNCTIONS.update({
    "objectNamed": (Overload("kspec_object_named", ("dyn", "dyn", "dyn"), "dyn", object_named),),
    "workloadsMatching": (Overload("kspec_workloads_matching", ("dyn", "dyn"), "list", workloads_matching),),
    "networkPoliciesSelecting": (
        Overload("kspec_network_policies_selecting", ("dyn",), "list", network_policies_selecting),
    ),
    "autoscalersTargeting": (Overload("kspec_autoscalers_targeting", ("dyn",), "list", autoscalers_targeting),),
})
