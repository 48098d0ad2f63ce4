"""Command line: serve a dev agent in the foreground (``python -m aioconsul.testing``).

Prints exactly one line, the agent's address, once it accepts connections, then serves until
SIGINT or SIGTERM, or until ``PUT /v1/agent/leave`` shuts the agent down (``consul agent``
returns 0 when its agent's ShutdownCh closes), and exits 0. It must never print anything else
on stdout: scripts read that line to find the agent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import ssl
import sys

from .agent import DevAgent
from .golang.stdlib import SECOND, GoSyntaxError, parse_duration


def _duration(text: str) -> float:
    """A Go duration, as Consul's flags and config keys take them ("10s", "100ms"); seconds."""
    try:
        return parse_duration(text) / SECOND
    except GoSyntaxError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    """One flag per DevAgent option, spelled like the consul agent flag or config key.

    Go's flag package takes ``-node`` and ``--node`` alike; this CLI takes the double-dash
    spelling. Durations are Go durations, as in Consul's configuration.
    """
    parser = argparse.ArgumentParser(
        prog="python -m aioconsul.testing",
        description="Serve an in-memory Consul-compatible dev agent, like consul agent -dev. "
                    "Prints the agent's address once it accepts connections, then serves until "
                    "interrupted (Ctrl-C or SIGTERM) or told to leave (PUT /v1/agent/leave). "
                    "Durations are written as in Consul: 10s, 100ms, 1m.",
    )
    listen = parser.add_argument_group("where it listens")
    listen.add_argument("--client", "--host", dest="host", default="127.0.0.1", metavar="ADDR",
                        help="address to bind for the HTTP API, like consul agent -client "
                             "(default 127.0.0.1)")
    listen.add_argument("--http-port", "--port", dest="port", type=int, default=8500,
                        metavar="PORT", help="TCP port of the HTTP API, 0 for any free port "
                                             "(default 8500)")
    listen.add_argument("--unix-path", dest="unix_path", metavar="PATH",
                        help="serve the HTTP API on this unix socket instead, like Consul's "
                             "addresses.http = unix://PATH")
    listen.add_argument("--cert-file", dest="cert_file", metavar="FILE",
                        help="serve HTTPS with this PEM certificate (Consul's cert_file)")
    listen.add_argument("--key-file", dest="key_file", metavar="FILE",
                        help="the certificate's PEM private key (Consul's key_file)")
    agent = parser.add_argument_group("the agent")
    agent.add_argument("--node", "--node-name", dest="node_name", default="aioconsul-dev",
                       help="the agent's node name (default aioconsul-dev)")
    agent.add_argument("--datacenter", dest="datacenter", default="dc1",
                       help="the agent's datacenter (default dc1)")
    agent.add_argument("--enable-script-checks", dest="enable_script_checks",
                       action="store_true", help="run checks with Args registered over HTTP")
    agent.add_argument("--enable-local-script-checks", dest="enable_local_script_checks",
                       action="store_true", default=None,
                       help="allow script checks from the agent's own configuration only "
                            "(the dev agent has none: HTTP registrations stay refused)")
    agent.add_argument("--encrypt", dest="encrypt", metavar="KEY",
                       help="the gossip encryption key (base64 of 16, 24 or 32 bytes), like "
                            "consul agent -encrypt: /v1/operator/keyring then manages keys")
    agent.add_argument("--connect-disabled", dest="connect_enabled", action="store_false",
                       help="connect.enabled = false: no Connect CA (on by default, as in -dev)")
    acl = parser.add_argument_group("ACLs (off by default, as in -dev)")
    acl.add_argument("--acl-enabled", dest="acl_enabled", action="store_true",
                     help="turn on the ACL system (Consul's acl.enabled)")
    acl.add_argument("--acl-default-policy", dest="acl_default_policy", default="allow",
                     choices=("allow", "deny"),
                     help="what no ACL rule grants: allow or deny (default allow)")
    acl.add_argument("--acl-down-policy", dest="acl_down_policy", default="extend-cache",
                     choices=("allow", "deny", "extend-cache", "async-cache"),
                     help="acl.down_policy, reported as configured (default extend-cache)")
    acl.add_argument("--acl-initial-management", dest="acl_initial_management",
                     metavar="TOKEN",
                     help="SecretID of the initial management token the agent bootstraps "
                          "with (acl.tokens.initial_management); implies --acl-enabled")
    acl.add_argument("--acl-enable-key-list-policy", dest="acl_enable_key_list_policy",
                     action="store_true",
                     help="acl.enable_key_list_policy: recursive KV reads also need key:list")
    acl.add_argument("--acl-token-min-expiration-ttl", dest="acl_token_min_expiration_ttl",
                     type=_duration, default=60.0, metavar="DURATION",
                     help="acl.token_min_expiration_ttl: the shortest ExpirationTTL (default 1m)")
    acl.add_argument("--acl-token-max-expiration-ttl", dest="acl_token_max_expiration_ttl",
                     type=_duration, default=86400.0, metavar="DURATION",
                     help="acl.token_max_expiration_ttl: the longest ExpirationTTL (default 24h)")
    acl.add_argument("--acl-enable-token-persistence", dest="acl_enable_token_persistence",
                     action="store_true",
                     help="acl.enable_token_persistence, reported as configured (the dev "
                          "agent keeps its tokens in memory)")
    timing = parser.add_argument_group("timing (Consul's defaults)")
    timing.add_argument("--session-ttl-min", dest="session_ttl_min", type=_duration,
                        default=10.0, metavar="DURATION",
                        help="shortest session TTL accepted (default 10s)")
    timing.add_argument("--session-ttl-multiplier", dest="session_ttl_multiplier", type=float,
                        default=2.0, metavar="N",
                        help="a session expires N times its TTL after its last renewal "
                             "(default 2)")
    timing.add_argument("--check-interval-min", dest="check_interval_min", type=_duration,
                        default=1.0, metavar="DURATION",
                        help="shortest interval a check runs at (default 1s)")
    timing.add_argument("--check-update-interval", dest="check_update_interval",
                        type=_duration, default=300.0, metavar="DURATION",
                        help="how long an output-only change waits before reaching the "
                             "catalog (default 5m)")
    timing.add_argument("--check-reap-interval", dest="check_reap_interval", type=_duration,
                        default=30.0, metavar="DURATION",
                        help="how often DeregisterCriticalServiceAfter is enforced "
                             "(default 30s)")
    timing.add_argument("--check-deregister-interval-min", dest="check_deregister_interval_min",
                        type=_duration, default=60.0, metavar="DURATION",
                        help="shortest DeregisterCriticalServiceAfter (default 1m)")
    timing.add_argument("--sync-coordinate-interval-min", "--coordinate-sync-interval",
                        dest="coordinate_sync_interval", type=_duration, default=15.0,
                        metavar="DURATION",
                        help="when the agent first sends its network coordinate, plus a "
                             "random stagger (default 15s)")
    return parser


def _agent(args: argparse.Namespace) -> DevAgent:
    """The DevAgent the parsed command line asks for."""
    ssl_context = None
    if args.cert_file is not None or args.key_file is not None:
        if args.cert_file is None or args.key_file is None:
            raise ValueError("--cert-file and --key-file go together")
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.cert_file, args.key_file)
    options = {name: getattr(args, name) for name in _AGENT_OPTIONS}
    if args.acl_initial_management:
        options["acl_enabled"] = True
    return DevAgent(ssl_context=ssl_context, **options)


#: DevAgent's keyword arguments that a flag sets directly (ssl_context comes from the files).
_AGENT_OPTIONS = (
    "host",
    "port",
    "node_name",
    "datacenter",
    "unix_path",
    "session_ttl_min",
    "session_ttl_multiplier",
    "check_reap_interval",
    "check_deregister_interval_min",
    "check_interval_min",
    "check_update_interval",
    "coordinate_sync_interval",
    "enable_script_checks",
    "enable_local_script_checks",
    "acl_enabled",
    "acl_default_policy",
    "acl_down_policy",
    "acl_initial_management",
    "acl_enable_token_persistence",
    "acl_enable_key_list_policy",
    "acl_token_min_expiration_ttl",
    "acl_token_max_expiration_ttl",
    "encrypt",
    "connect_enabled",
)


async def _serve(agent: DevAgent) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with agent:
        print(agent.address, flush=True)
        interrupted = asyncio.ensure_future(stop.wait())
        left = asyncio.ensure_future(agent.wait_stopped())
        try:
            await asyncio.wait((interrupted, left), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (interrupted, left):
                waiter.cancel()
            await asyncio.gather(interrupted, left, return_exceptions=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the dev agent until interrupted; returns the exit status.

    A reader of stdout that went away (``| head``) ends it quietly, as the Python docs
    recommend (library/signal.html, "Note on SIGPIPE"): stdout is pointed at devnull so the
    interpreter's flush at exit cannot fail again, and the status is 1.
    """
    try:
        try:
            args = _parser().parse_args(argv)
        except SystemExit as exc:  # --help, or a usage error
            sys.stdout.flush()
            return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
        try:
            agent = _agent(args)  # bad options end here, before the event loop starts
        except (OSError, ValueError) as exc:
            print(f"python -m aioconsul.testing: error: {exc}", file=sys.stderr)
            return 2
        try:
            return asyncio.run(_serve(agent))
        except KeyboardInterrupt:  # interrupted before the signal handlers were installed
            return 0
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
