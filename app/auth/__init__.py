"""Authentication (API tokens, passwords) and access control (permission codes)."""
