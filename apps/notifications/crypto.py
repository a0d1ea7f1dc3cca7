"""Provider secrets at rest: Fernet with a key derived from SECRET_KEY.

Decryption also tries the keys of SECRET_KEY_FALLBACKS, so rotating SECRET_KEY the usual
Django way keeps stored secrets readable; saving a secret again re-encrypts it with the
current key.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from apps.notifications.errors import SecretUnreadableError

MASK = "••••"


@lru_cache(maxsize=8)
def _fernet_for(secret_keys: tuple[str, ...]) -> MultiFernet:
    fernets = []
    for secret_key in secret_keys:
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"tenantry.notifications",
            info=b"channel-provider-secret",
        ).derive(secret_key.encode())
        fernets.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ())
    return _fernet_for((settings.SECRET_KEY, *fallbacks))


def secret_encrypt(plain: str) -> str:
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadableError() from error


def secret_mask(plain: str) -> str:
    """``••••1234``: enough to recognise a key, never enough to use it. Short secrets
    show no characters at all."""
    if not plain:
        return ""
    if len(plain) < 12:
        return MASK
    return MASK + plain[-4:]
