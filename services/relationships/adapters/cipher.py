"""AES-256-GCM for confidential texts, with a key ring so keys can be rotated.

The ring comes from ``MENTORSHIP_RELATIONSHIPS_CONFIDENTIAL_KEYS`` as
``id:base64key[,id:base64key…]``: the first key encrypts, every key decrypts
(rotation: put the new key first, keep the old ones until re-encrypted).
A ciphertext is bound to its row (kind, relationship, record) through the
associated data, so it cannot be moved to another relationship and read there.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.relationships.application.ports import Sealed

DEV_KEY_ID = "dev"
_DEV_KEY = hashlib.sha256(b"mentorship-dev-only-confidential-key: set one in production").digest()


class KeyRingError(ValueError):
    pass


class AesGcmCipher:
    """The ``Cipher`` port (``application/ports.py``) on AES-256-GCM with a rotating key ring."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise KeyRingError(f"no key {current!r} in the ring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise KeyRingError(f"key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        self._holds_dev_key = _DEV_KEY in keys.values()
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current

    @classmethod
    def from_setting(cls, ring: str | None) -> AesGcmCipher:
        """None: the development key, which is public — never use it in production."""
        if not ring:
            return cls({DEV_KEY_ID: _DEV_KEY}, DEV_KEY_ID)
        keys: dict[str, bytes] = {}
        for entry in ring.split(","):
            key_id, _, encoded = entry.strip().partition(":")
            if not key_id or not encoded:
                raise KeyRingError("each key is written id:base64key")
            try:
                keys[key_id] = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError as exc:
                raise KeyRingError(f"key {key_id!r} is not base64") from exc
        return cls(keys, next(iter(keys)))

    @property
    def holds_development_key(self) -> bool:
        """The public development key is in the ring (under any id): nothing sealed with it is confidential."""
        return self._holds_dev_key

    @property
    def is_development_key(self) -> bool:
        return self.current == DEV_KEY_ID

    def seal(self, plaintext: str, context: str) -> Sealed:
        nonce = os.urandom(12)
        ciphertext = self._keys[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        return Sealed(self.current, nonce, ciphertext)

    def open(self, sealed: Sealed, context: str) -> str:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise KeyRingError(f"key {sealed.key_id!r} is no longer in the ring")
        try:
            return key.decrypt(sealed.nonce, sealed.ciphertext, context.encode()).decode()
        except InvalidTag as exc:
            raise KeyRingError("ciphertext does not belong here or was altered") from exc


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
