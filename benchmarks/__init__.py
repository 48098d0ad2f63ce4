"""aioconsul's benchmark suite: ``python -m benchmarks`` (or ``tox -e bench``).

A protocol floor (no HTTP library), aiohttp (lean and as documented), the peers py-consul and
discovery-client, and aioconsul, side by side on the same requests with the same decoding, on
asyncio's loop or uvloop, against servers running in their own processes: a fixed-response
aiohttp server with canned Consul-shaped answers (the client's own cost), and aioconsul's
embedded dev agent. See ``docs/benchmarks.rst`` for what each case measures and the latest table.

Modules: ``runner`` (the command line, one process per case), ``cases`` (what runs in the
client process), ``clients`` (the clients behind one interface), ``servers`` (the server
processes), ``report`` (tables, targets, the chart, the docs page), ``profiling`` (one client
under a profiler: ``python -m benchmarks.profiling``), ``common``.
"""
