"""/containers/{id}/exec and /exec/{id}/...: exec instances (after the core's exec lands)."""
from __future__ import annotations

ROUTES: list = []
