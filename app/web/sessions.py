"""The signed session cookie of the web pages, its CSRF tokens, and the pre-sign-in cookie.

A session names how the person signed in (`method`) and who they are to that method
(`subject`): today `api_key` and the key's id, which is looked up on every request so a
revoked key ends its sessions at once. An OIDC sign-in would add the method `oidc` with the
identity provider's subject, and a resolver for it in app.web.signin.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.settings import Settings

log = logging.getLogger("stellwerk.web")

SESSION_COOKIE = "stellwerk_session"
# Before sign-in the login form still needs a CSRF token: it is bound to this random id.
PRE_COOKIE = "stellwerk_pre"
SECRET_FILE = "session-secret"  # noqa: S105 (a file name, not a secret)


@dataclass(frozen=True)
class WebSession:
    method: str
    subject: str
    sid: str
    issued: int


def session_secret(settings: Settings) -> bytes:
    """The configured key, else one kept in the data folder (made once, readable by us only)."""
    if settings.session_secret is not None:
        value = settings.session_secret.get_secret_value()
        if len(value) < 32:
            raise ValueError("STELLWERK_SESSION_SECRET must be at least 32 characters.")
        return value.encode("utf-8")
    path: Path = settings.data_dir / SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        if not path.read_text(encoding="utf-8").strip():
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            log.info("made a session key in %s", path)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


class SessionCodec:
    """Signs and checks session cookies (with their age) and derives CSRF tokens."""

    def __init__(self, secret: bytes, *, max_age_seconds: int) -> None:
        self.max_age_seconds = max_age_seconds
        self._secret = secret
        self._sessions = URLSafeTimedSerializer(secret, salt="stellwerk.session")
        self._pre = URLSafeTimedSerializer(secret, salt="stellwerk.pre")

    def new_session(self, method: str, subject: str) -> tuple[WebSession, str]:
        """A fresh session (a new id: no fixation through a planted cookie) and its cookie."""
        session = WebSession(method, subject, secrets.token_urlsafe(24), int(time.time()))
        token = self._sessions.dumps([session.method, session.subject, session.sid])
        return session, token

    def read_session(self, token: str | None) -> WebSession | None:
        if not token:
            return None
        try:
            value, signed_at = self._sessions.loads(
                token, max_age=self.max_age_seconds, return_timestamp=True
            )
        except BadSignature:  # also SignatureExpired, its subclass
            return None
        if not (
            isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)
        ):
            return None
        return WebSession(value[0], value[1], value[2], int(signed_at.timestamp()))

    def new_pre(self) -> tuple[str, str]:
        sid = secrets.token_urlsafe(24)
        return sid, self._pre.dumps(sid)

    def read_pre(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            value = self._pre.loads(token, max_age=24 * 3600)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def csrf_token(self, sid: str) -> str:
        return hmac.new(self._secret, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, sid: str | None, token: str | None) -> bool:
        if not sid or not token:
            return False
        return hmac.compare_digest(self.csrf_token(sid), token)
