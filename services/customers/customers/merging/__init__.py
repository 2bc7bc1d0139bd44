"""Duplicate groups and merges."""
