"""SMS: a gateway interface with an outbox backend, and phone verification codes built on it."""
