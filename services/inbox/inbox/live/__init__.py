"""Live updates: the event stream to clients, its resumption across replicas, and presence."""
