"""Prepared queries as Consul decodes and writes them, and their templates.

``structs.PreparedQuery`` (``agent/structs/prepared_query.go``): the body schema the HTTP
handlers decode (:func:`decode_query_body`), the stored record with every field at its Go
zero value (:func:`new_query`) and the JSON the endpoints write (:func:`query_json`). The
templates of ``agent/consul/prepared_query/template.go`` live here too: :func:`compile_template`
checks a ``name_prefix_match`` template (its HIL interpolations in every string of
``Service`` and its ``Regexp``) and :func:`render_template` fills it in for one name.

HIL is reproduced for what templates use: literal text with ``${...}`` holes naming the
variables ``name.full``, ``name.prefix``, ``name.suffix``, ``agent.segment`` or calling
``match(N)``. Pure: no I/O, no state.
"""

from __future__ import annotations

import contextlib
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ..golang.bexpr.errors import FilterError
from ..golang.bexpr.regexp import compile_regexp
from ..golang.jsondecode import Bool, Int, List, Map, Ptr, Str, Struct, Uint, unmarshal

__all__ = [
    "NAME_PREFIX_MATCH",
    "REDACTED_TOKEN",
    "CompiledTemplate",
    "TemplateError",
    "compile_template",
    "decode_query_body",
    "new_query",
    "query_json",
    "render_template",
]

Record = dict[str, Any]

NAME_PREFIX_MATCH: Final = "name_prefix_match"  # structs.QueryTemplateTypeNamePrefixMatch
REDACTED_TOKEN: Final = "<hidden>"  # aclfilter's redactedToken

_STR: Final = Str()
_STRS: Final = List(_STR)
_STR_MAP: Final = Map(_STR)
_ENT: Final = {"Namespace": _STR, "Partition": _STR}  # acl.EnterpriseMeta (squashed)
_TARGET: Final = Struct(
    "structs.QueryFailoverTarget", "QueryFailoverTarget",
    {"Peer": _STR, "Datacenter": _STR, **_ENT},
)
_FAILOVER: Final = Struct(
    "structs.QueryFailoverOptions", "QueryFailoverOptions",
    {"NearestN": Int(), "Datacenters": _STRS, "Targets": List(_TARGET)},
)
_SERVICE: Final = Struct(
    "structs.ServiceQuery", "ServiceQuery",
    {
        "Service": _STR,
        "SamenessGroup": _STR,
        "Failover": _FAILOVER,
        "OnlyPassing": Bool(),
        "IgnoreCheckIDs": List(Str("types.CheckID")),
        "Near": _STR,
        "Tags": _STRS,
        "NodeMeta": _STR_MAP,
        "ServiceMeta": _STR_MAP,
        "Peer": _STR,
        "Connect": Bool(),
        **_ENT,
    },
)
_TEMPLATE: Final = Struct(
    "structs.QueryTemplateOptions", "QueryTemplateOptions",
    {"Type": _STR, "Regexp": _STR, "RemoveEmptyTags": Bool()},
)
_DNS: Final = Struct("structs.QueryDNSOptions", "QueryDNSOptions", {"TTL": _STR})
_QUERY: Final = Ptr(Struct(
    "structs.PreparedQuery", "PreparedQuery",
    {
        "ID": _STR,
        "Name": _STR,
        "Session": _STR,
        "Token": _STR,
        "Template": _TEMPLATE,
        "Service": _SERVICE,
        "DNS": _DNS,
        "CreateIndex": Uint(),
        "ModifyIndex": Uint(),
    },
))


def new_query() -> Record:
    """A ``structs.PreparedQuery`` with every field at its Go zero value."""
    return {
        "ID": "",
        "Name": "",
        "Session": "",
        "Token": "",
        "Template": {"Type": "", "Regexp": "", "RemoveEmptyTags": False},
        "Service": {
            "Service": "",
            "SamenessGroup": "",
            "Failover": {"NearestN": 0, "Datacenters": None, "Targets": None},
            "OnlyPassing": False,
            "IgnoreCheckIDs": None,
            "Near": "",
            "Tags": None,
            "NodeMeta": None,
            "ServiceMeta": None,
            "Peer": "",
            "Connect": False,
        },
        "DNS": {"TTL": ""},
        "CreateIndex": 0,
        "ModifyIndex": 0,
    }


def _merge(into: Record, decoded: Record) -> None:
    for key, value in decoded.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict) and key not in (
            "NodeMeta", "ServiceMeta"
        ):
            _merge(into[key], value)
        else:
            into[key] = value


def decode_query_body(data: bytes) -> Record | None:
    """decodeBody into ``*structs.PreparedQuery``; ``None`` for a ``null`` body.

    Raises :class:`~aioconsul.testing.golang.stdlib.GoSyntaxError` with Go's text.
    """
    decoded = unmarshal(data, _QUERY)
    if decoded is None:
        return None
    query = new_query()
    _merge(query, decoded)
    return query


def query_json(query: Record) -> Record:
    """The stored query as ``encoding/json`` writes ``structs.PreparedQuery`` (CE)."""
    service = query["Service"]
    failover = service["Failover"]
    out_failover: Record = {"NearestN": failover["NearestN"],
                            "Datacenters": failover["Datacenters"]}
    if failover["Targets"] is not None:
        out_failover["Targets"] = [
            {"Peer": t.get("Peer", ""), "Datacenter": t.get("Datacenter", "")}
            for t in failover["Targets"]
        ]
    else:
        out_failover["Targets"] = None
    return {
        "ID": query["ID"],
        "Name": query["Name"],
        "Session": query["Session"],
        "Token": query["Token"],
        "Template": dict(query["Template"]),
        "Service": {
            "Service": service["Service"],
            "SamenessGroup": service["SamenessGroup"],
            "Failover": out_failover,
            "OnlyPassing": service["OnlyPassing"],
            "IgnoreCheckIDs": service["IgnoreCheckIDs"],
            "Near": service["Near"],
            "Tags": service["Tags"],
            "NodeMeta": service["NodeMeta"],
            "ServiceMeta": service["ServiceMeta"],
            "Peer": service["Peer"],
            "Connect": service["Connect"],
        },
        "DNS": dict(query["DNS"]),
        "CreateIndex": query["CreateIndex"],
        "ModifyIndex": query["ModifyIndex"],
    }


# -- templates (agent/consul/prepared_query/template.go, walk.go; hashicorp/hil) --------------


class TemplateError(Exception):
    """A template that does not compile or render; ``str()`` is Consul's text."""


_VARIABLES: Final = ("name.full", "name.prefix", "name.suffix", "agent.segment")
_HOLE: Final = re.compile(r"\$\{(.*?)\}", re.S)
_MATCH_CALL: Final = re.compile(r"\s*match\s*\(\s*(-?[0-9]+)\s*\)\s*")
_VARIABLE: Final = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*")

# A parsed HIL string: literal parts and holes, each ("text", s), ("var", name) or ("match", n).
_Tree = list[tuple[str, Any]]


def _hil_parse(text: str) -> _Tree:
    """hil.Parse for the subset templates use; raises ValueError with a parse problem."""
    tree: _Tree = []
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            if pos < len(text):
                tree.append(("text", text[pos:].replace("$${", "${")))
            return tree
        if start > 0 and text[start - 1] == "$":  # "$${" is an escaped "${"
            tree.append(("text", text[pos:start - 1] + "${"))
            pos = start + 2
            continue
        if start > pos:
            tree.append(("text", text[pos:start]))
        end = text.find("}", start)
        if end < 0:
            raise ValueError(f"1:{start + 3}: expected expression end, got end of string")
        expr = text[start + 2:end]
        match = _MATCH_CALL.fullmatch(expr)
        if match:
            tree.append(("match", int(match.group(1))))
        elif (var := _VARIABLE.fullmatch(expr)) is not None:
            tree.append(("var", var.group(1)))
        else:
            raise ValueError(f"1:{start + 3}: invalid expression {expr!r}")
        pos = end + 1


def _hil_eval(tree: _Tree, scope: dict[str, str], matches: list[str]) -> str:
    out = []
    for kind, value in tree:
        if kind == "text":
            out.append(value)
        elif kind == "match":
            out.append(matches[value] if 0 <= value < len(matches) else "")
        else:
            if value not in scope:
                raise ValueError(f"unknown variable accessed: {value}")
            out.append(scope[value])
    return "".join(out)


def _under(base: str, visit: Callable[[str, str], str]) -> Callable[[str, str], str]:
    def inner(path: str, value: str) -> str:
        return visit(base + path, value)

    return inner


def _walk(service: Record, visit: Callable[[str, str], str]) -> None:
    """walk.go: every string field of ``Service``, slices and map values included."""
    for key, value in list(service.items()):
        path = f".{key}"
        if isinstance(value, str):
            service[key] = visit(path, value)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, str):
                    value[i] = visit(f"{path}[{i}]", item)
                elif isinstance(item, dict):
                    _walk(item, _under(f"{path}[{i}]", visit))
        elif isinstance(value, dict) and key in ("NodeMeta", "ServiceMeta"):
            for k in list(value):
                value[k] = visit(f"{path}[{k}]", value[k])
        elif isinstance(value, dict):
            _walk(value, _under(path, visit))


@dataclass(frozen=True, slots=True)
class CompiledTemplate:
    """prepared_query.CompiledTemplate: the query, its parsed strings, its regexp."""

    query: Record
    trees: dict[str, _Tree]
    regexp: re.Pattern[str] | None


def compile_template(query: Record) -> CompiledTemplate:
    """prepared_query.Compile: type, HIL strings, regexp, then a test render with the Name."""
    if query["Template"]["Type"] != NAME_PREFIX_MATCH:
        raise TemplateError(f"Bad Template.Type '{query['Template']['Type']}'")
    prototype = copy.deepcopy(query)
    trees: dict[str, _Tree] = {}

    def parse(path: str, value: str) -> str:
        try:
            trees[path] = _hil_parse(value)
        except ValueError as exc:
            raise TemplateError(f"Bad format '{value}' in Service{path}: {exc}") from None
        return value

    _walk(prototype["Service"], parse)
    regexp = None
    if prototype["Template"]["Regexp"]:
        try:
            raw = prototype["Template"]["Regexp"]
            regexp = compile_regexp(raw)  # Go's syntax and error texts
            # The translation drops capture groups, which match(N) needs: for matching, the
            # pattern as Python reads it (RE2 and Python agree on the syntax templates use).
            with contextlib.suppress(re.error):
                regexp = re.compile(raw)
        except FilterError as exc:
            text = str(exc)
            text = text[text.find("error parsing regexp"):] if "error parsing" in text else text
            raise TemplateError(f"Bad Regexp: {text}") from None
    compiled = CompiledTemplate(prototype, trees, regexp)
    render_template(compiled, prototype["Name"], "")
    return compiled


def render_template(compiled: CompiledTemplate, name: str, segment: str) -> Record:
    """CompiledTemplate.Render for ``name`` (the agent's network segment for
    ``${agent.segment}``): a fresh copy with every string of ``Service`` interpolated."""
    query = copy.deepcopy(compiled.query)
    matches: list[str] = []
    if compiled.regexp is not None:
        found = compiled.regexp.search(name)
        if found is not None:
            matches = [found.group(0), *(g or "" for g in found.groups())]
    prefix = query["Name"]
    scope = {
        "name.full": name,
        "name.prefix": prefix,
        "name.suffix": name[len(prefix):] if name.startswith(prefix) else name,
        "agent.segment": segment,
    }

    def evaluate(path: str, value: str) -> str:
        tree = compiled.trees.get(path)
        if tree is None:
            return value
        try:
            return _hil_eval(tree, scope, matches)
        except ValueError as exc:
            raise TemplateError(
                f"Bad evaluation for '{value}' in Service{path}: {exc}"
            ) from None

    _walk(query["Service"], evaluate)
    if query["Template"]["RemoveEmptyTags"] and query["Service"]["Tags"] is not None:
        query["Service"]["Tags"] = [t for t in query["Service"]["Tags"] if t != ""]
    return query
