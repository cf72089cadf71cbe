"""AES-256-GCM key ring for notes and comments."""

from __future__ import annotations

import pytest

from services.relationships.adapters.cipher import AesGcmCipher, KeyRingError, new_key

pytestmark = pytest.mark.unit


def test_seals_and_opens_only_in_its_own_context() -> None:
    cipher = AesGcmCipher.from_setting(f"k1:{new_key()}")
    sealed = cipher.seal("we talked about the tenure dossier", "meeting_note/r1/m1")
    assert b"tenure" not in sealed.ciphertext and sealed.key_id == "k1"
    assert cipher.open(sealed, "meeting_note/r1/m1") == "we talked about the tenure dossier"
    with pytest.raises(KeyRingError, match="does not belong here"):
        cipher.open(sealed, "meeting_note/r2/m1")


def test_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old, new = new_key(), new_key()
    before = AesGcmCipher.from_setting(f"k1:{old}").seal("note", "c")
    rotated = AesGcmCipher.from_setting(f"k2:{new},k1:{old}")
    assert rotated.open(before, "c") == "note" and rotated.seal("x", "c").key_id == "k2"
    with pytest.raises(KeyRingError, match="no longer in the ring"):
        AesGcmCipher.from_setting(f"k2:{new}").open(before, "c")


def test_bad_rings_are_refused_and_no_setting_means_the_development_key() -> None:
    with pytest.raises(KeyRingError, match="32 bytes"):
        AesGcmCipher.from_setting("k1:c2hvcnQ=")
    with pytest.raises(KeyRingError, match="id:base64key"):
        AesGcmCipher.from_setting("justakey")
    assert AesGcmCipher.from_setting(None).is_development_key
