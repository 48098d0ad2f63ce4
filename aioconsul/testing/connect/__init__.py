"""The pure mesh pieces of the dev agent: SPIFFE IDs and the built-in ("consul") CA.

Consul's ``agent/connect`` and ``agent/connect/ca``: :mod:`.uri` parses and formats the
SPIFFE IDs Consul puts in certificate URI SANs, :mod:`.ca` makes the root and leaf
certificates of the built-in provider. No state and no I/O here; the CA roots table lives in
``state/connect_ca.py``. :mod:`.ca` needs ``cryptography`` (``pip install 'aioconsul[devagent]'``);
:mod:`.uri` needs nothing beyond the standard library.
"""
