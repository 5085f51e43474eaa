"""Change events: recorded in the transaction of the change they describe (an outbox), then
turned into webhook deliveries by the workers (app.webhooks, app.jobs)."""
