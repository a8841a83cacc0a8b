"""Hashing of staff secrets (kiosk PINs, central passwords) with scrypt from the standard library."""

import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1


def hash_secret(text: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(text.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(text: str, stored: str) -> bool:
    _scheme, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(text.encode(), salt=bytes.fromhex(salt), n=_N, r=_R, p=_P)
    return hmac.compare_digest(candidate.hex(), digest)
