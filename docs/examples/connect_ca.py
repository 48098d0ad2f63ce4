"""The Connect CA: read the roots, get a service's leaf certificate, check it with
cryptography, rotate the root and watch the leaf being re-issued.

Runs as is against the embedded dev agent (its CA needs ``aioconsul[devagent]``).
The ``# [name]`` / ``# [end]`` comments mark the snippets that docs/connect.rst
shows; the asserts after them check what the snippets printed.
"""

import asyncio

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from aioconsul import Consul
from aioconsul.testing import DevAgent


async def main() -> None:
    async with DevAgent() as agent, Consul(agent.address) as client:
        # The dev agent re-issues leaves at once after a rotation (Consul: within 30 s).
        agent.backend.connect_ca.ca_change_jitter = 0.0

        # [roots]
        roots, meta = await client.connect.ca.roots()
        print(meta["Index"])  # roots(watch=meta) blocks until the roots change
        active = next(r for r in roots["Roots"] if r["Active"])
        print(roots["TrustDomain"])  # <cluster-id>.consul
        print(active["Name"], active["PrivateKeyType"], active["PrivateKeyBits"])
        # [end]
        assert active["Name"] == "Consul CA Primary Cert"

        # [leaf]
        leaf, leaf_meta = await client.agent.connect.leaf("web")
        cert = x509.load_pem_x509_certificate(leaf["CertPEM"].encode())
        root = x509.load_pem_x509_certificate(active["RootCert"].encode())
        cert.verify_directly_issued_by(root)  # raises if the root did not sign it
        key = serialization.load_pem_private_key(leaf["PrivateKeyPEM"].encode(), None)
        print(leaf["ServiceURI"])
        # spiffe://<cluster-id>.consul/ns/default/dc/dc1/svc/web
        print(key.public_key() == cert.public_key())  # True
        # [end]
        assert key.public_key() == cert.public_key()
        assert leaf["ServiceURI"].endswith("/ns/default/dc/dc1/svc/web")

        # [rotate]
        renewed = asyncio.ensure_future(
            client.agent.connect.leaf("web", watch=(leaf_meta, "5m")))
        await client.connect.ca.set_config(
            "consul", {"PrivateKeyType": "ec", "PrivateKeyBits": 384})
        new_leaf, _ = await renewed  # the blocking read returns the re-issued leaf
        roots, _ = await client.connect.ca.roots()
        print([r["Active"] for r in roots["Roots"]])  # [False, True]
        # [end]
        assert new_leaf["SerialNumber"] != leaf["SerialNumber"]
        assert [r["Active"] for r in roots["Roots"]] == [False, True]

        # [config]
        config, _ = await client.connect.ca.get_config()
        print(config["Provider"], config["Config"])
        # consul {'PrivateKeyType': 'ec', 'PrivateKeyBits': 384}
        # [end]
        assert config["Config"]["PrivateKeyBits"] == 384


if __name__ == "__main__":
    asyncio.run(main())
