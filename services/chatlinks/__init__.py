"""The backend's side of chats, for the trusted chat front-end only (every call carries the
assistant's service key): bind a chat to a person, act as the person a chat is bound to, and keep a
checked photo waiting for its final submit."""
