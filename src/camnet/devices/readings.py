"""How simulated readings move from one tick to the next (pure arithmetic, no I/O)."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo


def drift(
    current: float, target: float, rng: random.Random, rate: float = 0.1, noise: float = 0.05
) -> float:
    """First-order approach to ``target`` with a little noise, like a thermal mass."""
    return current + (target - current) * rate + rng.gauss(0.0, noise)


def follow_setpoint(current: int, setpoint: int, running: bool, rate: float = 0.5) -> int:
    """Rotation speed: spins up towards the setpoint while running, coasts down otherwise."""
    target = setpoint if running else 0
    step = (target - current) * rate
    moved = current + step
    return target if abs(target - moved) < 1 else round(moved)


def head_temperature_target(light_on: bool, rotating: bool) -> float:
    return 38.0 + (6.0 if light_on else 0.0) + (2.0 if rotating else 0.0)


def celsius(value: float) -> str:
    return f"{value:.1f}°C"


def millibar(value: float) -> str:
    return f"{round(value)}mbar"


def parse_leading_number(text: str) -> float:
    """``"69.7°C"`` → 69.7, ``"1150mbar"`` → 1150.0; 0.0 when there is no number."""
    digits = ""
    for char in text:
        if char.isdigit() or char in ".-":
            digits += char
        else:
            break
    try:
        return float(digits)
    except ValueError:
        return 0.0


def time_fields(epoch_seconds: float, timezone: str) -> list[int]:
    """The seed's ``time``: ``[year, month, day, hours, minutes, seconds]`` in a zone."""
    moment = datetime.fromtimestamp(epoch_seconds, ZoneInfo(timezone))
    return [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second]


def advance_record_time(record_time: float, record_state: str, elapsed: float) -> float:
    """``recordTime`` counts while recording, holds while paused, resets when stopped."""
    if record_state == "stop":
        return 0
    if record_state == "pause":
        return record_time
    return round(record_time + elapsed, 3)
