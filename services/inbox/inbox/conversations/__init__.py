"""Conversations: the list and its search, one conversation's timeline and read state, the
24-hour window, and what customers' messages and delivery statuses do to them."""
