"""The customer card: its API, lookups, search, settings and stats from orders."""
