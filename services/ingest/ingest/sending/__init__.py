"""Sending: our commands carried out on the Graph API once per idempotency key, paced, retried."""
