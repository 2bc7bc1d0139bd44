"""Kafka subscribers of the ingest service."""

from faststream.kafka import KafkaRouter

router = KafkaRouter()
