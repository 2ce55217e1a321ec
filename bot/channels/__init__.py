"""Channels: platform messages in, the assistant's answers out. They know nothing of the backend."""
