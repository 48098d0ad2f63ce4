"""Decoding JSON answers: orjson when it is installed (``aioconsul[speedups]``), else the stdlib.

Big reads (``health.service`` of a hundred instances is ~130 KB) spend most of their time in the
decoder, and orjson decodes several times faster than :func:`json.loads`. The results must be the
same whichever decoder runs, so orjson is only a fast path: anything it refuses (NaN, integers
beyond 64 bits, lone surrogates, a UTF-16 body...) is decoded again by the stdlib, which then
either accepts it the way it always did or raises its own ``ValueError``. Where both accept a
document they build equal objects (the test suite checks this with generated documents).

``AIOCONSUL_JSON=stdlib`` in the environment, read at import, turns the fast path off.
Never encodes: request bodies stay ``json.dumps`` output, whatever is installed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

__all__ = ["DECODER", "loads"]

_stdlib_loads: Callable[[bytes], Any] = json.loads
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_RUN = b"0" * 19  # -9223372036854775809 is the shortest literal beyond 64 bits


def _pick() -> tuple[str, Callable[[bytes], Any]]:
    if os.environ.get("AIOCONSUL_JSON", "").lower() == "stdlib":
        return "json", _stdlib_loads
    try:
        import orjson
    except ImportError:
        return "json", _stdlib_loads
    fast = orjson.loads
    refused = orjson.JSONDecodeError

    def loads(body: bytes) -> Any:
        # orjson reads an integer beyond 64 bits as a float where the stdlib keeps it exact; any
        # such literal has 19 digits or more. One C pass maps digits to "0" and all else to " "
        # (a tenth of orjson's own time on a big read); a long run of digits anywhere, even
        # inside a string, sends the body to the stdlib. (A body shorter than the run has none:
        # a write's "true" is not scanned.)
        if len(body) >= 19 and _LONG_RUN in body.translate(_DIGITS):
            return _stdlib_loads(body)
        try:
            return fast(body)
        except refused:
            # Not always invalid: the stdlib accepts some documents orjson refuses.
            return _stdlib_loads(body)

    return "orjson", loads


#: Which decoder :func:`loads` uses: ``"orjson"`` or ``"json"``.
DECODER: str
loads: Callable[[bytes], Any]
DECODER, loads = _pick()
