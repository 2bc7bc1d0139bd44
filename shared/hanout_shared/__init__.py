"""Hanout's shared package: event contracts and the infrastructure blocks of every service."""
