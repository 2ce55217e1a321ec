"""Pure domain rules every part shares — ID numbers, phones, positions, the helpline. Imports nothing
of the project, so the backend, the NLU and the actions can all lean on it."""
