"""ACLs: bootstrap, policies, tokens, roles, denials, the per-call token, templated
policies, login with a JWT, and the agent's own tokens.

Runs as is against the embedded dev agent with ACLs on (default policy "deny"). The
``# [name]`` / ``# [end]`` comments mark the snippets that docs/acl.rst shows; the
asserts after them check what the snippets printed.
"""

import asyncio
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from aioconsul import ACLNotFound, Consul, PermissionDenied
from aioconsul.testing import DevAgent


async def bootstrap() -> None:
    agent = DevAgent(acl_enabled=True, acl_default_policy="deny")
    await agent.start()
    try:
        # [bootstrap]
        # A new cluster: the first bootstrap makes the first management token...
        async with Consul(agent.address) as client:
            management, _ = await client.acl.bootstrap()
            print(management["Description"])  # Bootstrap Token (Global Management)

            # ...and every later one is refused.
            try:
                await client.acl.bootstrap()
            except PermissionDenied as error:
                print(error.cause)  # ACL bootstrap no longer allowed (reset index: N)
        # [end]
                assert error.cause.startswith("ACL bootstrap no longer allowed")
            assert management["Policies"][0]["Name"] == "global-management"
    finally:
        await agent.stop()


async def main() -> None:
    await bootstrap()
    agent = DevAgent(acl_enabled=True, acl_default_policy="deny",
                     acl_initial_management="root")
    async with agent, Consul(agent.address, token="root") as admin:
        # [policy]
        # Rules as HCL text, JSON text, or a dict (sent JSON-encoded).
        await admin.acl.policies.create(
            "app-read", 'key_prefix "app/" { policy = "read" }')
        app_write, _ = await admin.acl.policies.create(
            "app-write", {"key_prefix": {"app/": {"policy": "write"}}},
            description="writes app/")
        # [end]
        assert app_write["Rules"] == '{"key_prefix": {"app/": {"policy": "write"}}}'

        # [token]
        # Link policies by name or by object; a service identity grants what a
        # service needs to register itself.
        reader, _ = await admin.acl.tokens.create(
            description="web reader", policies=["app-read"],
            service_identities=["web"])
        print(reader["AccessorID"], [p["Name"] for p in reader["Policies"]])

        same, _ = await admin.acl.tokens.get(reader["AccessorID"])
        tokens, _ = await admin.acl.tokens.items(policy=app_write)  # none yet
        # [end]
        assert same["Description"] == "web reader" and tokens == []

        # [denied]
        async with Consul(agent.address, token=reader["SecretID"]) as web:
            await web.agent.services.register("web", port=8080)  # its identity
            try:
                await web.kv.set("app/config", b"{}")
            except PermissionDenied as error:
                print(error.permission, error.resource)  # key:write app/config
                print(error.accessor_id == reader["AccessorID"])  # True
        # [end]
                assert (error.permission, error.resource) == ("key:write", "app/config")
                assert reader["SecretID"] not in str(error)

        # [per-call]
        async with Consul(agent.address, token=reader["SecretID"]) as web:
            # token= beats the client's token for that one call, and only there.
            await web.kv.set("app/config", b"{}", token="root")
            entry, _ = await web.kv.get("app/config")  # the client's token again
            me, _ = await web.acl.tokens.self()
            print(entry["Value"], me["Description"])  # b'{}' web reader
        # [end]
            assert entry["Value"] == b"{}" and me["Description"] == "web reader"

        # [unknown]
        unknown = "6d7c0ad1-0000-4000-8000-000000000000"  # no such SecretID
        try:
            await admin.kv.get("app/config", token=unknown)
        except ACLNotFound as error:
            print(error.message)  # ACL not found
        # [end]
            assert error.status == 403

        # [update]
        # An update starts from the object you pass: the links it does not
        # change are kept. (With a bare AccessorID, Consul clears them.)
        token, _ = await admin.acl.tokens.get(reader)
        token, _ = await admin.acl.tokens.update(token, description="web, v2")
        copy, _ = await admin.acl.tokens.clone(token, description="web, copy")
        await admin.acl.tokens.delete(copy)
        # [end]
        assert [p["Name"] for p in token["Policies"]] == ["app-read"]
        assert copy["Policies"] == token["Policies"]

        # [role]
        role, _ = await admin.acl.roles.create("app-admin", policies=[app_write])
        writer, _ = await admin.acl.tokens.create(roles=["app-admin"])
        # expanded=True adds what the token grants, roles resolved.
        expanded, _ = await admin.acl.tokens.get(writer, expanded=True)
        print([p["Name"] for p in expanded["ExpandedPolicies"]])  # ['app-write']
        # [end]
        assert [p["Name"] for p in expanded["ExpandedPolicies"]] == ["app-write"]
        assert [r["ID"] for r in expanded["ExpandedRoles"]] == [role["ID"]]

        # [templated]
        preview, _ = await admin.acl.templated_policies.preview(
            "builtin/service", {"Name": "api"})
        print(preview["Rules"].splitlines()[1])  # service "api" {
        await admin.acl.tokens.create(templated_policies=[
            {"TemplateName": "builtin/service", "TemplateVariables": {"Name": "api"}}])
        # [end]
        assert preview["Rules"].splitlines()[1] == 'service "api" {'

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        now = int(time.time())
        claims = {"iss": "https://issuer.example", "aud": "consul", "iat": now,
                  "exp": now + 300, "service": "web"}
        bearer = jwt.encode(claims, key, algorithm="RS256")

        # [login]
        # An auth method checks the JWT; binding rules say what its token gets.
        await admin.acl.auth_methods.create("jwt", "jwt", config={
            "JWTValidationPubKeys": [public_pem],
            "BoundIssuer": "https://issuer.example", "BoundAudiences": ["consul"],
            "ClaimMappings": {"service": "service"}})
        await admin.acl.binding_rules.create("jwt", "service", "${value.service}")

        async with Consul(agent.address) as anonymous:
            login, _ = await anonymous.acl.login("jwt", bearer)
            print(login["ServiceIdentities"])  # [{'ServiceName': 'web'}]
            await anonymous.acl.logout(token=login["SecretID"])
        # [end]
            assert login["AuthMethod"] == "jwt"

        # [agent-token]
        # The agent's own tokens (default, agent, agent_recovery, replication,
        # config_file_service_registration, dns); the secret goes in the body.
        agent_token, _ = await admin.acl.tokens.create(
            node_identities=[(agent.node_name, agent.datacenter)])
        await admin.agent.update_token("agent", agent_token["SecretID"])
        # [end]


if __name__ == "__main__":
    asyncio.run(main())
