"""Hanout orders: orders, order numbers, the pipeline of stages, history and audit."""
