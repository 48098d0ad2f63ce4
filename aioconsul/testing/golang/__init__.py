"""Go semantics the dev agent reproduces, and nothing of Consul's own.

:mod:`.stdlib`: Go's standard library where it reaches the wire (durations, ``strconv``,
``encoding/json`` values, ``net/url`` escaping and path cleaning); :mod:`.jsondecode`:
``encoding/json`` decoding into typed structs, as ``lib.DecodeJSON`` runs it; :mod:`.bexpr`:
go-bexpr, the ``?filter=`` language, a package laid out like go-bexpr's own files (grammar,
evaluate, field configurations, validate, filter). The bottom layer: imports nothing else of
the dev agent.
"""
