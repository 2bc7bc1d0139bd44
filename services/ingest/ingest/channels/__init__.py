"""Business numbers: the registry and its API, access tokens sealed at rest, the directory."""
