"""Business numbers: the number selector, per-number settings and the synced templates."""
