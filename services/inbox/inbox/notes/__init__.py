"""Internal notes: seen by the team only, with no way to the send path."""
