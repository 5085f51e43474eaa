"""Webhook endpoints (`/api/webhooks/`), their deliveries, and delivering them to the Standard
Webhooks specification."""
