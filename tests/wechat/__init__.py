"""The WeChat Official Account channel against a fake WeChat API on 127.0.0.1."""
