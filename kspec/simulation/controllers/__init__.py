"""The Kubernetes control loops as pure transition functions, one module each.

See :mod:`kspec.simulation.controllers.protocol` for the protocol a controller follows
(built-in ones and users' own).
"""
