"""The functions kspec adds to CEL, as plain Python (no CEL library import here).

Three groups, declared in :data:`FUNCTIONS` and registered by
:mod:`kspec.rules.cel`:

* **Kubernetes CEL libraries** that no Python CEL implementation ships: the
  quantity library (``k8s.io/apiserver/pkg/cel/library/quantity.go``:
  ``quantity``, ``isQuantity``, ``sign``, ``isLessThan``, ``isGreaterThan``,
  ``compareTo``, ``add``, ``sub``, ``asInteger``, ``isInteger``,
  ``asApproximateFloat``) and the list library (``lists.go``: ``isSorted``,
  ``sum``, ``min``, ``max``). A quantity is carried through CEL as the map
  ``{"@quantity": "<numerator>/<denominator>"}`` (its exact value), so
  ``quantity('1Gi') == quantity('1024Mi')`` holds, as upstream's ``Equal``
  (which compares values with ``Cmp``) says.
* **Label selectors**: ``selectorMatches(labelSelector, labels)``
  (``metav1.LabelSelectorAsSelector``: null selects nothing, ``{}`` everything)
  and ``mapSelectorMatches(map, labels)`` (``labels.SelectorFromSet``, the
  Service and ReplicationController form).
* **Cluster helpers** that look at every loaded object, answered from indexes
  built once per checked cluster (a :class:`Scope`, bound with :func:`bind`):
  ``podTemplate(w)``, ``podsOf(w)``, ``workloadsSelectedBy(service)``,
  ``servicesSelecting(w)``, ``pdbsSelecting(w)``, ``overlappingControllers(w)``,
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
from kspec.api.labels import Selector, selector_from_dict, selector_from_map, witness
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
                source = _Source(raw, _namespace(raw), template_labels(raw))
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
        return [s.raw for s in candidates if all(s.labels.get(k) == v for k, v in selector.items())]

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
            refs.append({"host": match.group(1), "port": int(match.group(2)), "service": ref[1], "namespace": ref[0]})
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


FUNCTIONS: dict[str, tuple[Overload, ...]] = {
    # quantity library
    "quantity": (Overload("kspec_string_to_quantity", ("string",), "dyn", quantity),),
    "isQuantity": (Overload("kspec_is_quantity_string", ("string",), "bool", is_quantity),),
    "sign": (Overload("kspec_quantity_sign", ("dyn",), "int", q_sign, member=True),),
    "isLessThan": (Overload("kspec_quantity_is_less_than", ("dyn", "dyn"), "bool", q_less, member=True),),
    "isGreaterThan": (Overload("kspec_quantity_is_greater_than", ("dyn", "dyn"), "bool", q_greater, member=True),),
    "compareTo": (Overload("kspec_quantity_compare_to", ("dyn", "dyn"), "int", q_compare, member=True),),
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
    # selectors
    "selectorMatches": (Overload("kspec_selector_matches", ("dyn", "dyn"), "bool", selector_matches),),
    "mapSelectorMatches": (Overload("kspec_map_selector_matches", ("dyn", "dyn"), "bool", map_selector_matches),),
    # cluster helpers
    "podTemplate": (Overload("kspec_pod_template", ("dyn",), "dyn", pod_template),),
    "podsOf": (Overload("kspec_pods_of", ("dyn",), "list", pods_of),),
    "workloadsSelectedBy": (Overload("kspec_workloads_selected_by", ("dyn",), "list", _scoped("workloads_selected_by")),),
    "servicesSelecting": (Overload("kspec_services_selecting", ("dyn",), "list", _scoped("services_selecting")),),
    "pdbsSelecting": (Overload("kspec_pdbs_selecting", ("dyn",), "list", _scoped("pdbs_selecting")),),
    "overlappingControllers": (
        Overload("kspec_overlapping_controllers", ("dyn",), "list", _scoped("overlapping_controllers")),
    ),
    "definitions": (Overload("kspec_definitions", ("dyn",), "list", _scoped("definitions")),),
    "clusterHostRefs": (Overload("kspec_cluster_host_refs", ("dyn", "dyn"), "list", _host_refs),),
    "serviceExists": (Overload("kspec_service_exists", ("dyn", "dyn"), "bool", _scoped("service_exists")),),
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
