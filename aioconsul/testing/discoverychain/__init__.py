"""The discovery chain compiler of the dev agent (Consul's ``agent/consul/discoverychain``).

:mod:`.compile` compiles config entries into the ``CompiledDiscoveryChain`` JSON;
:mod:`.hashing` is the ``hashstructure`` hash behind its ``CustomizationHash``. Pure: the
state store feeds it entries (``state/config_entry.py``), the HTTP endpoint serves it
(``endpoints/discovery_chain.py``); nothing here imports either.
"""

from .compile import (
    DEFAULT_CONNECT_TIMEOUT,
    ChainEntries,
    ChainError,
    CompileRequest,
    compile_chain,
    duration_ns,
    is_protocol_http_like,
)

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "ChainEntries",
    "ChainError",
    "CompileRequest",
    "compile_chain",
    "duration_ns",
    "is_protocol_http_like",
]
