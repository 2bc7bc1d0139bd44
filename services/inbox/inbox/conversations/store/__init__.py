"""The conversations' collections: conversations with their list counts and search index,
their messages, and what attaches to messages (reactions, early statuses)."""
