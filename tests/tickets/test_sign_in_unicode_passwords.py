"""A technician sets "Pässwörd-ñ-123" on a Windows PC and signs in from a Mac, whose keyboard sends
the accented letters decomposed (NFD): the same characters get in. Until 2026-11-28 the password was
hashed as typed, so the Mac's sign-in was a 401 counted toward her lockout."""

import unicodedata

from argon2 import PasswordHasher

from psa_shared.tenancy import tenant_scope
from psa_tickets.directory.models import Member

from .test_sign_in_limit import sign_in

NFC = unicodedata.normalize("NFC", "Pässwörd-ñ-123")
NFD = unicodedata.normalize("NFD", NFC)


def test_a_password_set_composed_signs_in_decomposed_and_back(tenant, psa):
    tenant.member("technician", email="uni@msp.example", password=NFC)
    tenant.member("technician", email="mac@msp.example", password=NFD)

    for email in ("uni@msp.example", "mac@msp.example"):
        for typed in (NFC, NFD):
            assert sign_in(psa, tenant, email, typed).status_code == 200, (email, typed)
    assert sign_in(psa, tenant, "uni@msp.example", "Passwörd-ñ-123").status_code == 401  # a letter is a letter


def test_full_width_letters_from_an_ime_are_the_ascii_password(tenant, psa):
    # NFKC: a Japanese IME left in full-width mode types these look-alikes of "Secret-123"
    tenant.member("technician", email="ime@msp.example", password="Secret-123")

    assert sign_in(psa, tenant, "ime@msp.example", "Ｓｅｃｒｅｔ－１２３").status_code == 200


def test_a_password_hashed_before_normalising_still_signs_in_as_typed_then(tenant, psa):
    member = tenant.member("technician", email="old@msp.example")
    with psa.service("tickets").db.proxy.connection_context(), tenant_scope(tenant.id):
        # what the old code stored for a password typed decomposed: its argon2 hash as typed
        Member.update(password_hash=PasswordHasher().hash(NFD)).where(Member.id == member.id).execute()

    assert sign_in(psa, tenant, "old@msp.example", NFD).status_code == 200
    assert sign_in(psa, tenant, "old@msp.example", "correct horse battery").status_code == 401
