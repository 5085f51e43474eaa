"""What every `portfolio-api` command may raise."""


class CommandError(Exception):
    """A mistake in the command's input, reported as one line (exit status 1)."""
