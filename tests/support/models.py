"""Small hand-made models with known graphs, shared by the checker's tests.

``Mutex`` is Peterson's algorithm for two processes (20 states), and with
``broken`` a variant that tests the other flag before setting its own (16
states, mutual exclusion violated at depth 6). ``Deep`` is two counters whose
bug needs both at 4 or more: depth 8 among 36 states.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from kspec.checker.model import Action, always, leads_to, sometimes

# -- two-process mutex (Peterson, and a broken variant) ---------------------------


@attrs.frozen
class MState:
    pc: tuple[str, str] = ("idle", "idle")
    flag: tuple[bool, bool] = (False, False)
    turn: int = 0


@attrs.frozen
class Step(Action):
    actor: ClassVar[str] = "proc"
    proc: int


@attrs.frozen
class Mutex:
    """Peterson's algorithm; ``broken`` skips the turn check (flag only, set after testing)."""

    broken: bool = False

    def init_states(self):
        return [MState()]

    def actions(self, s):
        return [Step(0), Step(1)]

    def next_state(self, s, a):
        i, j = a.proc, 1 - a.proc
        pc = s.pc[i]

        def set_pc(v):
            return tuple(v if k == i else s.pc[k] for k in range(2))

        def set_flag(v):
            return tuple(v if k == i else s.flag[k] for k in range(2))

        if self.broken:
            if pc == "idle":
                return attrs.evolve(s, pc=set_pc("check"))
            if pc == "check":
                return attrs.evolve(s, pc=set_pc("set")) if not s.flag[j] else None
            if pc == "set":
                return attrs.evolve(s, pc=set_pc("critical"), flag=set_flag(True))
            return attrs.evolve(s, pc=set_pc("idle"), flag=set_flag(False))
        if pc == "idle":
            return attrs.evolve(s, pc=set_pc("flagged"), flag=set_flag(True))
        if pc == "flagged":
            return attrs.evolve(s, pc=set_pc("waiting"), turn=j)
        if pc == "waiting":
            return attrs.evolve(s, pc=set_pc("critical")) if not s.flag[j] or s.turn == i else None
        return attrs.evolve(s, pc=set_pc("idle"), flag=set_flag(False))

    def properties(self):
        return [
            always("mutual-exclusion", lambda s: s.pc != ("critical", "critical")),
            sometimes("someone-enters", lambda s: "critical" in s.pc),
            leads_to("p0-waiting-enters", lambda s: s.pc[0] == "waiting", lambda s: s.pc[0] == "critical", fair={"proc"}),
        ]

    def within_boundary(self, s):
        return True


# -- two counters: a safety bug at depth 8 ------------------------------------------


@attrs.frozen
class Tick(Action):
    actor: ClassVar[str] = "clock"
    which: int


@attrs.frozen
class Deep:
    """Two counters; the bug needs both at 4 or more: depth 8, among 36 states."""

    def init_states(self):
        return [(0, 0)]

    def actions(self, s):
        return [Tick(0), Tick(1)]

    def next_state(self, s, a):
        if s[a.which] >= 5:
            return None
        return tuple(v + 1 if k == a.which else v for k, v in enumerate(s))

    def properties(self):
        return [always("not-both-4", lambda s: not (s[0] >= 4 and s[1] >= 4))]

    def within_boundary(self, s):
        return True
