"""Bearer secrets handed out once (a guest's order token, an exhibition's preview link): made
here, shown to their holder once, and kept only as a SHA-256 digest."""

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
