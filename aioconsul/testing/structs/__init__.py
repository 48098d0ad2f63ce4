"""Wire shapes of the dev agent, per Consul group: request-body decoders and JSON renderers.

Pure: no state, no I/O, nothing from the HTTP layer (Consul's ``agent/structs`` and ``api``
types).
"""
