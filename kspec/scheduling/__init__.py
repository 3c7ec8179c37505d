"""Scheduling: the kube-scheduler's Filter plugins in plain Python, and the whole
placement problem for Z3 (feasibility, failure tolerance, explanations).

``kspec.scheduling.filters`` decides one pod against one node exactly as the
kube-scheduler's Filter plugins do; ``kspec.scheduling.solver`` (the only module
that imports z3) places every pending pod and every workload replica at once;
``kspec.scheduling.greedy`` is the one-pod-at-a-time baseline.
"""

from kspec.scheduling.filters import ALL, FilterResult, filter_pod

__all__ = ["ALL", "FilterResult", "filter_pod"]
