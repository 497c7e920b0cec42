"""The default stereo camera's mxid comes from the machine name (issue 19, item 8): every
node of a network used to serve the same mxid, so the network could not tell them apart."""

from __future__ import annotations

import re

from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.settings import default_machine_name, load_settings

SEED_MXID = re.compile(r"^[0-9A-F]{18}$")
"""The form of the mxid camnet used before (``14442C10D13EABCE00``): 18 hex digits."""


def test_each_machine_gets_its_own_stable_mxid_in_the_old_form() -> None:
    first = load_settings({"machine_name": "cell3"}, environ={}).stereo_cameras
    again = load_settings({"machine_name": "cell3"}, environ={}).stereo_cameras
    other = load_settings({"machine_name": "cell4"}, environ={}).stereo_cameras
    assert first == again == [default_stereo_mxid("cell3")]
    assert other == [default_stereo_mxid("cell4")] != first
    assert SEED_MXID.match(first[0])
    assert SEED_MXID.match(other[0])


def test_the_host_name_decides_when_the_machine_name_is_not_set() -> None:
    settings = load_settings({}, environ={})
    assert settings.stereo_cameras == [default_stereo_mxid(default_machine_name())]


def test_cameras_that_are_set_are_kept_and_none_means_none() -> None:
    chosen = load_settings({"machine_name": "cell3", "stereo_cameras": ["ABC"]}, environ={})
    assert chosen.stereo_cameras == ["ABC"]
    assert load_settings({"stereo_cameras": []}, environ={}).stereo_cameras == []
