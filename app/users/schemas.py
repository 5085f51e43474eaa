"""`/api/users/` list requests (the account and token bodies are `app.auth.schemas`)."""

# The list's `ordering` names (each a column of the same name).
ORDERING_FIELDS = ("id", "username", "created_at", "updated_at", "last_login")
