"""Hanout inbox: conversations, messages, the 24-hour window and sending."""
