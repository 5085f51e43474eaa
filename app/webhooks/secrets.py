"""Signing secrets as the Standard Webhooks specification writes them: `whsec_` and the
standard base64 of random bytes (receivers sign with the decoded bytes)."""

import base64
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")
