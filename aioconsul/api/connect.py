"""Connect (service mesh): ``client.connect.ca`` and ``client.connect.intentions``."""

from __future__ import annotations

from .._core.core import Core, Endpoint
from .connect_ca import ConnectCA
from .intentions import Intentions

__all__ = ["Connect"]


class Connect(Endpoint):
    """``client.connect``: the mesh's certificate authority (:attr:`ca`) and its intentions
    (:attr:`intentions`)."""

    __slots__ = ("ca", "intentions")

    ca: ConnectCA
    intentions: Intentions

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.ca = ConnectCA(core)
        self.intentions = Intentions(core)
