"""Dev and test infrastructure: a real Kafka broker and a MongoDB-compatible store, run locally."""
