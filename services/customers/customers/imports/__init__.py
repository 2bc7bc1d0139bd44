"""CSV import of an existing customer base."""
