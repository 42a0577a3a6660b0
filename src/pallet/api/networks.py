"""Networks (to come)."""
ROUTES: list = []
