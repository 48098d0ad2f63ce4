"""What every dev-agent handler shares on the wire: the request context, replies, errors, routes.

The ``agent/http.go`` half that is not parameter parsing: :class:`HTTPError` is an answer with
Consul's status and plain-text body, :class:`Reply` what a handler returns, :class:`Context`
the request as Go's handlers see it (decoded path, ``req.URL.Query()``), :class:`Route` one
``ServeMux`` pattern. This module never reads state and never imports an endpoint module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from multidict import CIMultiDict

from ..golang.stdlib import GoSyntaxError, go_json, go_json_floats, unescape_path

if TYPE_CHECKING:
    from ..backend import Backend

__all__ = [
    "JSON",
    "TEXT",
    "Context",
    "HTTPError",
    "Handler",
    "Query",
    "Reply",
    "Route",
    "json_floats",
]

JSON: Final = "application/json"
TEXT: Final = "text/plain; charset=utf-8"  # what Go sniffs for a plain-text body


class HTTPError(Exception):
    """An error Consul answers with a specific status and a plain-text body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def text(cls, status: int, text: str) -> Reply:
        return cls(status, text.encode("utf-8", "surrogateescape"), TEXT if text else None)


class Query:
    """``req.URL.Query()``: presence tests and first values, plus the original pairs."""

    __slots__ = ("_first", "pairs")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._first: dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def __contains__(self, key: str) -> bool:
        return key in self._first

    def get(self, key: str) -> str:
        return self._first.get(key, "")


@dataclass(slots=True)
class Context:
    request: web.Request
    path: str  # the decoded request path, as Go's req.URL.Path
    query: Query
    headers: CIMultiDict[str]

    @property
    def pretty(self) -> bool:
        return "pretty" in self.query

    def json(self, obj: Any, status: int = 200) -> Reply:
        return Reply(status, go_json(obj, pretty=self.pretty), JSON)


Handler = Callable[["Backend", Context], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Route:
    """One ``ServeMux`` pattern, the methods it serves and its handler.

    ``no_acl`` marks a route whose Consul handler checks no ACL at all (it resolves no token and
    filters nothing, e.g. ``Status.Leader``): its text says where Consul shows that. Every other
    route must answer a request without permission with a 403 or a filtered result
    (``tests/agent/test_acl_every_route.py`` holds every route to one of the three).
    """

    pattern: str
    methods: tuple[str, ...]
    handler: Handler
    segments: tuple[str, ...] = ()
    subtree: bool = False
    no_acl: str = ""

    @classmethod
    def of(
        cls, pattern: str, methods: tuple[str, ...], handler: Handler, *, no_acl: str = ""
    ) -> Route:
        subtree = pattern.endswith("/")
        segments = tuple(pattern.strip("/").split("/"))
        return cls(pattern, methods, handler, segments, subtree, no_acl)

    def matches(self, segments: list[str]) -> bool:
        """Go 1.22 ServeMux matching: segments of the escaped path, each unescaped."""
        n = len(self.segments)
        if len(segments) <= n if self.subtree else len(segments) != n:
            return False
        try:
            return all(unescape_path(segments[i]) == self.segments[i] for i in range(n))
        except GoSyntaxError:
            return False

    @property
    def allow(self) -> str:
        return ",".join(("OPTIONS", *self.methods))


def json_floats(ctx: Context, obj: Any) -> Reply:
    """``ctx.json`` for documents with floats (coordinates, metrics): Go's float64 text."""
    return Reply(200, go_json_floats(obj, pretty=ctx.pretty), "application/json")
