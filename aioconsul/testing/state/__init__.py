"""The dev agent's state store (Consul's ``agent/consul/state``), one module per table group.

:mod:`.store`: the single Raft-like index, and the KV, session and event tables;
:mod:`.catalog`: nodes, services, checks and coordinates; :mod:`.txn`: the transaction
engine over both; :mod:`.watch`: the channels blocking queries park on. Pure: no HTTP.
"""
