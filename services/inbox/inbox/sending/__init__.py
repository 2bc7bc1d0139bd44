"""Sending: replies (text, media, templates), one message per click, and retries."""
