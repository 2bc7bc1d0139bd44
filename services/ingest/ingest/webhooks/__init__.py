"""Meta's webhook: the handshake, signed notifications made durable, their translation, replay."""
