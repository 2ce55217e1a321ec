"""Understanding what trainees type: Rasa-format training data, the embedded engine built from
config.yml, the adapter for an external Rasa server, and evaluation."""
