"""The discovery chain compiler of the dev agent (Consul's ``agent/consul/discoverychain``).

:mod:`.compile` compiles config entries into the ``CompiledDiscoveryChain`` JSON;
:mod:`.hashing` is the ``hashstructure`` hash behind its ``CustomizationHash``. Pure: the
state store feeds it entries (``state/config_entry.py``), the HTTP endpoint serves it
(``endpoints/discovery_chain.py``); nothing here imports either. The package re-exports
what :mod:`.compile` exports.
"""

from . import compile as _compile
from .compile import *  # noqa: F403

__all__ = list(_compile.__all__)
