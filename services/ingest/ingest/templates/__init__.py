"""Message templates: a channel's approved templates read from Meta and announced."""
