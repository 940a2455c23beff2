"""One config loader: `PSA_*` environment variables over embedded defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """What a PSA Core process needs to know about its surroundings.

    Every field comes from an environment variable named in its comment; nothing is read at
    import time, so tests and the CLI build their own Settings.
    """

    data_dir: Path  # PSA_DATA_DIR, default ./var
    broker_url: str  # PSA_BROKER_URL, default memory:// (in-process)
    bus_prefix: str  # PSA_BUS_PREFIX: prefixes exchange and queue names (tests isolate with it)
    token_ttl_seconds: int  # PSA_TOKEN_TTL, default 900 (15 minutes)
    keys_dir: Path  # PSA_KEYS_DIR, default DATA_DIR/keys: signing keys in embedded mode
    plugins: tuple[str, ...] | None  # PSA_PLUGINS allow-list (None: all installed)
    disabled_plugins: tuple[str, ...]  # PSA_DISABLED_PLUGINS
    trusted_proxies: tuple[str, ...]  # PSA_TRUSTED_PROXIES (addresses whose X-Forwarded-For we believe)
    queue_type: str  # PSA_QUEUE_TYPE: "quorum" on RabbitMQ, ignored by memory://
    env: dict[str, str] = field(default_factory=dict, repr=False)
    # Failed password sign-ins (psa_tickets.directory.sign_in_limit), per window of
    sign_in_window_seconds: int = 900  # PSA_SIGN_IN_WINDOW seconds, from the window's first failure
    sign_in_account_limit: int = 10  # PSA_SIGN_IN_ACCOUNT_LIMIT: per tenant and email
    sign_in_tenant_limit: int = 100  # PSA_SIGN_IN_TENANT_LIMIT: across a tenant's emails
    sign_in_address_limit: int = 50  # PSA_SIGN_IN_ADDRESS_LIMIT: per client address; 0: none

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        env = dict(os.environ if environ is None else environ)
        data_dir = Path(env.get("PSA_DATA_DIR", "var")).resolve()
        plugins = env.get("PSA_PLUGINS")
        values = {
            "data_dir": data_dir,
            "broker_url": env.get("PSA_BROKER_URL", "memory://"),
            "bus_prefix": env.get("PSA_BUS_PREFIX", ""),
            "token_ttl_seconds": int(env.get("PSA_TOKEN_TTL", "900")),
            "keys_dir": Path(env.get("PSA_KEYS_DIR", data_dir / "keys")),
            "plugins": _split(plugins) if plugins is not None else None,
            "disabled_plugins": _split(env.get("PSA_DISABLED_PLUGINS", "")),
            "trusted_proxies": _split(env.get("PSA_TRUSTED_PROXIES", "")),
            "queue_type": env.get("PSA_QUEUE_TYPE", "quorum"),
            "env": env,
            **_sign_in_limits(env),
        }
        values.update(overrides)
        return cls(**values)

    def database_url(self, service: str) -> str:
        """`PSA_<SERVICE>_DATABASE_URL`, or a SQLite file of the service's own under the data dir."""
        key = f"PSA_{service.upper()}_DATABASE_URL"
        return self.env.get(key) or f"sqlite:///{self.data_dir / (service + '.db')}"

    def schema_url(self, service: str) -> str | None:
        """`PSA_<SERVICE>_SCHEMA_URL`: the role owning the service's tables, which makes and changes
        them at start; the database URL's role then only reads and writes rows. Unset, that role
        does both."""
        return self.env.get(f"PSA_{service.upper()}_SCHEMA_URL")

    def get(self, name: str, default: str | None = None) -> str | None:
        """Any other `PSA_*` setting a service or plugin defines for itself."""
        return self.env.get(name, default)

    @property
    def embedded(self) -> bool:
        return self.broker_url.startswith("memory://")


def _sign_in_limits(env: dict[str, str]) -> dict[str, int]:
    """The sign-in limit's figures; only the address ceiling may be 0 (a 0 elsewhere refuses all)."""
    found = {}
    for name, key, default, least in (
        ("sign_in_window_seconds", "PSA_SIGN_IN_WINDOW", 900, 1),
        ("sign_in_account_limit", "PSA_SIGN_IN_ACCOUNT_LIMIT", 10, 1),
        ("sign_in_tenant_limit", "PSA_SIGN_IN_TENANT_LIMIT", 100, 1),
        ("sign_in_address_limit", "PSA_SIGN_IN_ADDRESS_LIMIT", 50, 0),
    ):
        found[name] = int(env.get(key, default))
        if found[name] < least:
            raise ValueError(f"{key} must be {least} or more, not {found[name]}")
    return found
