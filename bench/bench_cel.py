"""Choose kspec's CEL implementation by measurement.

Runs the same conformance subset and the same evaluation workloads on every
CEL implementation for Python that is installed:

* ``common-expression-language`` (module ``cel``): Rust bindings over cel-rust;
* ``cel-expr-python`` (module ``cel_expr_python``): Google's bindings over cel-cpp;
* ``cel-python`` (module ``celpy``): pure Python.

Conformance cases follow the CEL language definition (github.com/google/cel-spec,
``doc/langdef.md``: macros, ``has()``, integer overflow is an error, no implicit
int/uint/double arithmetic, commutative ``&&``/``||`` absorbing errors) and the
extension functions Kubernetes enables (cel-go ``ext.Strings``; the Kubernetes
``quantity`` library, registered here as Python functions because no candidate
ships it, which also shows that the candidate can call Python).

Usage: ``python3 bench/bench_cel.py [--objects N]``. Prints a table; the numbers
in docs/rules.md come from this script.
"""

from __future__ import annotations

import argparse
import copy
import time
from fractions import Fraction

ERROR = object()  # expected: evaluation or compile error

# (category, expression, expected). ``o`` is bound to OBJECT below.
OBJECT = {"a": 1, "m": {"x": "y"}, "s": "Hello", "l": [3, 1, 2], "z": 0}

CASES = [
    # macros
    ("macros", "[1, 2, 3].all(x, x > 0)", True),
    ("macros", "[1, 2, 3].all(x, x > 1)", False),
    ("macros", "[].all(x, x > 0)", True),
    ("macros", "[1, 2, 3].exists(x, x == 2)", True),
    ("macros", "[].exists(x, true)", False),
    ("macros", "[1, 2, 3].exists_one(x, x > 1)", False),
    ("macros", "[1, 2, 3].exists_one(x, x > 2)", True),
    ("macros", "[1, 2, 3].filter(x, x % 2 == 1)", [1, 3]),
    ("macros", "[1, 2, 3].map(x, x * 10)", [10, 20, 30]),
    ("macros", "[1, 2, 3].map(x, x > 1, x * 10)", [20, 30]),
    ("macros", "{'a': 1, 'b': 2}.all(k, k != 'c')", True),
    ("macros", "{'a': 1}.exists(k, k == 'a')", True),
    ("macros", "o.l.filter(x, x > 1).size() == 2", True),
    # logic: commutative, error-absorbing && and ||
    ("logic", "[0, 1].exists(x, 1 / x == 1)", True),
    ("logic", "[0, 1].all(x, 1 / x > 5)", False),
    ("logic", "false && (1 / 0 == 1)", False),
    ("logic", "(1 / 0 == 1) || true", True),
    ("logic", "(1 / 0 == 1) && false", False),
    ("logic", "(1 / 0 == 1) || false", ERROR),
    ("logic", "true ? 1 : 1 / 0", 1),
    # has() and field selection
    ("has", "has(o.a)", True),
    ("has", "has(o.b)", False),
    ("has", "has(o.m.x)", True),
    ("has", "has(o.m.y)", False),
    ("has", "has(o.nope.y)", ERROR),
    ("has", "o.nope", ERROR),
    ("has", "o.m.x == 'y'", True),
    ("has", "o.a.b", ERROR),
    # strings (core and cel-go ext.Strings, which Kubernetes enables)
    ("strings", "'hello'.startsWith('he') && 'hello'.endsWith('lo')", True),
    ("strings", "'hello'.contains('ell')", True),
    ("strings", "'abc'.matches('^a.c$')", True),
    ("strings", "size('héllo')", 5),
    ("strings", "'a' + 'b'", "ab"),
    ("strings", "'abc' < 'abd'", True),
    ("strings", "o.s.lowerAscii()", "hello"),
    ("strings", "o.s.upperAscii()", "HELLO"),
    ("strings", "'a,b,c'.split(',')", ["a", "b", "c"]),
    ("strings", "'a,b,c'.split(',', 2)", ["a", "b,c"]),
    ("strings", "['a', 'b'].join('-')", "a-b"),
    ("strings", "['a', 'b'].join()", "ab"),
    ("strings", "'  x '.trim()", "x"),
    ("strings", "'hello'.indexOf('l')", 2),
    ("strings", "'hello'.lastIndexOf('l')", 3),
    ("strings", "'hello'.substring(1, 3)", "el"),
    ("strings", "'hello'.replace('l', 'L')", "heLLo"),
    ("strings", "'abc'.charAt(1)", "b"),
    ("strings", "string(12)", "12"),
    ("strings", "int('42')", 42),
    ("strings", "int('x')", ERROR),
    # lists and maps
    ("lists/maps", "size([1, 2])", 2),
    ("lists/maps", "[1, 2] + [3]", [1, 2, 3]),
    ("lists/maps", "2 in [1, 2]", True),
    ("lists/maps", "'a' in {'a': 1}", True),
    ("lists/maps", "{'a': 1}['a']", 1),
    ("lists/maps", "{'a': 1}['b']", ERROR),
    ("lists/maps", "[1, 2][5]", ERROR),
    ("lists/maps", "{'a': {'b': 1}}.a.b", 1),
    ("lists/maps", "o.l[0]", 3),
    ("lists/maps", "{'a': 1} == {'a': 1}", True),
    ("lists/maps", "[1, [2]] == [1, [2]]", True),
    # numbers
    ("numbers", "9223372036854775807 + 1", ERROR),
    ("numbers", "-9223372036854775808 - 1", ERROR),
    ("numbers", "9223372036854775807 * 2", ERROR),
    ("numbers", "-9223372036854775808 / -1", ERROR),
    ("numbers", "18446744073709551615u + 1u", ERROR),
    ("numbers", "0u - 1u", ERROR),
    ("numbers", "1 + 1.0", ERROR),
    ("numbers", "1 + 1u", ERROR),
    ("numbers", "o.a + 0.5", ERROR),
    ("numbers", "7 / 2", 3),
    ("numbers", "-7 / 2", -3),
    ("numbers", "-7 % 2", -1),
    ("numbers", "7.0 / 2.0", 3.5),
    ("numbers", "1 / o.z", ERROR),
    ("numbers", "int(2.7)", 2),
    ("numbers", "int(-2.7)", -2),
    ("numbers", "double(1) == 1.0", True),
    ("numbers", "uint(1) == 1u", True),
    ("numbers", "int(1e19)", ERROR),
    ("numbers", "uint(-1)", ERROR),
    ("numbers", "type(1) == int && type(1u) == uint && type(1.0) == double", True),
    ("numbers", "type('a') == string", True),
    # Kubernetes quantity library (registered Python functions)
    ("k8s-quantity", "quantity('1Gi') == quantity('1024Mi')", True),
    ("k8s-quantity", "quantity('500m').isLessThan(quantity('1'))", True),
    ("k8s-quantity", "quantity('2').compareTo(quantity('1500m'))", 1),
    ("k8s-quantity", "quantity(o.m.x)", ERROR),
]

# A deliberately small quantity stand-in so that this script depends on no kspec
# module; kspec itself uses kspec.api.quantity (exact, upstream-faithful).
_SUFFIX = {"": 1, "m": Fraction(1, 1000), "k": 1000, "M": 10**6, "G": 10**9,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _q(text):
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        suffix, number = "", text
    try:
        value = Fraction(number) * _SUFFIX[suffix]
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"invalid quantity {text!r}") from None
    return {"kspec.quantity": f"{value.numerator}/{value.denominator}"}


def _qv(q):
    return Fraction(q["kspec.quantity"])


def _q_less(a, b):
    return _qv(a) < _qv(b)


def _q_cmp(a, b):
    x, y = _qv(a), _qv(b)
    return (x > y) - (x < y)


# --- adapters: compile(expr) -> program; run(program, variables) -> value or raise


class RustCel:
    name = "common-expression-language (cel-rust)"

    def __init__(self):
        import cel
        from cel import stdlib

        self.cel = cel
        self.context = cel.Context()
        stdlib.add_stdlib_to_context(self.context)
        for name, fn in {"quantity": _q, "isLessThan": _q_less, "compareTo": _q_cmp}.items():
            self.context.add_function(name, fn)

    def compile(self, expr):
        return self.cel.compile(expr)

    def run(self, program, variables):
        for name, value in variables.items():
            self.context.add_variable(name, value)
        return program.execute(self.context)


class CppCel:
    name = "cel-expr-python (cel-cpp)"

    def __init__(self):
        from cel_expr_python import cel
        from cel_expr_python.ext import ext_math, ext_strings

        self.cel = cel
        T = cel.Type
        ext = cel.CelExtension("kspec", [
            cel.FunctionDecl("quantity", [cel.Overload("quantity_string", T.DYN, [T.STRING], impl=_q)]),
            cel.FunctionDecl("isLessThan", [cel.Overload("q_lt", T.BOOL, [T.DYN, T.DYN], is_member=True, impl=_q_less)]),
            cel.FunctionDecl("compareTo", [cel.Overload("q_cmp", T.INT, [T.DYN, T.DYN], is_member=True, impl=_q_cmp)]),
        ])
        self.env = cel.NewEnv(
            variables={"o": T.DYN, "object": T.DYN},
            extensions=[ext_strings.ExtStrings(), ext_math.ExtMath(), ext],
        )

    def compile(self, expr):
        return self.env.compile(expr)

    def run(self, program, variables):
        value = program.eval(data=variables)
        if value.type() == self.cel.Type.ERROR:
            raise RuntimeError(value.value())
        return value.plain_value()


class PyCel:
    name = "cel-python (pure Python)"

    def __init__(self):
        import celpy

        self.celpy = celpy
        self.env = celpy.Environment()
        conv = celpy.json_to_cel

        def wrap(fn):
            return lambda *a: conv(fn(*[_plain(x) for x in a]))

        self.functions = {"quantity": wrap(_q), "isLessThan": wrap(_q_less), "compareTo": wrap(_q_cmp)}

    def compile(self, expr):
        return self.env.program(self.env.compile(expr), functions=self.functions)

    def run(self, program, variables):
        result = program.evaluate({k: self.celpy.json_to_cel(v) for k, v in variables.items()})
        if isinstance(result, self.celpy.CELEvalError):
            raise RuntimeError(result)
        return _plain(result)


def _plain(value):
    if isinstance(value, bool) or type(value).__name__ == "BoolType":  # celpy's bool is an int
        return bool(value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    for base in (int, float, str):
        if isinstance(value, base):
            return base(value)
    return value


def _same(got, want):
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    return got == want and type(got) is type(want)


def conformance(adapter):
    """Return (passed, total, per-category failures)."""
    failures = {}
    passed = 0
    for category, expr, want in CASES:
        try:
            got = adapter.run(adapter.compile(expr), {"o": copy.deepcopy(OBJECT)})
            ok = want is not ERROR and _same(_plain(got), want)
        except Exception:  # noqa: BLE001 - any error counts as "error"
            ok = want is ERROR
        if ok:
            passed += 1
        else:
            failures.setdefault(category, []).append(expr)
    return passed, len(CASES), failures


def deployment(i):
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": f"web-{i}", "namespace": "default", "labels": {"app": f"web-{i % 50}"}},
        "spec": {
            "replicas": 1 + i % 3,
            "selector": {"matchLabels": {"app": f"web-{i % 50}"}},
            "template": {
                "metadata": {"labels": {"app": f"web-{i % 50}", "tier": "frontend"}},
                "spec": {"containers": [
                    {"name": "app", "image": f"registry.example/web:{'latest' if i % 7 == 0 else '1.2.' + str(i)}",
                     "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                     "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}} if i % 5 else {},
                     "env": [{"name": "BACKEND", "value": "redis-master:6379"}]},
                    {"name": "sidecar", "image": "envoy:1.29",
                     "resources": {"requests": {"cpu": "50m"}, "limits": {"memory": "64Mi"}}},
                ]},
            },
        },
    }


WORKLOADS = {
    "requests present (all + has)": "object.spec.template.spec.containers.all(c, has(c.resources.requests))",
    "image tag (strings)": "object.spec.template.spec.containers.all(c, c.image.contains(':') && !c.image.endsWith(':latest'))",
    "selector ⊆ labels (map macro)": "object.spec.selector.matchLabels.all(k, k in object.spec.template.metadata.labels"
                                      " && object.spec.template.metadata.labels[k] == object.spec.selector.matchLabels[k])",
    "quantity compare (Python fn)": "object.spec.template.spec.containers.all(c, !has(c.resources.requests.cpu)"
                                     " || quantity(c.resources.requests.cpu).isLessThan(quantity('2')))",
}


def speed(adapter, objects):
    """Microseconds per evaluation (object converted on every evaluation) per workload."""
    out = {}
    for label, expr in WORKLOADS.items():
        t0 = time.perf_counter()
        program = adapter.compile(expr)
        compile_us = (time.perf_counter() - t0) * 1e6
        t0 = time.perf_counter()
        for obj in objects:
            try:
                adapter.run(program, {"object": obj})
            except Exception:  # noqa: BLE001
                pass
        out[label] = ((time.perf_counter() - t0) * 1e6 / len(objects), compile_us)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=2000, help="objects per speed workload")
    args = parser.parse_args()
    objects = [deployment(i) for i in range(args.objects)]
    adapters = []
    for cls in (RustCel, CppCel, PyCel):
        try:
            adapters.append(cls())
        except ImportError as err:
            print(f"skip {cls.name}: {err}")
    for adapter in adapters:
        passed, total, failures = conformance(adapter)
        print(f"\n== {adapter.name}")
        print(f"conformance: {passed}/{total}")
        for category, exprs in failures.items():
            for expr in exprs:
                print(f"  FAIL [{category}] {expr}")
        pyobjects = objects if not isinstance(adapter, PyCel) else objects[: max(1, len(objects) // 10)]
        for label, (us, compile_us) in speed(adapter, pyobjects).items():
            print(f"  {label:34s} {us:9.1f} µs/eval   compile {compile_us:8.1f} µs")


if __name__ == "__main__":
    main()
