"""Rules Consul writes itself: service and node identities, and the builtin templated policies.

Consul's ``agent/structs/acl_ce.go`` (the identity templates), ``agent/structs/acl.go``
(``SyntheticPolicy``), ``agent/structs/acl_templated_policy.go`` and
``agent/structs/acltemplatedpolicy/`` (the six builtin templates of Consul 1.19-1.21, their
IDs, descriptions, JSON schemas and HCL). The synthetic policy around the rules (its
``synthetic-policy-<hex>`` ID and hash) is :func:`aioconsul.testing.state.acl.synthetic_policy`.

:func:`validate_templated_policy` is ``ACLTemplatedPolicy.ValidateTemplatedPolicy``: the
identity-name check of ``builtin/service`` and ``builtin/node``, then gojsonschema's verdict on
the variables, as go-multierror prints it (``1 error occurred:\\n\\t* name is required\\n\\n``).
Pure code, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ..golang.stdlib import strconv_quote

__all__ = [
    "API_GATEWAY",
    "DNS",
    "NODE",
    "NOMAD_CLIENT",
    "NOMAD_SERVER",
    "SERVICE",
    "TEMPLATED_POLICIES",
    "TemplatedPolicyBase",
    "TemplatedPolicyError",
    "is_valid_node_identity_name",
    "is_valid_service_identity_name",
    "node_identity_rules",
    "render_templated_policy",
    "service_identity_rules",
    "templated_policy_base",
    "templated_policy_bases",
    "validate_templated_policy",
]

# -- service and node identities (acl_ce.go) --------------------------------------------------

_SERVICE_IDENTITY: Final = """
service "{name}" {{
\tpolicy = "write"
}}
service "{name}-sidecar-proxy" {{
\tpolicy = "write"
}}
service_prefix "" {{
\tpolicy = "read"
}}
node_prefix "" {{
\tpolicy = "read"
}}"""

# node:write to register itself and its coordinates, service:read for anti-entropy.
_NODE_IDENTITY: Final = """
node "{name}" {{
\tpolicy = "write"
}}
service_prefix "" {{
\tpolicy = "read"
}}"""


def service_identity_rules(name: str) -> str:
    """aclServiceIdentityRules: write on the service and its sidecar, read on the rest.

    Consul does not escape the name (it was validated when the identity was stored).
    """
    return _SERVICE_IDENTITY.format(name=name)


def node_identity_rules(name: str, datacenter: str = "") -> str:
    """aclNodeIdentityRules. In CE the rules do not depend on the datacenter, which only
    scopes the synthetic policy (its ``Datacenters`` is ``[datacenter]``)."""
    del datacenter
    return _NODE_IDENTITY.format(name=name)


_IDENTITY_NAME: Final = re.compile(r"[a-z0-9](?:[a-z0-9\-_]*[a-z0-9])?")
_IDENTITY_NAME_MAX: Final = 256


def is_valid_service_identity_name(name: str) -> bool:
    """acl.IsValidServiceIdentityName: 1-256 of lowercase letters, digits, ``-``, ``_``, not
    starting or ending with ``-``/``_``."""
    return 1 <= len(name) <= _IDENTITY_NAME_MAX and _IDENTITY_NAME.fullmatch(name) is not None


def is_valid_node_identity_name(name: str) -> bool:
    """acl.IsValidNodeIdentityName (the same rule as service identities)."""
    return 1 <= len(name) <= _IDENTITY_NAME_MAX and _IDENTITY_NAME.fullmatch(name) is not None


# -- builtin templated policies ----------------------------------------------------------------

#: api.ACLTemplatedPolicy*Name
SERVICE: Final = "builtin/service"
NODE: Final = "builtin/node"
DNS: Final = "builtin/dns"
NOMAD_SERVER: Final = "builtin/nomad-server"
API_GATEWAY: Final = "builtin/api-gateway"
NOMAD_CLIENT: Final = "builtin/nomad-client"

# schemas/service.json, node.json and api-gateway.json (embedded as they are, tabs included).
_NAME_SCHEMA: Final = (
    '{\n\t"type": "object",\n\t"properties": {\n\t\t"name": { "type": "string", "$ref": '
    '"#/definitions/min-length-one" }\n\t},\n\t"required": ["name"],\n\t"definitions": {\n'
    '\t\t"min-length-one": {\n\t\t\t\t"type": "string",\n\t\t\t\t"minLength": 1\n\t\t}\n\t}\n}'
)


class TemplatedPolicyError(ValueError):
    """A templated policy Consul refuses or cannot render; ``str()`` is Consul's text."""


@dataclass(frozen=True, slots=True)
class TemplatedPolicyBase:
    """structs.ACLTemplatedPolicyBase; ``schema`` is ``""`` for templates without variables."""

    template_name: str
    template_id: str
    schema: str
    template: str
    description: str

    def response(self) -> dict[str, str]:
        """api.ACLTemplatedPolicyResponse, as /v1/acl/templated-policies returns it."""
        return {"TemplateName": self.template_name, "Schema": self.schema,
                "Template": self.template, "Description": self.description}


_BASES: Final = (
    TemplatedPolicyBase(
        SERVICE, "00000000-0000-0000-0000-000000000003", _NAME_SCHEMA,
        '\nservice "{{.Name}}" {\n\tpolicy = "write"\n}\nservice "{{.Name}}-sidecar-proxy" {\n'
        '\tpolicy = "write"\n}\nservice_prefix "" {\n\tpolicy = "read"\n}\nnode_prefix "" {\n'
        '\tpolicy = "read"\n}',
        "Gives the token or role permissions to register a service and discover services in "
        "the Consul catalog. It also gives the specified service's sidecar proxy the "
        "permission to discover and route traffic to other services.",
    ),
    TemplatedPolicyBase(
        NODE, "00000000-0000-0000-0000-000000000004", _NAME_SCHEMA,
        '\nnode "{{.Name}}" {\n\tpolicy = "write"\n}\nservice_prefix "" {\n\tpolicy = "read"\n}',
        "Gives the token or role permissions for a register an agent/node into the catalog. "
        "A node is typically a consul agent but can also be a physical server, cloud instance "
        "or a container.",
    ),
    TemplatedPolicyBase(
        DNS, "00000000-0000-0000-0000-000000000005", "",
        '\nnode_prefix "" {\n\tpolicy = "read"\n}\nservice_prefix "" {\n\tpolicy = "read"\n}'
        '\nquery_prefix "" {\n\tpolicy = "read"\n}',
        "Gives the token or role permissions for the Consul DNS to query services in the "
        "network.",
    ),
    TemplatedPolicyBase(
        NOMAD_SERVER, "00000000-0000-0000-0000-000000000006", "",
        '\nacl = "write"\nagent_prefix "" {\n  policy = "read"\n}\nnode_prefix "" {\n'
        '  policy = "read"\n}\nservice_prefix "" {\n  policy = "write"\n}',
        "Gives the token or role permissions required for integration with a nomad server.",
    ),
    # ...0007 was builtin/workload-identity, removed with the v2 catalog.
    TemplatedPolicyBase(
        API_GATEWAY, "00000000-0000-0000-0000-000000000008", _NAME_SCHEMA,
        'mesh = "read"\nnode_prefix "" {\n\tpolicy = "read"\n}\nservice_prefix "" {\n'
        '\tpolicy = "read"\n}\nservice "{{.Name}}" {\n\tpolicy = "write"\n}',
        "Gives the token or role permissions for a Consul api gateway",
    ),
    TemplatedPolicyBase(
        NOMAD_CLIENT, "00000000-0000-0000-0000-000000000009", "",
        'agent_prefix "" {\n  policy = "read"\n}\nnode_prefix "" {\n  policy = "read"\n}\n'
        'service_prefix "" {\n  policy = "write"\n}\nkey_prefix "" {\n  policy = "read"\n}',
        "Gives the token or role permissions required for integration with a nomad client.",
    ),
)

#: structs.GetACLTemplatedPolicyList(): template name to its base.
TEMPLATED_POLICIES: Final[Mapping[str, TemplatedPolicyBase]] = MappingProxyType(
    {base.template_name: base for base in _BASES})


def templated_policy_base(template_name: str) -> TemplatedPolicyBase | None:
    """structs.GetACLTemplatedPolicyBase (exact name; ``None`` when there is none)."""
    return TEMPLATED_POLICIES.get(template_name)


def templated_policy_bases() -> Mapping[str, TemplatedPolicyBase]:
    """structs.GetACLTemplatedPolicyList."""
    return TEMPLATED_POLICIES


def _multierror(errors: list[str]) -> str:
    """go-multierror's ListFormatFunc."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {error}" for error in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"


def validate_templated_policy(template_name: str, variables: Mapping[str, str] | None) -> None:
    """ACLTemplatedPolicy.ValidateTemplatedPolicy against the template's schema.

    ``variables`` is ``TemplateVariables``: ``None`` when the request had none (Go's nil),
    else its ``name`` (absent or ``""`` alike, as ``json:"name,omitempty"`` makes them).
    A template without a schema takes anything; an unknown template is not checked here
    (:func:`templated_policy_base` answers that). Raises :class:`TemplatedPolicyError`.
    """
    base = TEMPLATED_POLICIES.get(template_name)
    if base is None or not base.schema:
        return
    if variables is not None:
        name = variables.get("name", "")
        if template_name == SERVICE and not is_valid_service_identity_name(name):
            raise TemplatedPolicyError(
                f"service identity {strconv_quote(name)} has an invalid name. Only lowercase "
                "alphanumeric characters, '-' and '_' are allowed")
        if template_name == NODE and not is_valid_node_identity_name(name):
            raise TemplatedPolicyError(  # two spaces before "has": Consul's text
                f"node identity {strconv_quote(name)}  has an invalid name. Only lowercase "
                "alphanumeric characters, '-' and '_' are allowed")
    # gojsonschema on the name schema: an object, with a non-empty "name".
    if variables is None:
        raise TemplatedPolicyError(
            _multierror(["Invalid type. Expected: object, given: null"]))
    if not variables.get("name", ""):
        raise TemplatedPolicyError(_multierror(["name is required"]))


_FIELD: Final = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


def render_templated_policy(template_name: str, variables: Mapping[str, str] | None) -> str:
    """aclTemplatedPolicyRules: the template executed with the variables (text/template: no
    escaping; ``.Namespace`` and ``.Partition`` are ``default`` in CE).

    Raises :class:`TemplatedPolicyError` with Consul's text for an unknown template, and for
    a template that reads ``.Name`` without variables (Go's nil-pointer template error).
    """
    base = TEMPLATED_POLICIES.get(template_name)
    if base is None:
        raise TemplatedPolicyError(f"acl templated policy does not exist: {template_name}")

    def field(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in ("Namespace", "Partition"):
            return "default"
        if variables is None:
            text = base.template
            dot = match.start() + match.group(0).index(".")
            line = 1 + text.count("\n", 0, dot)
            column = dot - (text.rfind("\n", 0, dot) + 1)
            raise TemplatedPolicyError(
                "an error occured when executing on templated policy variables: template: "
                f"{template_name}:{line}:{column}: executing {strconv_quote(template_name)} "
                f"at <.{name}>: nil pointer evaluating "
                f"*structs.ACLTemplatedPolicyVariables.{name}")
        return variables.get(name.lower(), "")

    return _FIELD.sub(field, base.template)
