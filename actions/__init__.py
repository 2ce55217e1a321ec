"""rasa-sdk custom actions and form validators, and the typed httpx client of the backend.
Runs in-process under the embedded runtime or as a standalone action server."""
