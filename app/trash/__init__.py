"""The trash (`/api/trash/`): deleted objects kept whole until restored, purged or expired."""
