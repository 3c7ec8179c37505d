"""A user's database operator: Sieve's (OSDI'22) intermediate-state class and its fix.

Installing a database takes two writes: the server pod (``app=db,
component=server``), then its backup agent (``app=db, component=backup``),
which attaches to the server. Each write is its own API call, so the
operator remembers the rest of the job between them (its work in progress,
in memory); a crash between the two writes loses it, and the cluster is left
in a state no single reconcile ever produces: a server without its agent.

``version: buggy``
    Decides the job is done from the first object: a reconcile that finds a
    server returns at once. After a restart between the writes it finds the
    server, so the agent is never created.
    ``models/sieve-intermediate-state-buggy.yaml``: server created (then
    bound and started), controller restart, then nothing, forever (a lasso).

``version: fixed``
    Checks each object the job writes: a missing server is created, and so is
    a missing agent, whichever step the last process stopped at.
    ``models/sieve-intermediate-state-fixed.yaml`` holds.

The scenario reads the API fresh: this class needs no lagging cache, only a
crash between two writes.
"""

from typing import ClassVar, NamedTuple

import attrs

from kspec.api.labels import selector_from_map
from kspec.checker.model import Action
from kspec.simulation.controllers.protocol import cache_of, memory_of, template_group, with_memory
from kspec.simulation.state import create_pod, is_active

SERVER = {"app": "db", "component": "server"}
BACKUP = {"app": "db", "component": "backup"}
SERVER_SELECTOR = selector_from_map(SERVER)
BACKUP_SELECTOR = selector_from_map(BACKUP)
VERSIONS = ("buggy", "fixed")


@attrs.frozen
class DbCreateServer(Action):
    """The first write of the install: the server pod."""

    actor: ClassVar[str] = "db-operator"
    created: str


@attrs.frozen
class DbCreateBackup(Action):
    """The second write: the backup agent pod."""

    actor: ClassVar[str] = "db-operator"
    created: str


class Job(NamedTuple):
    """The operator's memory: the writes of the job in progress still to do."""

    backup_pending: bool = False

    def __repr__(self) -> str:
        return "backup agent still to create" if self.backup_pending else "no job in progress"


def _pod(name: str, labels: dict, image: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": name, "labels": dict(labels)},
            "spec": {"containers": [{"name": name.rstrip("-"), "image": image,
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}


class DatabaseOperator:
    """Installs a server and its backup agent, in two writes (see the module docstring)."""

    actor = "db-operator"
    fair = True

    def __init__(self, fixed: bool):
        self.fixed = fixed

    def templates(self):
        return [_pod("db-server-", SERVER, "example/db:1.0"), _pod("db-backup-", BACKUP, "example/db-backup:1.0")]

    def initial_memory(self, world):
        return Job()

    def rename_memory(self, memory, pods):
        return memory  # a flag: no pod names to rename

    def steps(self, world, state):
        if memory_of(world, state, self).backup_pending:
            yield self._create_backup(world, state)
            return
        pods = [p for p in cache_of(world, state, self) if is_active(p)]
        has_server = any(SERVER_SELECTOR.matches(world.groups[p.group].labels) for p in pods)
        if not has_server:
            nxt, created = create_pod(world, state, template_group(world, "db-server-"))
            yield DbCreateServer(created), with_memory(world, nxt, self, Job(backup_pending=True))
        elif self.fixed and not any(BACKUP_SELECTOR.matches(world.groups[p.group].labels) for p in pods):
            yield self._create_backup(world, state)

    def _create_backup(self, world, state):
        nxt, created = create_pod(world, state, template_group(world, "db-backup-"))
        return DbCreateBackup(created), with_memory(world, nxt, self, Job())


def build_controller(version: str = "buggy"):
    """The operator in one of :data:`VERSIONS` (see the module docstring)."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {', '.join(VERSIONS)}, got {version!r}")
    return DatabaseOperator(fixed=version == "fixed")
