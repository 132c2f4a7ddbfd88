"""HMAC signatures compared in constant time, as the tools compute them."""

from __future__ import annotations

import hashlib
import hmac

from connectors.errors import SignatureInvalid


def hex_hmac(secret: str, message: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(secret.encode("utf-8"), message, getattr(hashlib, algorithm)).hexdigest()


def require_secret(secret: str | None) -> str:
    """Webhooks are only taken with a secret: a connector without one accepts nothing."""
    if not secret:
        raise SignatureInvalid("This connector has no secret; its webhooks are refused.")
    return secret


def check_prefixed(header: str | None, secret: str | None, body: bytes, algorithm: str) -> None:
    """`<algorithm>=<hex HMAC of the body>` (Zammad's sha1, Jira's sha256)."""
    key = require_secret(secret)
    if not header:
        raise SignatureInvalid("The webhook carries no signature.")
    expected = f"{algorithm}={hex_hmac(key, body, algorithm)}"
    if not hmac.compare_digest(expected.encode(), header.strip().lower().encode()):
        raise SignatureInvalid("The webhook signature does not match.")


def check_equal(presented: str | None, expected: str, what: str) -> None:
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise SignatureInvalid(f"The webhook {what} does not match.")
