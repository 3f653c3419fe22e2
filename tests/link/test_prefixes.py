"""Network prefixes cut in SQL agree with `ipaddress` on every kind of client_ip value."""

from __future__ import annotations

import ipaddress

import duckdb

from distillguard.link.infrastructure import PREFIX, build_prefixes
from distillguard.link.keys import EX

VALUES = [
    "1.2.3.4",
    "199.200.201.202",
    "255.255.255.255",
    "0.0.0.0",
    " 1.2.3.4",  # padded: still an address
    "01.2.3.4",  # leading zero: ipaddress refuses it
    "256.1.1.1",
    "1.2.3",
    "10.0.0.09",
    "::1",
    "2001:db8:aa:bb::1",
    "api.example.com",
]


def test_prefixes_match_ipaddress():
    con = duckdb.connect()
    con.execute(f"CREATE TEMP TABLE {EX} AS SELECT unnest(?) AS client_ip", [VALUES])
    bad = build_prefixes(con, 48)
    expected, expected_bad = [], 0
    for raw in VALUES:
        try:
            addr = ipaddress.ip_address(raw.strip())
        except ValueError:
            expected_bad += 1
            continue
        bits = 24 if addr.version == 4 else 48
        expected.append((raw, str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))))
    assert bad == expected_bad == 5
    assert sorted(con.sql(f"SELECT ip, prefix FROM {PREFIX}").fetchall()) == sorted(expected)
