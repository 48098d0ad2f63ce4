"""The HTTP plumbing every dev-agent endpoint shares (Consul's ``agent/http.go``).

:mod:`.reply`: the request context, replies, Consul's error bodies and routes;
:mod:`.query`: the common parameters (dc, consistency, wait/index, namespaces), datacenter
forwarding, the blocking query and the meta headers. Handlers receive the
:class:`~aioconsul.testing.backend.Backend` and call these functions; nothing here imports an
endpoint module or the route table.
"""
