"""The backend of both government systems: the management system (registry), the continuing-education
platform (learning), photos, documents and SMS, served as one FastAPI app. Knows nothing of chat."""
