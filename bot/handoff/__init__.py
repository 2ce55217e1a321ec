"""Who has a conversation — the assistant or customer-service staff — and the only place that writes
it, inside the locked turn. Actions ask for a person with Rasa's `pause` event; `resume` gives the
chat back."""
