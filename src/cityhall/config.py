"""The one place where configuration lives.

Every field is read from an environment variable prefixed ``CITYHALL_`` and is described,
because ``docs/configuration.md`` is generated from these descriptions
(``cityhall config docs``).
"""

from __future__ import annotations

import os
import secrets
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYHALL_", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="Deployment kind. `production` refuses to start with development secrets.",
    )
    data_dir: Path = Field(
        PROJECT_ROOT / "var",
        description="Folder for local state: the embedded PostgreSQL cluster, blobs, secrets.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "PostgreSQL URL (`postgresql://user@host:port/db`). When unset, an embedded "
            "PostgreSQL is started in `<data_dir>/pgdata` and the database `cityhall` is used."
        ),
    )
    embedded_database_name: str = Field(
        "cityhall", description="Database name used inside the embedded PostgreSQL."
    )
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "Key for signing cookies, CSRF tokens and the audit chain. When unset, a random key "
            "is generated once into `<data_dir>/secret_key` (never committed)."
        ),
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, description="Port the web server listens on.")
    web_workers: int = Field(
        1,
        ge=1,
        le=64,
        description=(
            "Web server processes (`cityhall serve`). One process uses one core (the GIL): "
            "set it to the number of cores the web tier may use."
        ),
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description=(
            "Public base URL, used in links, e-mails and the e-ID redirect. When unset, "
            "`http://<host>:<port>` of this server."
        ),
    )
    log_level: str = Field("INFO", description="Logging level (DEBUG, INFO, WARNING, ERROR).")
    log_json: bool = Field(True, description="Write logs as one JSON object per line.")
    default_locale: Literal["vi", "en"] = Field(
        "vi", description="Language used when a request does not ask for one."
    )
    timezone: str = Field(
        "Asia/Ho_Chi_Minh", description="Time zone in which times are shown and days counted."
    )

    # Working-day calendar
    office_morning_start: time = Field(time(7, 30), description="Office hours: morning opens.")
    office_morning_end: time = Field(time(11, 30), description="Office hours: morning closes.")
    office_afternoon_start: time = Field(time(13, 0), description="Office hours: afternoon opens.")
    office_afternoon_end: time = Field(time(17, 0), description="Office hours: afternoon closes.")

    # Identity
    session_ttl_hours: int = Field(12, description="Lifetime of an official's browser session.")
    token_ttl_hours: int = Field(24, description="Lifetime of an API bearer token.")
    login_max_failures: int = Field(
        5, description="Failed logins allowed per username (and 4x that per address) per window."
    )
    login_window_minutes: int = Field(15, description="Window for counting failed logins.")
    cookie_secure: bool = Field(
        False, description="Mark cookies Secure (set true behind HTTPS in production)."
    )

    # Citizen login with the national e-ID (OpenID Connect, docs/domains/identity-eid.md)
    eid_issuer: str = Field(
        "http://127.0.0.1:8001",
        description=(
            "Issuer URL of the e-ID OpenID Connect provider (VNeID in production); its "
            "`/.well-known/openid-configuration` is read from there. The default is the "
            "development provider of `cityhall eid serve`."
        ),
    )
    eid_client_id: str = Field(
        "cityhall-portal", description="Client id of the portal, registered with the provider."
    )
    eid_client_secret: SecretStr | None = Field(
        None,
        description=(
            "Client secret of the portal at the provider. When unset outside production, a "
            "random one is generated once into `<data_dir>/eid-client-secret` (the development "
            "provider reads the same file); production refuses to start the login without it."
        ),
    )
    eid_scopes: str = Field(
        "openid profile address pin",
        description=(
            "Scopes asked of the provider, space-separated (`openid` is required; the "
            "development provider gives the name and birth date with `profile`, the address "
            "with `address` and the personal identification number with `pin`)."
        ),
    )
    eid_pin_claim: str = Field(
        "pin",
        description=(
            "Claim that carries the 12-digit personal identification number (`pin`, or `sub` "
            "for a provider whose subject is the number itself)."
        ),
    )
    eid_timeout_seconds: float = Field(
        5.0, gt=0, description="Timeout of each call from the portal to the e-ID provider."
    )
    eid_dev_port: int = Field(
        8001, description="Port of the development e-ID provider (`cityhall eid serve`)."
    )

    # Exchange (the data-sharing platform)
    exchange_gateway_url: str | None = Field(
        None,
        description=(
            "Gateway the platform's own systems call (`.../exchange/v1`). Unset: they call "
            "the gateway inside this process (same checks, signatures and log)."
        ),
    )
    exchange_freshness_seconds: int = Field(
        120,
        ge=5,
        le=3600,
        description="How far a signed request's timestamp may be from the gateway's clock.",
    )
    exchange_timeout_seconds: float = Field(
        10.0, gt=0, description="Timeout of the gateway's call to a provider."
    )
    exchange_population_url: str = Field(
        "http://127.0.0.1:8011",
        description=(
            "Base URL of the national population database's service (the stand-in "
            "`cityhall registry serve population` by default)."
        ),
    )
    exchange_business_url: str = Field(
        "http://127.0.0.1:8012",
        description="Base URL of the national business registration database's service.",
    )
    exchange_land_url: str = Field(
        "http://127.0.0.1:8013", description="Base URL of the land database's service."
    )

    # Audit
    audit_shards: int = Field(
        16,
        description=(
            "Number of independent hash chains in the audit log. Writers lock only one chain, "
            "so up to this many transactions append audit events concurrently."
        ),
    )

    # Blobs
    blob_backend: Literal["local", "s3"] = Field("local", description="Where files are stored.")
    blob_max_bytes: int = Field(
        20 * 1024 * 1024, description="Largest file accepted on upload, in bytes."
    )
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint URL.")
    s3_bucket: str = Field("cityhall", description="S3 bucket for blobs.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")

    # Notifications
    smtp_host: str = Field("127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(1025, description="SMTP server port.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        "none", description="SMTP transport security: none, STARTTLS, or implicit TLS."
    )
    smtp_user: str | None = Field(None, description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    mail_from: str = Field(
        "cityhall <no-reply@cityhall.localhost>", description="Sender address of e-mails."
    )
    sms_backend: Literal["standin"] = Field(
        "standin", description="SMS channel. `standin` records messages instead of sending."
    )
    push_backend: Literal["standin"] = Field(
        "standin", description="Push channel. `standin` records messages instead of sending."
    )

    # registries: the stand-ins for the national databases (docs/domains/registries.md)
    registry_seed: int = Field(
        20250701,
        description=(
            "Seed of the synthetic data of the registry stand-ins (`cityhall registry serve`): "
            "the same seed and number of people give the same data, byte for byte."
        ),
    )
    registry_people: int = Field(
        50000,
        ge=100,
        le=2_000_000,
        description="Number of synthetic people in the population registry stand-in.",
    )
    registry_population_port: int = Field(
        8011, description="Port of the population registry stand-in."
    )
    registry_business_port: int = Field(
        8012, description="Port of the business registration stand-in."
    )
    registry_land_port: int = Field(8013, description="Port of the land registry stand-in.")
    registry_token: SecretStr | None = Field(
        None,
        description=(
            "Bearer token the registry stand-ins require of every call (except `/healthz` and "
            "`/openapi.json`). Unset: no token is asked (development)."
        ),
    )

    # Worker
    worker_concurrency: int = Field(4, description="Jobs a worker runs at once.")
    worker_stalled_seconds: int = Field(
        30,
        description="A job whose worker sent no heartbeat for this long is retried.",
    )

    # Feedback (1022): reports, routing, Open311 (docs/domains/feedback.md)
    feedback_answer_days: int = Field(
        5,
        ge=1,
        le=60,
        description=(
            "Working days a unit has to answer a feedback report, for categories that set no "
            "limit of their own."
        ),
    )
    feedback_forward_minutes: int = Field(
        5,
        ge=1,
        le=1440,
        description="Minutes within which a report must reach the responsible unit (measured).",
    )
    feedback_reopen_days: int = Field(
        7,
        ge=0,
        le=365,
        description="Calendar days after the answer during which the reporter may reopen.",
    )
    feedback_duplicate_radius_m: int = Field(
        200,
        ge=10,
        le=5000,
        description="Radius (metres) of the nearby-duplicates search, for categories without one.",
    )
    feedback_ward_max_km: float = Field(
        6.0,
        ge=0.5,
        le=50,
        description=(
            "A point is placed in the ward whose centroid is nearest, if it is at most this far "
            "(km); farther points go to the dispatch queue."
        ),
    )
    feedback_idempotency_minutes: int = Field(
        10,
        ge=1,
        le=1440,
        description="A retried submission (same client, same content) within this window "
        "returns the first report instead of creating another.",
    )
    open311_changeset: str = Field(
        "2026-12-01T00:00:00+07:00",
        description="Open311 discovery `changeset`: when the API last changed.",
    )
    open311_contact: str = Field(
        "Đường dây nóng 1022, Trung tâm Điều hành đô thị thông minh TP.HCM, 1022@tphcm.gov.vn",
        description="Open311 discovery `contact`.",
    )

    # Engagement: the public map of feedback, ratings and rankings (docs/domains/engagement.md)
    map_tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description=(
            "Tile URL template of the public maps (Leaflet `{z}/{x}/{y}`). Empty: no tiles "
            "(markers on a blank background, with a notice)."
        ),
    )
    map_tile_attribution: str = Field(
        "© OpenStreetMap contributors",
        description="Attribution shown on the maps for the tiles of `map_tile_url`.",
    )
    rating_change_days: int = Field(
        7,
        ge=0,
        le=365,
        description=(
            "Days after a rating is first given during which its author may change it "
            "(0: ratings are final once given)."
        ),
    )
    ranking_min_ratings: int = Field(
        5,
        ge=1,
        le=1000,
        description=(
            "Fewest ratings in the period for a ward or agency to be ranked; with fewer it is "
            "shown but not ranked."
        ),
    )

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        # `CITYHALL_PORT=8031 make run` must give links (and the e-ID redirect) on 8031.
        if "base_url" not in self.model_fields_set:
            self.base_url = f"http://{self.host}:{self.port}"
        return self

    _secret_cache: str | None = PrivateAttr(None)

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def resolved_secret_key(self) -> str:
        """The signing key: from the environment, else a per-installation generated file."""
        if self._secret_cache is None:
            self._secret_cache = self._load_secret_key()
        return self._secret_cache

    def resolved_eid_client_secret(self) -> str:
        """The portal's client secret at the e-ID provider: from the environment, else (not
        in production) a per-installation generated file shared with the dev provider."""
        if self.eid_client_secret is not None:
            return self.eid_client_secret.get_secret_value()
        if self.environment == "production":
            raise RuntimeError("CITYHALL_EID_CLIENT_SECRET must be set in production")
        return _generated_secret(self.data_dir / "eid-client-secret")

    def _load_secret_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        if self.environment == "production":
            raise RuntimeError("CITYHALL_SECRET_KEY must be set in production")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def _generated_secret(path: Path) -> str:
    """A random secret kept in ``path`` (mode 0600), created once. Safe when two processes
    start together: the file appears whole (written aside, then linked) or not at all."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(32))
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its secret
    finally:
        tmp.unlink()
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
