"""Meta's webhook JSON as our events: pure functions, no I/O."""
