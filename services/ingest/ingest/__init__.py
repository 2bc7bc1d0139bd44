"""Hanout ingest: the WhatsApp boundary: Meta webhooks in, Graph API calls out."""
