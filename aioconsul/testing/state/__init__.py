"""The dev agent's state store (Consul's ``agent/consul/state``), one module per table.

:mod:`.store`: the :class:`~.store.Store`, joined from the tables below; :mod:`.memdb`: what
they share (the single Raft-like index, the channels a write touches, write transactions and
their rollback, ``RPCError``); :mod:`.kvs`: the KV table; :mod:`.session`: the sessions;
:mod:`.event`: the agent's recent user events; :mod:`.catalog`: nodes, services, checks and
coordinates; :mod:`.txn`: the transaction engine over them; :mod:`.watch`: the channels
blocking queries park on. Pure: no HTTP.
"""
