"""Coordination recipes over the public client API: session keep-alive, Lock, Semaphore, election.

Each recipe talks to Consul only through ``client.kv`` and ``client.session`` (never aiohttp, never
the request core), so it behaves exactly like the endpoint methods it is built from. Lock and
Semaphore follow the Go client's ``api/lock.go`` and ``api/semaphore.go`` step by step — the same
keys, flags, values and session settings — so they interoperate with Go programs and
``consul lock``. Every background task a recipe starts is stopped and awaited by the call that
ends it (``release()``, ``stop()``, leaving ``async with``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["recipe_method"]

P = ParamSpec("P")
T = TypeVar("T")


def recipe_method(
    cls: Callable[Concatenate[Any, P], T], name: str
) -> Callable[Concatenate[Any, P], T]:
    """A method ``client.<name>(...)`` that builds ``cls(client, ...)``.

    The method shows the class's signature without its first argument (the client), for
    autodoc and ``help()``, and keeps the class's options in one place.
    """

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return cls(self, *args, **kwargs)

    target = getattr(cls, "__qualname__", name)
    signature = inspect.signature(cls)
    params = list(signature.parameters.values())[1:]
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY), *params],
        return_annotation=target)
    method.__name__ = method.__qualname__ = name
    module = getattr(cls, "__module__", "")
    method.__doc__ = (f"Return a new :class:`~{module}.{target}` for this client; the arguments "
                      f"are the class's, after the client.")
    return method
