"""Who wrote: identity keys, inbound contacts matched to cards, the key index."""
