"""The user events the dev agent keeps (Consul's ``agent/user_event.go``, beside the store).

In Consul user events are not in the Raft store at all: ``agent.UserEvent`` validates an
event, ``Internal.EventFire`` hands it to serf, and every agent keeps the 256 most recent ones
it received (``eventBuf``) after its own filters (``shouldProcessUserEvent``). The single dev
agent is also its only receiver, so the ring lives here, with serf's Lamport clock and serf's
size limits, measured on the msgpack encoding Consul and serf would send.

Firing touches the channel :data:`EVENTS`; the list index is not a Raft index but the newest
matching event's UUID folded into 64 bits (:func:`uuid_to_uint64`). :class:`EventTable` is a
mixin of :class:`~aioconsul.testing.state.store.Store`; errors are Consul's texts
(:class:`~aioconsul.testing.state.memdb.RPCError`).

This module never does I/O, never imports asyncio or aiohttp and never reads the wall clock.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from typing import Final

from ..golang.stdlib import GoSyntaxError, utf8
from .memdb import MemDB, RPCError, generate_uuid

__all__ = [
    "EVENTS",
    "EVENT_BUFFER",
    "USER_EVENT_SIZE_LIMIT",
    "EventTable",
    "UserEvent",
    "uuid_to_uint64",
]

EVENTS: Final = "events"
EVENT_BUFFER: Final = 256  # agent.eventBuf
USER_EVENT_SIZE_LIMIT: Final = 512  # serf's default Config.UserEventSizeLimit
_USER_EVENT_PREFIX: Final = "consul:event:"
_REMOTE_EXEC_NAME: Final = "_rexec"


def uuid_to_uint64(uuid: str) -> int:
    """agent/event_endpoint.go uuidToUint64: XOR of the two 64-bit halves of a UUID."""
    lower = uuid[0:8] + uuid[9:13] + uuid[14:18]
    upper = uuid[19:23] + uuid[24:36]
    return int(lower, 16) ^ int(upper, 16)


@dataclass(frozen=True, slots=True)
class UserEvent:
    """A user event (agent.UserEvent)."""

    id: str
    name: str
    payload: bytes | None
    node_filter: str = ""
    service_filter: str = ""
    tag_filter: str = ""
    version: int = 1
    ltime: int = 0


# RE2 rejects these Perl constructs that Python's `re` accepts.
_NOT_RE2 = re.compile(r"\(\?(?:[=!]|<[=!]|>|\()|\\[1-9]")


def _check_regexp(pattern: str) -> re.Pattern[str]:
    """Compile a filter the way agent.validateUserEventParams does with Go's regexp."""
    bad = _NOT_RE2.search(pattern)
    if bad:
        raise GoSyntaxError(
            f"error parsing regexp: invalid or unsupported Perl syntax: `{bad.group(0)}`"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise GoSyntaxError(f"error parsing regexp: {exc.msg}: `{pattern}`") from None


def _msgpack_str_size(n: int) -> int:
    """Encoded size of a string/[]byte with go-msgpack's old-spec raw types."""
    if n < 32:
        return 1 + n
    if n < 1 << 16:
        return 3 + n
    return 5 + n


def _msgpack_uint_size(v: int) -> int:
    if v <= 0x7F:
        return 1
    if v <= 0xFF:
        return 2
    if v <= 0xFFFF:
        return 3
    if v <= 0xFFFFFFFF:
        return 5
    return 9


def _encoded_user_event_size(event: UserEvent) -> int:
    """len(encodeMsgPack(UserEvent)) as agent.UserEvent hands it to Internal.EventFire."""
    fields: list[tuple[str, bytes]] = [("ID", event.id.encode()), ("n", utf8(event.name))]
    if event.payload:
        fields.append(("p", event.payload))
    for tag, text in (
        ("nf", event.node_filter),
        ("sf", event.service_filter),
        ("tf", event.tag_filter),
    ):
        if text:  # `codec:",omitempty"`
            fields.append((tag, utf8(text)))
    size = 1 if len(fields) + 1 < 16 else 3  # fixmap / map16 header, "v" included
    size += sum(_msgpack_str_size(len(tag)) + _msgpack_str_size(len(data)) for tag, data in fields)
    return size + _msgpack_str_size(1) + _msgpack_uint_size(event.version)


def _serf_message_size(name: bytes, payload_size: int, ltime: int) -> int:
    """len(encodeMessage(messageUserEventType, messageUserEvent{LTime, Name, Payload, CC}))."""
    return (
        1  # message type byte
        + 1  # fixmap header, 4 fields
        + _msgpack_str_size(len("LTime"))
        + _msgpack_uint_size(ltime)
        + _msgpack_str_size(len("Name"))
        + _msgpack_str_size(len(name))
        + _msgpack_str_size(len("Payload"))
        + _msgpack_str_size(payload_size)
        + _msgpack_str_size(len("CC"))
        + 1  # bool
    )


class EventTable(MemDB):
    """The agent's ring of recent user events and serf's event clock (a Store mixin)."""

    node_name: str

    def _init_events(self) -> None:
        self._events: deque[UserEvent] = deque(maxlen=EVENT_BUFFER)
        # serf starts its event clock at 1 and the new leader fires "consul:new-leader" once.
        self._event_clock = 2

    def validate_event(self, event: UserEvent) -> None:
        """agent.validateUserEventParams."""
        if not event.name:
            raise RPCError("User event missing name")
        if event.tag_filter and not event.service_filter:
            raise RPCError("Cannot provide tag filter without service filter")
        for label, pattern in (
            ("node", event.node_filter),
            ("service", event.service_filter),
            ("tag", event.tag_filter),
        ):
            if pattern:
                try:
                    _check_regexp(pattern)
                except GoSyntaxError as exc:
                    raise RPCError(f"Invalid {label} filter: {exc}") from None

    def fire_event(
        self,
        name: str,
        payload: bytes | None,
        *,
        node_filter: str = "",
        service_filter: str = "",
        tag_filter: str = "",
    ) -> UserEvent:
        """agent.UserEvent + Internal.EventFire + serf.UserEvent + agent.handleEvents.

        Returns the event as the fire endpoint echoes it (LTime 0). The copy the agent keeps
        carries serf's Lamport time and is kept only if it passes this agent's filters.
        """
        event = UserEvent(
            id=generate_uuid(),
            name=name,
            payload=payload or None,
            node_filter=node_filter,
            service_filter=service_filter,
            tag_filter=tag_filter,
        )
        self.validate_event(event)
        # serf.UserEvent size checks; the serf event is "consul:event:<name>" and its payload
        # is the msgpack-encoded UserEvent.
        serf_name = utf8(_USER_EVENT_PREFIX + name)
        encoded = _encoded_user_event_size(event)
        if len(serf_name) + encoded > USER_EVENT_SIZE_LIMIT:
            raise RPCError(
                f"user event exceeds configured limit of {USER_EVENT_SIZE_LIMIT} bytes "
                "before encoding"
            )
        if _serf_message_size(serf_name, encoded, self._event_clock) > USER_EVENT_SIZE_LIMIT:
            raise RPCError(
                f"encoded user event exceeds configured limit of {USER_EVENT_SIZE_LIMIT} bytes "
                "after encoding"
            )
        received = replace(event, ltime=self._event_clock)
        self._event_clock += 1
        if self._should_process(received) and name != _REMOTE_EXEC_NAME:
            self._events.append(received)
            self._changed.add(EVENTS)
            self._flush()
        return event

    def _should_process(self, event: UserEvent) -> bool:
        """agent.shouldProcessUserEvent: the dev agent has no local services."""
        if event.node_filter and not re.search(event.node_filter, self.node_name):
            return False
        return not event.service_filter

    def events_list(self, name: str) -> tuple[int, list[UserEvent]]:
        """EventList: oldest first; the index folds the newest matching event's UUID."""
        events = [e for e in self._events if not name or e.name == name]
        return (uuid_to_uint64(events[-1].id) if events else 1), events
