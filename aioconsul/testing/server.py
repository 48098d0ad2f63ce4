"""The dev agent's HTTP server: the request gates in front of the route table.

Request paths go through the same gates as in Consul: Go's request parsing (malformed
escapes), go-cleanhttp's printable-path check, then ``net/http.ServeMux`` (Go 1.22+: path
cleaning on the *escaped* path, 301 redirects, ``/tree`` -> ``/tree/``); then
``HTTPHandlers.wrap`` (``agent/http.go``): the shared headers, OPTIONS and 405, and Consul's
error bodies. The handlers are in :mod:`~aioconsul.testing.endpoints` (one module per Consul
group, joined in one route table), the plumbing they share in :mod:`~aioconsul.testing.http`,
the state in the :class:`~aioconsul.testing.backend.Backend` this class extends.

This module never implements an endpoint and never binds sockets (``agent.py`` does).
"""

from __future__ import annotations

import re
import time
from typing import Any, Final

from aiohttp import web
from multidict import CIMultiDict

from .acl.errors import ACLError
from .backend import CONSUL_VERSION, Backend, CheckKnobs
from .endpoints import ROUTES
from .golang.stdlib import (
    GoSyntaxError,
    clean_path,
    escape_path,
    format_duration,
    is_printable_path,
    parse_query,
    unescape_path,
    valid_encoded_path,
)
from .http.reply import TEXT, Context, HTTPError, Query, Reply, Route
from .state.memdb import RPCError

__all__ = ["CONSUL_VERSION", "CheckKnobs", "ConsulAPI"]

_GZIP_MIN_SIZE: Final = 1400  # gziphandler.DefaultMinSize


def _accepts_gzip(request: web.Request) -> bool:
    for coding in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = coding.partition(";")
        if name.strip().lower() != "gzip":
            continue
        q = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            return q is None or float(q.group(1)) > 0
        except ValueError:
            return False
    return False


def _html_escape(text: str) -> str:
    for raw, entity in (("&", "&amp;"), ("'", "&#39;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(raw, entity)
    return text.replace('"', "&#34;")


class ConsulAPI(Backend):
    """The request handler behind a :class:`~aioconsul.testing.DevAgent`."""

    # -- the net/http layer ------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request the way Consul's HTTP server stack would."""
        raw_path, _, raw_query = request.raw_path.partition("?")
        try:
            path = unescape_path(raw_path)
        except GoSyntaxError:
            # net/http rejects the request line before any handler runs, and hangs up.
            response = self._response(request, Reply(400, b"400 Bad Request", TEXT))
            response.force_close()
            return response
        if not is_printable_path(path):
            return self._response(request, Reply(400))  # go-cleanhttp: status only
        escaped = raw_path if valid_encoded_path(raw_path) else escape_path(path)
        cleaned = clean_path(escaped)
        route = self._match(cleaned)
        exact = route is not None and not (
            route.subtree and cleaned.count("/") > len(route.segments)
        )
        if not exact and not cleaned.endswith("/"):
            # ServeMux.matchOrRedirect: a path that matches no pattern exactly ("/tree", or
            # "/v1/acl/policy/name" inside "/v1/acl/policy/") redirects to "/tree/" when that
            # is exactly a registered subtree's root.
            slash = self._match(cleaned + "/")
            if slash is not None and slash.subtree and cleaned.count("/") == len(slash.segments):
                return self._redirect(request, escape_path(clean_path(path) + "/"), raw_query)
        if cleaned != escaped:
            # Go escapes the already-escaped cleaned path again when it builds Location.
            return self._redirect(request, escape_path(cleaned), raw_query)
        if route is None:
            return self._index(request, path)
        return await self._serve(request, route, path, raw_query)

    @staticmethod
    def _match(path: str) -> Route | None:
        segments = path.split("/")[1:]
        for route in ROUTES:
            if route.matches(segments):
                return route
        return None

    def _response(self, request: web.Request, reply: Reply) -> web.Response:
        headers = self._acl_headers()
        headers.extend(reply.headers)
        if reply.content_type is not None:
            headers["Content-Type"] = reply.content_type
        response = web.Response(status=reply.status, body=reply.body, headers=headers)
        if len(reply.body) >= _GZIP_MIN_SIZE and _accepts_gzip(request):
            response.enable_compression(web.ContentCoding.gzip)
        return response

    def _acl_headers(self) -> CIMultiDict[str]:
        """wrap sets X-Consul-Default-ACL-Policy on every answer, ACLs enabled or not."""
        return CIMultiDict({"X-Consul-Default-ACL-Policy": self.acl.default_policy})

    def _redirect(self, request: web.Request, location: str, raw_query: str) -> web.Response:
        """http.Redirect with 301, as ServeMux answers a path that needs cleaning."""
        url = location + ("?" + raw_query if raw_query else "")
        reply = Reply(301, headers=[("Location", url)])
        if request.method in ("GET", "HEAD"):
            reply.content_type = "text/html; charset=utf-8"
        if request.method == "GET":
            reply.body = f'<a href="{_html_escape(url)}">Moved Permanently</a>.\n\n'.encode()
        return self._response(request, reply)

    def _index(self, request: web.Request, path: str) -> web.Response:
        """HTTPHandlers.Index: the catch-all "/" handler."""
        if path == "/":
            text = (
                "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent "
                "configuration and restart."
            )
            return self._response(request, Reply.text(200, text))
        if "/v1/" in path:
            text = "Invalid URL path: not a recognized HTTP API endpoint\n"
        else:
            text = (
                "Invalid URL path: if attempting to use the HTTP API, ensure the path starts "
                "with '/v1/'\n"
            )
        return self._response(request, Reply.text(404, text))

    async def _serve(
        self, request: web.Request, route: Route, path: str, raw_query: str
    ) -> web.StreamResponse:
        """HTTPHandlers.wrap: shared headers, query parsing, OPTIONS and 405, error bodies."""
        headers: CIMultiDict[str] = CIMultiDict(Vary="Accept-Encoding")
        try:
            query = Query(parse_query(raw_query))
        except GoSyntaxError:
            return self._response(request, Reply(500, headers=list(headers.items())))
        start, transport = time.perf_counter(), request.transport
        try:
            return await self._wrapped(request, route, Context(request, path, query, headers))
        finally:
            if self.log.monitored:
                self._log_request(request, query, start, transport)

    def _log_request(
        self, request: web.Request, query: Query, start: float, transport: Any
    ) -> None:
        """wrap's deferred ``httpLogger.Debug("Request finished", ...)``, tokens hidden."""
        url = request.raw_path
        for key, token in query.pairs:
            if key == "token":
                url = url + "<hidden>" if not token else url.replace(token, "<hidden>")
        peer = transport.get_extra_info("peername") if transport is not None else None
        if isinstance(peer, tuple):
            host = f"[{peer[0]}]" if ":" in peer[0] else peer[0]
            remote = f"{host}:{peer[1]}"
        else:
            remote = "@"  # a unix socket peer, as Go's net.UnixAddr prints it
        latency = format_duration(round((time.perf_counter() - start) * 1e9))
        self.log.log(2, "agent.http", "Request finished", ("method", request.method),
                     ("url", url), ("from", remote), ("latency", latency))

    async def _wrapped(self, request: web.Request, route: Route, ctx: Context
                       ) -> web.StreamResponse:
        headers = ctx.headers
        try:
            if request.method == "OPTIONS":
                headers["Allow"] = route.allow
                reply = Reply()
            elif request.method not in route.methods:
                headers["Allow"] = route.allow
                reply = Reply.text(405, f"method {request.method} not allowed")
            else:
                reply = await route.handler(self, ctx)
        except HTTPError as exc:
            reply = Reply.text(exc.status, exc.reason)
        except ACLError as exc:
            reply = Reply.text(403, str(exc))  # wrap: isForbidden (denied, ACL not found)
        except (RPCError, GoSyntaxError) as exc:
            reply = Reply.text(500, str(exc))
        reply.headers[:0] = list(headers.items())
        stream = self.streams.pop(id(request), None)
        if stream is not None and reply.status == 200:
            # A streamed body (the monitor): the handler's coroutine prepares and writes it.
            response = web.StreamResponse(headers=self._acl_headers())
            response.headers.extend(reply.headers)
            if reply.content_type is not None:
                response.headers["Content-Type"] = reply.content_type
            await stream(response)
            return response
        return self._response(request, reply)
