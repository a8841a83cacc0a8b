"""Hashing of staff secrets (kiosk PINs, central passwords) with scrypt from the standard library."""

import functools
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_secret(text: str) -> str:
    """A new salted scrypt hash of `text`: ``scrypt$SALT_HEX$DIGEST_HEX``."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(text.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(text: str, stored: str | None) -> bool:
    """Whether `text` hashes to `stored` (a ``hash_secret`` result).

    With `stored` None (an unknown user) a dummy hash is checked instead, so
    the answer (False) costs the same time as a wrong password.
    """
    _scheme, salt, digest = (stored or _dummy_hash()).split("$")
    candidate = hashlib.scrypt(text.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P)
    return hmac.compare_digest(candidate.hex(), digest) and stored is not None


@functools.cache
def _dummy_hash() -> str:
    return hash_secret(secrets.token_hex(16))
