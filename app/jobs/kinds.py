"""Every job kind's module, imported so that its handler is registered wherever workers run."""

import app.media.variant_jobs  # noqa: F401 - media.variants
