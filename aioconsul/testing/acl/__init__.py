"""The dev agent's ACL system (Consul's ``acl/`` package and ``agent/consul/acl*.go``).

:mod:`.errors` Consul's ACL error texts, :mod:`.authorizer` the decisions and the enforcer a
handler holds, :mod:`.filter` one listing filter per result kind, :mod:`.resolver` a request's
token to its enforcer. With ACLs off the resolver hands out a manage-everything enforcer, so
every permission line is always there and changes nothing on the wire.
"""
