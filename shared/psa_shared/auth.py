"""Identity: Ed25519-signed access tokens, roles and named permissions, checked in one place."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import peewee
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .config import Settings
from .errors import Forbidden, NotFound, Unauthorized
from .ids import is_uuid
from .statements import Slot

ISSUER = "psa-core"

READ = {"member:read", "client:read", "ticket:read", "vault:read", "report:read", "invoice:read"}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        READ
        | {"member:write", "client:write", "ticket:write", "time:write", "settings:write"}
        | {"vault:write", "vault:reveal", "vault:export", "audit:read", "invoice:post", "apikey:write"}
    ),
    "dispatcher": frozenset(READ | {"client:write", "ticket:write", "time:write", "vault:reveal", "apikey:write"}),
    "technician": frozenset(READ | {"ticket:write", "time:write", "vault:write", "vault:reveal", "apikey:write"}),
    "billing": frozenset(READ | {"client:write", "invoice:post", "apikey:write"}),
    "read-only": frozenset(READ),
}
ROLES = tuple(ROLE_PERMISSIONS)
# Clocks of the processes that mint tokens and stamp revocations may disagree by this much (and an
# API-key exchange that passed its check may mint a moment after the revocation is stamped).
CLOCK_SKEW = dt.timedelta(minutes=5)


def revocation_horizon(settings: Settings) -> dt.timedelta:
    """How long after its revocation an API key's id must still be refused: a token traded for the
    key lives `PSA_TOKEN_TTL` at most, plus CLOCK_SKEW. Past that the id refuses nothing alive."""
    return dt.timedelta(seconds=settings.token_ttl_seconds) + CLOCK_SKEW


@dataclass(frozen=True)
class MemberView:
    """What a service knows of a member: from the directory itself, or its event-fed projection."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    role: str
    active: bool
    stamp: str
    all_clients: bool
    client_ids: frozenset[uuid.UUID] = frozenset()
    revoked_keys: frozenset[uuid.UUID] = frozenset()  # what the default `refuses_key` answers from

    def refuses_key(self, key_id: uuid.UUID) -> bool:
        """Whether tokens traded for the member's API key `key_id` (their `akid` claim) are refused.

        A service that loads the member's revoked key ids with the member, as the vault does from
        its projection, fills `revoked_keys` and keeps this. One that can ask its own store about
        one key, as the tickets service asks its directory, overrides it instead.

        Args:
            key_id: the API key the token was traded for.

        Returns:
            True if the key is revoked (or unknown to a store that knows every key): the token is
            refused with 401.
        """
        return key_id in self.revoked_keys


def _granted(granted: list, client_columns) -> peewee.Expression:
    condition = client_columns[0].in_(granted)
    for column in client_columns[1:]:
        condition |= column.in_(granted)
    return condition


def within_grant_slots(query, grants_shape: int | None, *client_columns):
    """`Principal.within_grants` for a Statement: the granted ids are Slots, filled at each run
    from `principal.grant_values()`."""
    if grants_shape is None:
        return query
    return query.where(_granted([Slot(f"grant{n}") for n in range(grants_shape)], client_columns))


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    member: MemberView
    scopes: frozenset[str] | None = None  # an API key's scopes narrow the role's permissions
    permissions: frozenset[str] = field(init=False)

    def __post_init__(self):
        granted = ROLE_PERMISSIONS.get(self.member.role, frozenset())
        object.__setattr__(self, "permissions", granted & self.scopes if self.scopes is not None else granted)

    @property
    def member_id(self) -> uuid.UUID:
        return self.member.id

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.member.tenant_id

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this action needs the '{permission}' permission")

    def sees_client(self, client_id) -> bool:
        return self.member.all_clients or uuid.UUID(str(client_id)) in self.member.client_ids

    def within_grants(self, query, *client_columns):
        """Narrow a query to rows whose client (any of the columns) the member is granted."""
        return query if self.member.all_clients else query.where(_granted(list(self.member.client_ids), client_columns))

    @property
    def grants_shape(self) -> int | None:
        """For `within_grant_slots`: how many clients the member is granted (None: all of them)."""
        return None if self.member.all_clients else len(self.member.client_ids)

    def grant_values(self) -> dict:
        """The values of the Slots `within_grant_slots` adds."""
        return {f"grant{n}": client_id for n, client_id in enumerate(sorted(self.member.client_ids))}

    def require_client(self, client_id, what: str = "client") -> None:
        """A client outside the member's grants does not exist for them: 404, not 403."""
        if not self.sees_client(client_id):
            raise NotFound(f"{what} not found")


def _kid(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class KeyRing:
    """Signing key (only where tokens are minted) and every public key tokens may be verified with."""

    MAX_VERIFIED = 10_000

    def __init__(
        self, private: Ed25519PrivateKey | None, publics: list[Ed25519PublicKey], public_files: list[Path] = ()
    ):
        # A token's signature checks out the same way every time: each request re-checks only
        # its expiry (and the member, in principal_from_claims).
        self.verified: dict[str, dict] = {}
        self.private = private
        self.publics = {_kid(p): p for p in publics}
        if private is not None:
            self.publics.setdefault(_kid(private.public_key()), private.public_key())
        self.public_files = tuple(public_files)
        self._read_versions: list[int | None] = [None] * len(self.public_files)
        self.read_public_files(at_start=True)

    @classmethod
    def load(cls, settings: Settings, *, issuer: bool) -> KeyRing:
        """From `PSA_JWT_PRIVATE_KEY_FILE` / `PSA_JWT_PUBLIC_KEY_FILES`, else the embedded keys dir.

        In embedded mode the issuer generates the key pair on first start.
        """
        private_file = Path(settings.get("PSA_JWT_PRIVATE_KEY_FILE") or settings.keys_dir / "jwt-signing.pem")
        public_files = [Path(p) for p in (settings.get("PSA_JWT_PUBLIC_KEY_FILES") or "").split(",") if p]
        public_files = public_files or [settings.keys_dir / "jwt-signing.pub.pem"]
        if issuer and not private_file.exists():
            _generate(private_file, settings.keys_dir / "jwt-signing.pub.pem")
        private = None
        if issuer:
            private = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
        return cls(private, [], public_files)

    def read_public_files(self, *, at_start: bool = False) -> None:
        """Add the keys of the public key files written or changed since they were last read.

        A token naming a key not known yet has them read again: a verifier may start before the
        issuer first writes its key (on a fresh install `psa_shared.wsgi.create_app()` builds the
        vault first, and until 2026-11-27 it refused every token until restarted), or be given a
        new key file. A key whose file is removed stays known until the process restarts."""
        for n, path in enumerate(self.public_files):
            try:
                version = path.stat().st_mtime_ns
                if version != self._read_versions[n]:
                    public = serialization.load_pem_public_key(path.read_bytes())
                    self.publics = {_kid(public): public} | self.publics  # swapped whole: jwks() may be iterating
                    self._read_versions[n] = version
            except FileNotFoundError:
                pass  # not written yet
            except (OSError, ValueError):
                if at_start:
                    raise  # unreadable, or not a key: the operator's to fix before anything is served
                # caught half-written: read again at the next token naming an unknown key

    def mint(
        self, member: MemberView, ttl_seconds: int, scopes: list[str] | None = None, key_id: uuid.UUID | None = None
    ) -> str:
        """A token for the member; one traded for an API key names it (`akid`), so revoking the key
        kills the token."""
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": ISSUER,
            "sub": str(member.id),
            "tid": str(member.tenant_id),
            "role": member.role,
            "stamp": member.stamp,
            "iat": now,
            "exp": now + dt.timedelta(seconds=ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        if scopes is not None:
            claims["scp"] = sorted(scopes)
        if key_id is not None:
            claims["akid"] = str(key_id)
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": _kid(self.private.public_key())})

    def verify(self, token: str) -> dict:
        claims = self.verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self.verified) >= self.MAX_VERIFIED:
                self.verified.clear()
            self.verified[token] = claims
        if claims["exp"] <= time.time():
            raise Unauthorized("invalid token: Signature has expired")
        return claims

    def _decode(self, token: str) -> dict:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            if kid not in self.publics:
                self.read_public_files()
            key = self.publics.get(kid)
            if key is None:
                raise Unauthorized("token signed with an unknown key")
            claims = jwt.decode(
                token, key, algorithms=["EdDSA"], issuer=ISSUER, options={"require": ["exp", "sub", "tid", "stamp"]}
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid token: {error}") from None
        if (malformed := _malformed(claims)) is not None:
            raise Unauthorized(f"invalid token: {malformed}")
        return claims

    def jwks(self) -> dict:
        keys = []
        for kid, public in self.publics.items():
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "EdDSA"})
        return {"keys": keys}


def _malformed(claims: dict) -> str | None:
    """What in a signed token's claims the tenant scope and `principal_from_claims` cannot read,
    or None. Only the signing key makes such a token, yet until 2026-11-27 a `tid` or `sub` that
    is no UUID, or an `scp` that is no list of strings, answered 500 (a string `scp` was read as
    its characters: a 403 on everything)."""
    for name in ("tid", "sub", "akid"):
        if name in claims and not is_uuid(claims[name]):
            return f"the '{name}' claim is not a UUID"
    scopes = claims.get("scp", [])
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        return "the 'scp' claim is not a list of permissions"
    return None


def _generate(private_file: Path, public_file: Path) -> None:
    private_file.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_file.touch(mode=0o600)
    private_file.write_bytes(pem)
    public_file.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def principal_from_claims(claims: dict, lookup) -> Principal:
    """Check a verified token's claims (`KeyRing.verify`) against the member as this service knows
    them now.

    `lookup(tenant_id, member_id)` returns a MemberView or None; an unknown member, a deactivated
    one, a changed security stamp, or a token traded for an API key since revoked
    (`MemberView.refuses_key`) all fail closed with 401.
    """
    member = lookup(uuid.UUID(claims["tid"]), uuid.UUID(claims["sub"]))
    if member is None or not member.active or member.stamp != claims["stamp"]:
        raise Unauthorized("token no longer valid for this member")
    if "akid" in claims and member.refuses_key(uuid.UUID(claims["akid"])):
        raise Unauthorized("token of a revoked API key")
    scopes = frozenset(claims["scp"]) if "scp" in claims else None
    return Principal(member, scopes)
