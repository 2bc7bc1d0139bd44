"""Kafka subscribers of the orders service."""

from faststream.kafka import KafkaRouter

router = KafkaRouter()
