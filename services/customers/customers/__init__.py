"""Hanout customers: customer cards, phone matching, duplicates and merges, stats."""
