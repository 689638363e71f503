"""The platform's own keys: the gateway's, and those of the platform's client subsystems.

Derived from the installation's secret key (HKDF-like: SHA-256 of a labelled seed), so
every web and worker process has the same keys without a key file to copy or lose, and a
new secret rotates them all. Other agencies' subsystems keep their private keys at home;
only their public keys are registered here.
"""

from __future__ import annotations

from functools import lru_cache

from cityhall.config import Settings
from cityhall.exchange.signing import KeyPair

PLATFORM_MEMBER = "000.00.00.H29"  # Ủy ban nhân dân Thành phố Hồ Chí Minh
GATEWAY_SUBSYSTEM = "LGSP"
GATEWAY_ID = f"VN/GOV/{PLATFORM_MEMBER}/{GATEWAY_SUBSYSTEM}"
ONE_STOP_SUBSYSTEM = "MCDT"  # the one-stop system (Hệ thống giải quyết thủ tục hành chính)
ONE_STOP_ID = f"VN/GOV/{PLATFORM_MEMBER}/{ONE_STOP_SUBSYSTEM}"


@lru_cache(maxsize=8)
def _derived(secret: str, label: str) -> KeyPair:
    return KeyPair.from_seed(f"cityhall-exchange-v1:{label}:{secret}".encode(), label)


def gateway_key(settings: Settings) -> KeyPair:
    return _derived(settings.resolved_secret_key(), GATEWAY_ID)


def own_client_key(settings: Settings, subsystem_id: str) -> KeyPair:
    """The key of one of the platform's own client subsystems (e.g. the one-stop system)."""
    return _derived(settings.resolved_secret_key(), subsystem_id)
