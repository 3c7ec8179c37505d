"""Hypothesis settings profiles, chosen with ``KSPEC_HYPOTHESIS_PROFILE``.

- ``fast`` (the default, what ``python -m pytest`` and CI run): 100 examples,
  or a test's own count; no per-example deadline (two shared cores make
  timings noisy, and a deadline failure says nothing about kspec) and no
  "too slow" health check (states are built through the real loader).
- ``thorough``: ten times as many examples everywhere, for a run after a
  change to a core function: ``KSPEC_HYPOTHESIS_PROFILE=thorough python -m pytest``.

A test that wants another count than the profile's says ``@examples(n)``
rather than ``@settings(max_examples=n)``, so the thorough profile scales it too.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

ENV = "KSPEC_HYPOTHESIS_PROFILE"
SCALE = {"fast": 1, "thorough": 10}
FAST_EXAMPLES = 100


def load() -> str:
    """Register the profiles and load the one the environment names; returns its name."""
    for name, scale in SCALE.items():
        settings.register_profile(name, max_examples=FAST_EXAMPLES * scale, deadline=None,
                                  suppress_health_check=[HealthCheck.too_slow])
    name = os.environ.get(ENV, "fast")
    if name not in SCALE:
        raise ValueError(f"{ENV}={name!r}: expected one of {', '.join(SCALE)}")
    settings.load_profile(name)
    return name


def examples(count: int) -> settings:
    """Settings for ``count`` examples under the fast profile, scaled under the thorough one."""
    return settings(max_examples=count * settings.default.max_examples // FAST_EXAMPLES)
