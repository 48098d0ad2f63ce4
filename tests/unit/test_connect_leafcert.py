"""When an agent renews a leaf (agent/leafcert/util.go calculateSoftExpiry, lib.RandomStagger)."""

from __future__ import annotations

import random

from aioconsul.testing.connect.leafcert import parse_cert_time, renewal_point, soft_expiry

HOUR = 3600.0
AFTER = parse_cert_time("2025-01-01T00:00:00Z")
BEFORE = AFTER + 72 * HOUR


def test_the_window_runs_from_60_to_90_percent_of_the_lifetime() -> None:
    assert soft_expiry(AFTER, AFTER, BEFORE) == (AFTER + 0.6 * 72 * HOUR, AFTER + 0.9 * 72 * HOUR)


def test_every_renewal_point_lies_in_the_window() -> None:
    rng = random.Random(13)
    for _ in range(1000):
        point = renewal_point(AFTER + 60, AFTER, BEFORE, rng.random())
        assert AFTER + 0.6 * 72 * HOUR <= point < AFTER + 0.9 * 72 * HOUR


def test_inside_the_window_now_is_its_start() -> None:
    now = AFTER + 0.7 * 72 * HOUR
    assert soft_expiry(now, AFTER, BEFORE) == (now, AFTER + 0.9 * 72 * HOUR)
    assert renewal_point(now, AFTER, BEFORE, 0.5) == now + 0.5 * (0.2 * 72 * HOUR)


def test_past_90_percent_or_expired_is_renewed_now() -> None:
    for now in (AFTER + 0.95 * 72 * HOUR, BEFORE + HOUR):
        assert soft_expiry(now, AFTER, BEFORE) == (now, now)
        assert renewal_point(now, AFTER, BEFORE, 0.9) == now


def test_a_lifetime_under_ten_minutes_is_renewed_now() -> None:
    assert soft_expiry(AFTER, AFTER, AFTER + 599) == (AFTER, AFTER)
    assert soft_expiry(AFTER, AFTER, AFTER + 600)[0] == AFTER + 360


def test_cert_times_are_utc() -> None:
    assert parse_cert_time("1970-01-02T00:00:00Z") == 86400.0
