"""Machinery every resource reuses: routing, messages, pagination, ordering, search, filters."""
