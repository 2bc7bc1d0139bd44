"""A Meta simulator: the Graph API endpoints ingest calls, and signed webhooks sent to ingest."""
