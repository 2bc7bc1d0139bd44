"""Kafka subscribers of the customers service."""

from faststream.kafka import KafkaRouter

router = KafkaRouter()
