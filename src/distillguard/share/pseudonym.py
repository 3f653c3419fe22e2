"""Keyed pseudonyms for identifiers that leave the provider: account ids, e-mail domains, payment
fingerprints.

A pseudonym is HMAC-SHA256 over "<kind>:<normalized value>" under a key the sharing providers agree
on. Two providers holding the same key derive the same pseudonym for the same payment fingerprint
and can match it; anyone without the key learns nothing and cannot test guesses. The kind prefix
keeps an account id from matching an equal-looking payment fingerprint.

Without a configured key, a random key is drawn for the one bundle (`ephemeral`): the bundle can
still be shared (infrastructure and template indicators are not pseudonymized), but its pseudonyms
match nothing, and the bundle says so.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

KEY_ENV = "DISTILLGUARD_SHARE_KEY"
MIN_KEY_CHARS = 16  # a short key would let a receiver test guessed account ids offline
PseudonymKind = Literal["account", "email_domain", "payment"]


class ShareConfig(BaseModel):
    """The `share` section of the scan configuration."""

    model_config = ConfigDict(extra="forbid")
    provider_name: str = "distillguard user"  # the reporting provider's identity in the bundle
    pseudonym_key: str | None = None  # shared secret; prefer the environment variable below
    pseudonym_key_env: str = KEY_ENV  # environment variable that holds the key
    include_prompts: bool = False  # put sample prompt text of templates into the bundle
    tlp: Literal["clear", "green", "amber", "red"] = "amber"  # Traffic Light Protocol marking
    max_indicators_per_cluster: int = Field(default=40, ge=1)
    # withhold a value that this many unflagged local accounts also use (1: any of them)
    local_fp_guard: int = Field(default=1, ge=1)


def share_config(config: object | None) -> ShareConfig:
    """Accept a ShareConfig, the `share` section as a dict, a whole scan configuration (ScanConfig or
    its dict) or None; raise ValueError naming the field when the section is invalid."""
    if isinstance(config, ShareConfig):
        return config
    section: object = {} if config is None else config
    if hasattr(section, "share"):  # a ScanConfig
        section = section.share
    elif isinstance(section, dict) and isinstance(section.get("share"), dict):
        section = section["share"]
    elif isinstance(section, dict) and section and not set(section) & set(ShareConfig.model_fields):
        section = {}  # a whole scan configuration without a share section
    if not isinstance(section, dict):
        raise ValueError(f"the share configuration must be a mapping, not {type(section).__name__}")
    try:
        return ShareConfig.model_validate(section)
    except ValidationError as exc:
        problems = "; ".join(f"share.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ValueError(problems) from None


def normalize(kind: PseudonymKind, value: str) -> str:
    """The form that is hashed: e-mail domains are case-insensitive and may come with '@' or a final dot."""
    value = value.strip()
    if kind == "email_domain":
        value = value.lower().lstrip("@").rstrip(".")
    return value


@dataclass(frozen=True)
class Pseudonymizer:
    """Derives pseudonyms under one key; `ephemeral` marks a key drawn for a single bundle."""

    key: bytes
    ephemeral: bool = False

    def __call__(self, kind: PseudonymKind, value: str) -> str:
        message = f"{kind}:{normalize(kind, value)}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key, so that a receiver can tell whether it holds the same one."""
        if self.ephemeral:
            return "ephemeral"
        return hmac.new(self.key, b"distillguard key id", hashlib.sha256).hexdigest()[:16]


def resolve_key(config: ShareConfig, *, allow_ephemeral: bool = True) -> Pseudonymizer:
    """The key from `share.pseudonym_key`, else from the environment variable `share.pseudonym_key_env`;
    else an ephemeral random key (or ValueError when `allow_ephemeral` is false)."""
    key = config.pseudonym_key or os.environ.get(config.pseudonym_key_env) or ""
    if key:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"the pseudonym key must have at least {MIN_KEY_CHARS} characters")
        return Pseudonymizer(key.encode("utf-8"))
    if not allow_ephemeral:
        raise ValueError(
            f"no pseudonym key: set share.pseudonym_key or the environment variable "
            f"{config.pseudonym_key_env}"
        )
    return Pseudonymizer(secrets.token_bytes(32), ephemeral=True)
