"""Compact JWS (RFC 7515) signed with Ed25519: the exchange's signatures.

Requests are signed by the client subsystem's private key; responses by the gateway's. The
signed claims bind the message to its body by the body's SHA-256, so the log can prove what
was asked and what was answered. The algorithm is named ``Ed25519``, the fully-specified
identifier of RFC 9864; tokens saying ``EdDSA`` (RFC 8037, now deprecated) with an Ed25519
key are the same signature and are accepted too. Written directly on ``cryptography`` (the
signing is the gateway's hot path); the tests check tokens against joserfc, an independent
JOSE implementation.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG = "Ed25519"
ACCEPTED_ALGS = ("Ed25519", "EdDSA")
REQUEST_TYPE = "cityhall-exchange-request+jwt"
RESPONSE_TYPE = "cityhall-exchange-response+jwt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def body_hash(body: bytes) -> str:
    """The body's SHA-256, hex (as stored in the log and signed in ``bsh``)."""
    return hashlib.sha256(body).hexdigest()


class SignatureError(Exception):
    """The token is malformed or its signature does not verify."""


@dataclass(frozen=True)
class KeyPair:
    private: Ed25519PrivateKey
    kid: str

    @classmethod
    def generate(cls, kid: str) -> KeyPair:
        return cls(Ed25519PrivateKey.generate(), kid)

    @classmethod
    def from_seed(cls, seed: bytes, kid: str) -> KeyPair:
        return cls(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed).digest()), kid)

    def public_jwk(self) -> dict[str, Any]:
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw), "kid": self.kid, "use": "sig"}

    def private_jwk(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        raw = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {**self.public_jwk(), "d": b64url(raw)}

    @classmethod
    def from_private_jwk(cls, jwk: dict[str, Any]) -> KeyPair:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" not in jwk:
            raise ValueError("not an Ed25519 private JWK")
        return cls(Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"])), jwk["kid"])


def public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    return _public_key(jwk.get("kty"), jwk.get("crv"), jwk.get("x"))


@lru_cache(maxsize=1024)
def _public_key(kty: Any, crv: Any, x: Any) -> Ed25519PublicKey:
    if kty != "OKP" or crv != "Ed25519" or not isinstance(x, str):
        raise ValueError("not an Ed25519 public JWK")
    return Ed25519PublicKey.from_public_bytes(b64url_decode(x))


def sign(key: KeyPair, claims: dict[str, Any], typ: str) -> str:
    header = {"alg": ALG, "typ": typ, "kid": key.kid}
    signing_input = (
        b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    )
    signature = key.private.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url(signature)


@dataclass(frozen=True)
class Unverified:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse(token: str) -> Unverified:
    """Split and decode without verifying (to learn which key to verify with)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureError("undecodable JWS") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SignatureError("JWS header and payload must be JSON objects")
    if header.get("alg") not in ACCEPTED_ALGS:
        raise SignatureError("only alg Ed25519 is accepted")
    return Unverified(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify(token: Unverified, jwk: dict[str, Any]) -> dict[str, Any]:
    try:
        public_key(jwk).verify(token.signature, token.signing_input)
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc
    return token.claims
