"""Keyed pseudonyms: equal under one key, unlinkable without it."""

from __future__ import annotations

import pytest

from distillguard.share import Pseudonymizer, ShareConfig, resolve_key, share_config


def test_same_key_same_pseudonym_and_kinds_are_separate() -> None:
    a, b = Pseudonymizer(b"k" * 32), Pseudonymizer(b"k" * 32)
    assert a("payment", "pm_123") == b("payment", "pm_123")
    assert a("payment", "pm_123") != a("account", "pm_123")
    assert a("payment", "pm_123") != Pseudonymizer(b"j" * 32)("payment", "pm_123")
    assert len(a("account", "x")) == 64 and "x" not in a("account", "x")


def test_email_domains_are_normalized() -> None:
    p = Pseudonymizer(b"k" * 32)
    assert p("email_domain", "Mail.Example.COM.") == p("email_domain", "@mail.example.com")


def test_key_from_config_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_KEY", "b" * 20)
    from_env = resolve_key(ShareConfig(pseudonym_key_env="PARTNER_KEY"))
    assert from_env.key == b"b" * 20 and not from_env.ephemeral
    assert resolve_key(ShareConfig(pseudonym_key="a" * 20, pseudonym_key_env="PARTNER_KEY")).key == b"a" * 20
    assert from_env.key_id == resolve_key(ShareConfig(pseudonym_key="b" * 20)).key_id != "ephemeral"


def test_without_key_a_random_ephemeral_one(no_key: None) -> None:
    first, second = resolve_key(ShareConfig()), resolve_key(ShareConfig())
    assert first.ephemeral and first.key_id == "ephemeral" and first.key != second.key
    with pytest.raises(ValueError, match="DISTILLGUARD_SHARE_KEY"):
        resolve_key(ShareConfig(), allow_ephemeral=False)


def test_short_key_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        resolve_key(ShareConfig(pseudonym_key="short"))


def test_config_shapes() -> None:
    assert share_config(None) == ShareConfig()
    assert share_config({"share": {"provider_name": "P"}}).provider_name == "P"
    assert share_config({"provider_name": "Q"}).provider_name == "Q"
    assert share_config({"threshold": 0.5, "detect": {}}) == ShareConfig()  # whole config, no share section
    with pytest.raises(ValueError, match=r"share\.tlp"):
        share_config({"tlp": "purple"})
    with pytest.raises(ValueError, match=r"share\.provder_name"):
        share_config({"share": {"provder_name": "typo"}})
