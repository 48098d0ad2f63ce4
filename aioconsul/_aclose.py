"""What makes an object an ``async with`` block of its own (private).

:class:`AsyncClosing`: entering returns the object, leaving awaits its ``aclose()``.
:class:`StartedClosing`: entering awaits ``start()``, leaving awaits ``close()`` and, when the
block itself raised nothing, raises the error that stopped the object's background work
(``error``), if one did.

A leaf module: it imports nothing of the package, so any layer may use it.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["AsyncClosing", "StartedClosing"]

_C = TypeVar("_C", bound="AsyncClosing")
_S = TypeVar("_S", bound="StartedClosing")


class AsyncClosing:
    """``async with obj:`` is ``obj``, and ``await obj.aclose()`` on leaving."""

    __slots__ = ()

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _C) -> _C:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class StartedClosing:
    """``async with obj:`` starts ``obj`` and closes it on leaving, then raises ``obj.error``
    (what stopped its background work) unless the block raised already."""

    __slots__ = ()

    error: BaseException | None

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _S) -> _S:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc is None and self.error is not None:
            raise self.error
