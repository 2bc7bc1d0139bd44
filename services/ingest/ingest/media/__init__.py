"""Media for agents: upload to Meta, and a download proxy that keeps the token."""
