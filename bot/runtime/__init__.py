"""The embedded dialogue runtime: domain and rules in Rasa's formats, a tracker of Rasa events kept in
storage, forms, fallback, and rasa-sdk actions run in-process. Not a general Rasa clone."""
