"""The history of changes (`/api/history/`): recorded with each change event, in its transaction."""
