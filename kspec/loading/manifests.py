"""Loading manifests: files, folders and stdin to records, with every problem reported.

``load_objects`` never raises for bad input: it returns every record it could
build and one :class:`Diagnostic` per problem (``file:line: error: field:
message``), across all files, so a user fixes everything in one pass.
``kspec.load`` is the strict form: a :class:`Cluster` or a :class:`LoadError`.
"""

from __future__ import annotations

import fnmatch
import gc
import os
import re
import sys
from pathlib import Path

import attrs

from kspec.api.validation import ValidationErrors, build_record, each_error, get_str
from kspec.api.defaults import apply_defaults
from kspec.errors import Diagnostic, KspecError, LoadError, ValidationError
from kspec.loading.cluster import Cluster
from kspec.loading.nodepool import (POOL_KIND, Pool, PoolQuota, name_pools, parse_pool_spec, pool_node_manifests,
                                    read_pool)
from kspec.api.objects import CLUSTER_SCOPED_KINDS, Source, object_key
from kspec.loading.inputs import helm_source, helm_sources, reason_after_parse, reason_by_name
from kspec.loading.yamlio import Document, YamlError, load_documents

SUFFIXES = (".yaml", ".yml", ".json")
DUPLICATE_OBJECT = "duplicate-object"
NOT_A_MANIFEST = "not-a-manifest"


@attrs.frozen
class InputOptions:
    """How ``kspec check`` reads its inputs.

    ``exclude``: globs of files not to read (:func:`is_excluded`);
    ``namespace``: the namespace of namespaced objects that name none
    (``kubectl -n``); ``skip``: file names never read as manifests (kspec's
    own configuration and baseline files).
    """

    exclude: tuple[str, ...] = ()
    namespace: str | None = None
    skip: tuple[str, ...] = ()


@attrs.frozen
class LoadResult:
    """What a load found: records in input order (duplicates kept) and diagnostics."""

    objects: tuple
    diagnostics: tuple[Diagnostic, ...]
    files: tuple[str, ...]
    duplicates: tuple[tuple, ...] = ()  # (first record, later record) pairs

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def expand_paths(paths) -> tuple[list[str], list[Diagnostic]]:
    """Files named, and files under folders (recursive, sorted, by suffix)."""
    files, _, problems = scan_paths(paths)
    return files, problems


def scan_paths(paths, exclude=()) -> tuple[list[str], set[str], list[Diagnostic]]:
    """Files named and files under folders (not in hidden folders below them),
    minus those ``exclude`` matches; also the set of files found by scanning
    a folder (not named)."""
    files: list[str] = []
    scanned: set[str] = set()
    problems: list[Diagnostic] = []
    for path in paths:
        path = str(path)
        if path == "-":
            files.append("-")
        elif os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).rglob("*") if p.suffix in SUFFIXES and p.is_file()
                           and not _hidden(p.relative_to(path)))
            found = [f for f in found if not is_excluded(f, exclude)]
            files.extend(found)
            scanned.update(found)
        elif os.path.isfile(path):
            if not is_excluded(path, exclude):
                files.append(path)
        else:
            problems.append(Diagnostic(path, None, "no such file or directory"))
    return files, scanned, problems


def _hidden(relative: Path) -> bool:
    """A file in a hidden folder below a scanned one (``.git``, ``.venv``, ``.github``): not scanned."""
    return any(part.startswith(".") for part in relative.parts[:-1])


def is_excluded(path: str, globs) -> bool:
    """Whether ``path`` matches one of ``globs``, as .gitignore reads them: a glob
    without ``/`` matches any one file or folder name on the path; one with ``/``
    matches the whole path or the end of it from a folder boundary (``*`` also
    crosses ``/``, so ``vendor/*`` takes everything under ``vendor``)."""
    if not globs:
        return False
    parts = [p for p in Path(path).as_posix().split("/") if p not in ("", ".")]
    for glob in globs:
        glob = glob.strip().rstrip("/").removeprefix("./")
        if not glob:
            continue
        if "/" not in glob:
            if any(fnmatch.fnmatchcase(part, glob) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase("/".join(parts[i:]), glob) for i in range(len(parts))):
            return True
    return False


def read_text(file: str, stdin=None) -> str:
    """A file's text; binary or undecodable content is a KspecError."""
    if file == "-":
        stream = stdin if stdin is not None else sys.stdin
        data = stream.read()
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
    else:
        with open(file, "rb") as handle:
            data = handle.read()
    if b"\x00" in data:
        raise KspecError("not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise KspecError(f"not UTF-8 text (invalid byte at offset {err.start})") from None


def parse_path(field: str) -> tuple:
    """``spec.containers[0].image`` to ``("spec", "containers", 0, "image")``."""
    parts: list = []
    for piece in field.split("."):
        while "[" in piece:
            head, _, rest = piece.partition("[")
            if head:
                parts.append(head)
            index, _, piece = rest.partition("]")
            parts.append(int(index) if index.isdigit() else index)
        if piece:
            parts.append(piece)
    return tuple(parts)


def _object_items(document: Document):
    """The manifests in a document: itself, or the items of a ``kind: List``."""
    value = document.value
    if isinstance(value, dict) and value.get("kind") == "List" and isinstance(value.get("items"), list):
        for index, item in enumerate(value["items"]):
            yield item, ("items", index)
    else:
        yield value, ()


@attrs.frozen
class Part:
    """Whole documents of one file: the unit of (parallel) parsing.

    ``line_offset`` is the number of lines of the file before ``text``.
    """

    file: str
    text: str = attrs.field(repr=False)
    line_offset: int = 0


@attrs.frozen
class ParsedPart:
    """A part's manifests as plain, picklable data.

    ``entries`` are (document index in the part, path prefix inside the
    document, manifest, line in the file); ``problems`` are the diagnostics
    found while parsing; ``documents`` counts the non-empty documents.
    """

    file: str
    entries: tuple
    problems: tuple
    documents: int


_DOCUMENT_START = re.compile(r"^---(?=[ \t\r\n]|$)", re.M)


def split_parts(file: str, text: str, pieces: int) -> list[Part]:
    """``text`` cut at document starts (``---`` at the start of a line) into about ``pieces`` parts.

    A ``---`` line always starts a document (YAML forbids it inside any scalar),
    so the parts parse exactly as the whole; files with directives (``%YAML``)
    are never cut.
    """
    if pieces <= 1 or re.search(r"^%", text, re.M):
        return [Part(file, text)]
    starts = [m.start() for m in _DOCUMENT_START.finditer(text)]
    target = len(text) / pieces
    cuts = [0]
    for position in starts:
        if position - cuts[-1] >= target:
            cuts.append(position)
    cuts.append(len(text))
    return [Part(file, text[a:b], text.count("\n", 0, a)) for a, b in zip(cuts, cuts[1:]) if a < b]


def parse_part(part: Part) -> ParsedPart:
    """Parse one part into plain manifests with their lines in the file."""
    entries = []
    count = 0
    offset = part.line_offset
    try:
        for document in load_documents(part.text):
            count += 1
            for manifest, prefix in _object_items(document):
                entries.append((document.index, prefix, manifest, document.line_of(prefix) + offset))
    except YamlError as err:
        line = None if err.line is None else err.line + offset
        return ParsedPart(part.file, tuple(entries), (Diagnostic(part.file, line, err.message),), count)
    return ParsedPart(part.file, tuple(entries), (), count)


class _FieldLines:
    """The line of a field in a part's documents: the part's node trees are
    re-read once, on the first error (errors only), for all its errors."""

    def __init__(self, part: Part):
        self.part = part
        self.documents: dict | None = None

    def find(self, doc_index: int, path: tuple, default: int | None) -> int | None:
        if self.documents is None:
            try:
                self.documents = {document.index: document for document in load_documents(self.part.text)}
            except KspecError:
                self.documents = {}
        document = self.documents.get(doc_index)
        if document is None:
            return default
        try:
            return document.line_of(path) + self.part.line_offset
        except KspecError:
            return default


@attrs.frozen(eq=False)
class PendingPool:
    """A NodePool read from a file, validated, its nodes not yet named: names
    wait until every Node manifest of the load is known (:func:`place_pools`)."""

    pool: Pool
    source: Source


def build_part(part: Part, parsed: ParsedPart, quota: PoolQuota | None = None,
               namespace: str | None = None) -> tuple[list, list[Diagnostic]]:
    """Records and diagnostics from a parsed part's manifests; a NodePool
    (counted against ``quota``) is a :class:`PendingPool` in its place.
    ``namespace`` is given to namespaced objects that name none; an object
    piped in from ``helm template`` is sourced at its template."""
    records: list = []
    problems: list[Diagnostic] = list(parsed.problems)
    lines = _FieldLines(part)
    sources = helm_sources(part.text) if parsed.file == "<stdin>" else None
    previous = 0
    for doc_index, prefix, manifest, line in parsed.entries:
        if not isinstance(manifest, dict):
            where = "items[%d]: " % prefix[1] if prefix else ""
            kind = type(manifest).__name__ if manifest is not None else "null"
            problems.append(Diagnostic(parsed.file, line, f"{where}expected a Kubernetes object (a mapping), got {_describe(kind)}"))
            continue
        if namespace is not None:
            _give_namespace(manifest, namespace)
        source = Source(parsed.file, line)
        if sources is not None:
            template = helm_source(sources, line - part.line_offset, previous)
            previous = line - part.line_offset
            if template is not None:
                source = Source(template, None)
        try:
            if manifest.get("kind") == POOL_KIND:
                records.append(PendingPool(checked_pool(manifest, source, quota), source))
            else:
                records.append(build_object(manifest, source, in_place=True))
        except ValidationError as errors:
            for err in each_error(errors):  # every problem of the object, each at its field's line
                field_line = lines.find(doc_index, prefix + parse_path(err.path), line) if err.path else line
                field = err.path if not prefix else f"items[{prefix[1]}].{err.path}"
                problems.append(Diagnostic(parsed.file, field_line, err.message, field, code=err.code))
        except KspecError as err:
            problems.append(Diagnostic(parsed.file, line, str(err)))
    return records, problems


def _give_namespace(manifest: dict, namespace: str) -> None:
    """``kubectl -n``: a namespaced object without a namespace gets ``namespace``."""
    metadata = manifest.get("metadata")
    kind = manifest.get("kind")
    if isinstance(metadata, dict) and metadata.get("namespace") in (None, "") and \
            not (isinstance(kind, str) and kind in CLUSTER_SCOPED_KINDS):
        metadata["namespace"] = namespace


def _describe(kind: str) -> str:
    """What a document that is not a mapping holds, without quoting it.

    A scalar document is a whole file read as one string (a file named by
    mistake, or on purpose: ``/etc/shadow``); echoing its start would leak it.
    """
    return {"str": "a string", "int": "an integer", "float": "a number", "list": "a list",
            "bool": "a boolean", "null": "null"}.get(kind, kind)


def build_object(manifest: dict, source: Source, *, in_place: bool = False):
    """Default and validate one manifest dict into its record."""
    kind = manifest.get("kind")
    if not isinstance(kind, str):  # before defaulting, which looks kinds up by name
        raise ValidationError("kind", f"expected a string, got {type(kind).__name__}")
    _check_identity_types(manifest)
    namespaced = kind not in CLUSTER_SCOPED_KINDS
    defaulted = apply_defaults(manifest, namespaced, in_place=in_place)
    return build_record(defaulted, source)


def _check_identity_types(manifest: dict) -> None:
    """``metadata.name`` and ``metadata.namespace`` must be strings (or absent, or
    null), whatever the kind's scope: the API server decodes them into Go strings
    (``ObjectMeta``), and ``namespace: []`` fails decoding. Checked before
    defaulting, which would put ``default`` in place of an empty list or map."""
    metadata = manifest.get("metadata")
    if isinstance(metadata, dict):
        for key in ("name", "namespace"):
            get_str(metadata, key, "metadata")


def checked_pool(manifest: dict, source: Source, quota: PoolQuota | None) -> Pool:
    """A NodePool manifest read and one of its nodes built, so that a bad field is
    reported now, at its line, though the nodes are named and built later."""
    pool = read_pool(manifest, quota=quota)
    try:
        pool_records(pool, (f"{pool.name}-0",), source)
    except ValidationErrors as errors:  # the pool's allocatable is the node's capacity and allocatable: once each
        distinct: dict = {}
        for err in errors.errors:
            distinct.setdefault(err.message, err)
        raise ValidationErrors(distinct.values()) if len(distinct) > 1 else next(iter(distinct.values()))
    return pool


def pool_records(pool: Pool, names, source: Source) -> list:
    """The Node records of ``pool`` with these names."""
    return [build_object(node, source, in_place=True) for node in pool_node_manifests(pool, names)]


def node_names(records) -> list[str]:
    """The names of the Node records among ``records``."""
    return [r.metadata.name for r in records if getattr(r, "kind", None) == "Node"]


def place_pools(records: list) -> tuple[list, list[Diagnostic]]:
    """``records`` with each :class:`PendingPool` replaced, in place, by its nodes,
    named by :func:`~kspec.loading.nodepool.name_pools` around every Node manifest's name."""
    pending = [r for r in records if isinstance(r, PendingPool)]
    if not pending:
        return records, []
    names = iter(name_pools([p.pool for p in pending], node_names(records)))
    placed: list = []
    problems: list[Diagnostic] = []
    for record in records:
        if not isinstance(record, PendingPool):
            placed.append(record)
            continue
        try:
            placed.extend(pool_records(record.pool, next(names), record.source))
        except ValidationError as err:  # only a name can fail here (too long at a high number): the rest was checked
            problems.append(Diagnostic(record.source.file, record.source.line, err.message, err.path, code=err.code))
    return placed, problems


def pool_nodes(specs, quota: PoolQuota | None = None, taken=()) -> tuple:
    """Node records for ``--nodes`` strings (pools named node, node2, ... unless named),
    all counted against one ``quota`` and named around the node names ``taken``
    (by :func:`~kspec.loading.nodepool.name_pools`). Raises :class:`LoadError`
    for the first bad string."""
    quota = quota or PoolQuota()
    pools: list[tuple[Pool, str]] = []
    source = Source("--nodes", None)
    for index, text in enumerate(specs):
        try:
            pool = parse_pool_spec(text, "node" if index == 0 else f"node{index + 1}")
            pools.append((checked_pool(pool, source, quota), text))
        except ValidationError as err:
            raise LoadError([_pool_diagnostic(text, err)]) from None
    records: list = []
    for (pool, text), names in zip(pools, name_pools([p for p, _ in pools], taken)):
        try:
            records.extend(pool_records(pool, names, source))
        except ValidationError as err:
            raise LoadError([_pool_diagnostic(text, err)]) from None
    return tuple(records)


def _pool_diagnostic(text: str, err: ValidationError) -> Diagnostic:
    if err.path == "--nodes":
        return Diagnostic("--nodes", None, err.message)
    return Diagnostic("--nodes", None, f'"{text}": {err.path}: {err.message}')


def parse_object(manifest: dict, *, file: str = "<memory>", line: int | None = None):
    """One manifest dict to its record, with API defaulting and validation.

    Raises :class:`LoadError` (a diagnostic naming the field of each problem) on bad input.
    The dict is not modified.
    """
    if not isinstance(manifest, dict):
        raise LoadError([Diagnostic(file, line, f"expected a Kubernetes object (a mapping), got {type(manifest).__name__}")])
    try:
        return build_object(manifest, Source(file, line))
    except ValidationError as errors:
        raise LoadError([Diagnostic(file, line, err.message, err.path) for err in each_error(errors)]) from None


def find_duplicates(records) -> tuple[list[tuple], list[Diagnostic]]:
    """Pairs of records with one identity (kind, namespace, name), and a diagnostic each."""
    first: dict = {}
    pairs: list[tuple] = []
    problems: list[Diagnostic] = []
    for record in records:
        key = object_key(record)
        if key in first:
            original = first[key]
            pairs.append((original, record))
            kind, namespace, name = key
            ident = f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"
            problems.append(Diagnostic(record.source.file, record.source.line,
                                       f"duplicate object {ident}: also defined at {original.source}", "metadata.name",
                                       code=DUPLICATE_OBJECT))
        else:
            first[key] = record
    return pairs, problems


PARALLEL_MIN_BYTES = 1 << 20
PART_BYTES = 256 << 10


def _read_parts(files: list[str], stdin, problems: list[Diagnostic], scanned=frozenset()) -> tuple[list[Part], bool]:
    """Every file's text as parts (cut up only when parsing in parallel pays off).
    A file that is not a manifest by its name (``Chart.yaml``, a chart's
    template...) is left out: a warning when a folder scan found it, an
    error when it was named."""
    texts = []
    for file in files:
        name = "<stdin>" if file == "-" else file
        try:
            text = read_text(file, stdin)
        except (OSError, KspecError) as err:
            message = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
            problems.append(Diagnostic(name, None, message))
            continue
        reason = None if file == "-" else reason_by_name(file, text)
        if reason is not None:
            problems.append(Diagnostic(name, None, reason, severity="warning" if file in scanned else "error",
                                       code=NOT_A_MANIFEST))
            continue
        texts.append((name, text))
    workers = os.cpu_count() or 1
    parallel = workers > 1 and sum(len(t) for _, t in texts) >= PARALLEL_MIN_BYTES
    parts: list[Part] = []
    for name, text in texts:
        pieces = -(-len(text) // PART_BYTES) if parallel else 1
        parts.extend(split_parts(name, text, pieces))
    return parts, parallel


def _parse_parts(parts: list[Part], parallel: bool):
    """Parsed parts in order: by one process per core when ``parallel``."""
    if parallel and len(parts) > 1:
        import multiprocessing  # deferred: start-up time (only large inputs are parsed in parallel)

        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            context = None
        if context is not None:
            workers = min(os.cpu_count() or 1, len(parts))
            with context.Pool(workers) as pool:
                yield from pool.imap(parse_part, parts, chunksize=max(1, len(parts) // (workers * 8)))
            return
    for part in parts:
        yield parse_part(part)


def load_objects(paths, *, stdin=None, quota: PoolQuota | None = None, nodes=(),
                 options: InputOptions | None = None) -> LoadResult:
    """Every record from ``paths``, then the nodes of the ``--nodes`` pool strings
    ``nodes``, and one diagnostic per problem; never raises for input.
    ``NodePool`` manifests and ``nodes`` generate their nodes within ``quota``,
    named so that no name collides (:func:`~kspec.loading.nodepool.name_pools`).
    ``options`` say which files to leave out and the namespace of objects without one."""
    collecting = gc.isenabled()
    gc.disable()  # loading allocates many small acyclic objects: the cyclic collector only slows it
    try:
        return _load_objects(paths, stdin, quota or PoolQuota(), nodes, options or InputOptions())
    finally:
        if collecting:
            gc.enable()


def _skipped_part(part: Part, parsed: ParsedPart, scanned) -> Diagnostic | None:
    """A warning for a part of a folder-scanned file that holds no manifests (a
    template that does not parse, a CI workflow), which is then left out."""
    if part.file not in scanned:
        return None
    reason = reason_after_parse(part.text, [entry[2] for entry in parsed.entries], bool(parsed.problems))
    if reason is None:
        return None
    return Diagnostic(part.file, None, reason, severity="warning", code=NOT_A_MANIFEST)


def _load_objects(paths, stdin, quota: PoolQuota, nodes, options: InputOptions) -> LoadResult:
    files, scanned, diagnostics = scan_paths(paths, options.exclude + options.skip)
    parts, parallel = _read_parts(files, stdin, diagnostics, scanned)
    records: list = []
    documents: dict[str, int] = {}
    broken: set[str] = set()
    for part, parsed in zip(parts, _parse_parts(parts, parallel)):
        skipped = _skipped_part(part, parsed, scanned)
        if skipped is not None:
            diagnostics.append(skipped)
            continue
        built, problems = build_part(part, parsed, quota, options.namespace)
        records.extend(built)
        diagnostics.extend(problems)
        documents[part.file] = documents.get(part.file, 0) + parsed.documents
        if parsed.problems:
            broken.add(part.file)
    for file, count in documents.items():
        if count == 0 and file not in broken:
            diagnostics.append(Diagnostic(file, None, "no Kubernetes objects in this file (it is empty)"))
    if not files and not diagnostics:
        diagnostics.append(Diagnostic(", ".join(map(str, paths)) or ".", None, "no manifest files found (.yaml, .yml, .json)"))
    elif files and not documents and all(d.severity != "error" for d in diagnostics):
        diagnostics.append(Diagnostic(", ".join(map(str, paths)) or ".", None,
                                      f"no Kubernetes manifests found: all {len(files)} files were skipped"))
    records, pool_problems = place_pools(records)
    diagnostics.extend(pool_problems)
    if nodes:
        try:
            records.extend(pool_nodes(nodes, quota, node_names(records)))
        except LoadError as err:
            diagnostics.extend(err.diagnostics)
    pairs, duplicate_problems = find_duplicates(records)
    diagnostics.extend(duplicate_problems)
    return LoadResult(tuple(records), tuple(diagnostics), tuple(files), tuple(pairs))


def load(paths, *, stdin=None, nodes=()):
    """A :class:`~kspec.loading.cluster.Cluster` from ``paths`` (and ``--nodes`` pool strings).

    Raises :class:`LoadError` carrying every problem found.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result = load_objects(paths, stdin=stdin, nodes=nodes)
    if not result.ok:
        raise LoadError(result.diagnostics)
    return Cluster.from_objects(result.objects)
