"""The error a ``?filter=`` expression Consul refuses raises, and the words Consul puts first.

go-bexpr v0.1.2's ``CreateFilter`` (``filter.go``) wraps every error of the parser, of the
validation and of ``regexp.Compile`` as ``Failed to create boolean expression evaluator: ...``,
and Consul answers 400 with that text; every module of this package raises
:class:`FilterError` with :data:`PREFIX` in front.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PREFIX", "FilterError"]

PREFIX: Final = "Failed to create boolean expression evaluator: "


class FilterError(ValueError):
    """A ``?filter=`` expression Consul would refuse; ``str(exc)`` is Consul's message."""
