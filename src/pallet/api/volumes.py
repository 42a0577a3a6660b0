"""Volumes (to come)."""
ROUTES: list = []
