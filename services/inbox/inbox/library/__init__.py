"""The content library: files kept once per workspace, searched, and sent in one call."""
