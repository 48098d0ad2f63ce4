"""Cleanups that must happen although their caller is cancelled (private).

:func:`shielded` runs one cleanup step (destroy a session, release a key, deregister a service)
to its end in a task of its own, for at most :data:`CLEANUP_TIMEOUT` seconds; :func:`stop` ends
background tasks: cancelled, and waited for, for at most :data:`STOP_TIMEOUT` seconds. Either
raises the caller's cancellation once the wait is over. Used by the recipes and the toolkit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any

from .errors import RequestTimeout

__all__ = ["CLEANUP_TIMEOUT", "STOP_TIMEOUT", "shielded", "stop"]

log = logging.getLogger("aioconsul.recipes")
_toolkit_log = logging.getLogger("aioconsul.toolkit")

#: How long, in seconds, the cleanup that must follow a hold may take: destroying a session,
#: releasing a key after a release or a failed or cancelled acquisition. It runs to its end
#: although the caller is cancelled (the cancellation is raised afterwards), but no longer than
#: this: when the agent cannot be reached, the session's TTL (and the lock-delay after it) is what
#: frees the key in the end.
CLEANUP_TIMEOUT = 5.0

#: How long, in seconds, :func:`stop` waits for a cancelled task to end: a watch's read ends at
#: once; only an application callback that ignores its cancellation can hold it longer.
STOP_TIMEOUT = 5.0


async def stop(*tasks: asyncio.Task[None] | None) -> None:
    """Cancel ``tasks`` and wait until they are over, for at most :data:`STOP_TIMEOUT` seconds;
    a cancellation of the caller meanwhile does not cut the wait short, it is raised
    afterwards."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    cancelled: BaseException | None = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_TIMEOUT
    while not all(task.done() for task in running):
        left = deadline - loop.time()
        if left <= 0:
            for task in running:
                if not task.done():
                    _toolkit_log.warning("%s did not end within %gs of its cancellation",
                                task.get_name(), STOP_TIMEOUT)
            break
        try:
            await asyncio.wait(running, timeout=left)
        except asyncio.CancelledError as exc:
            cancelled = exc
    for task in running:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: the task reported its own error
    if cancelled is not None:
        raise cancelled


#: Set inside a cleanup run by shielded: a nested cleanup is then covered by the outer one.
_CLEANING: ContextVar[bool] = ContextVar("aioconsul_cleaning", default=False)


async def shielded(step: Coroutine[Any, Any, None], what: str) -> None:
    """Run the cleanup ``step`` to its end, shielded from cancellation, within CLEANUP_TIMEOUT.

    ``step`` runs in a task of its own that a cancellation of the caller does not reach: the
    caller waits for it all the same and raises the cancellation afterwards (logging what the
    step raised meanwhile). Past :data:`CLEANUP_TIMEOUT` seconds the step is cancelled and
    :class:`~aioconsul.RequestTimeout` is raised; otherwise what the step raised is. Inside
    another such cleanup, ``step`` is simply awaited: the outer one shields and bounds it.
    """
    if _CLEANING.get():
        await step
        return

    async def run() -> None:
        _CLEANING.set(True)  # in the task's own copy of the context
        await step

    loop = asyncio.get_running_loop()
    task = loop.create_task(run(), name=f"aioconsul cleanup: {what}")
    deadline = loop.time() + CLEANUP_TIMEOUT
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        left = deadline - loop.time()
        if left <= 0:
            task.cancel()
        try:
            await asyncio.wait((task,), timeout=left if left > 0 else None)
        except asyncio.CancelledError as exc:
            cancelled = exc  # the step goes on; the cancellation is raised once it is over
    error: BaseException | None
    if task.cancelled():
        error = RequestTimeout(f"{what}: not done within {CLEANUP_TIMEOUT:g}s")
    else:
        error = task.exception()
    if cancelled is not None:
        if error is not None:
            log.warning("%s failed: %s", what, error)
        raise cancelled
    if error is not None:
        raise error
