"""Simulated readings: drift, setpoint following, clock fields, record time."""

from __future__ import annotations

import random

from camnet.devices import readings


def test_temperature_drifts_towards_its_target() -> None:
    rng = random.Random(1)
    value = 20.0
    for _ in range(100):
        value = readings.drift(value, 44.0, rng)
    assert 43.0 < value < 45.0


def test_rpm_follows_the_setpoint_only_while_running() -> None:
    rpm = 0
    for _ in range(30):
        rpm = readings.follow_setpoint(rpm, 4000, running=True)
    assert rpm == 4000
    for _ in range(30):
        rpm = readings.follow_setpoint(rpm, 4000, running=False)
    assert rpm == 0


def test_formats_and_parsing() -> None:
    assert readings.celsius(69.66) == "69.7°C"
    assert readings.millibar(1149.6) == "1150mbar"
    assert readings.parse_leading_number("69.7°C") == 69.7
    assert readings.parse_leading_number("n/a") == 0.0


def test_time_fields_in_a_zone() -> None:
    assert readings.time_fields(0, "UTC") == [1970, 1, 1, 0, 0, 0]
    assert readings.time_fields(0, "Europe/Berlin") == [1970, 1, 1, 1, 0, 0]


def test_record_time() -> None:
    assert readings.advance_record_time(5, "start", 1.5) == 6.5
    assert readings.advance_record_time(5, "pause", 1.5) == 5
    assert readings.advance_record_time(5, "stop", 1.5) == 0
