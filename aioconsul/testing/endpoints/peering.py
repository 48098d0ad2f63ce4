"""HTTP endpoints: filled in by issue 13."""

from __future__ import annotations

from typing import Final

from ..http.reply import Route

__all__ = ["ROUTES"]

ROUTES: Final[tuple[Route, ...]] = ()
