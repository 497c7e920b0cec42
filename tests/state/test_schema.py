"""The schema container and the C2 variable table."""

from __future__ import annotations

import pytest

from camnet.devices.profiles.c2 import API_USER_WRITABLE, c2_schema
from camnet.state.schema import Access, Kind, Schema, Variable

# (name, kind, access letters, range) for every variable of the seed's table.
SEED_TABLE: list[tuple[str, Kind, str, tuple[float, float] | None]] = [
    ("cam0Exists", Kind.BOOL, "r", None),
    ("cam1Exists", Kind.BOOL, "r", None),
    ("cameraSwitch", Kind.BOOL, "rw", None),
    ("lineRateA", Kind.STRING, "r", None),
    ("lineRateB", Kind.STRING, "r", None),
    ("ver0", Kind.STRING, "r", None),
    ("ver1", Kind.STRING, "r", None),
    ("autoRotate0", Kind.BOOL, "rw", None),
    ("autoRotate1", Kind.BOOL, "rw", None),
    ("dictRotation0", Kind.BOOL, "rw", None),
    ("dictRotation1", Kind.BOOL, "rw", None),
    ("rpm0", Kind.INT, "r", None),
    ("rpm1", Kind.INT, "r", None),
    ("RPM0", Kind.INT, "r", None),
    ("RPM1", Kind.INT, "r", None),
    ("light0", Kind.BOOL, "rw", None),
    ("light1", Kind.BOOL, "rw", None),
    ("downstat", Kind.STRING, "r", None),
    ("fpgaTemp", Kind.STRING, "r", None),
    ("exposure", Kind.BOOL, "rw", None),
    ("whiteBalance", Kind.BOOL, "rw", None),
    ("noiseSuppression", Kind.BOOL, "rw", None),
    ("redGain", Kind.INT, "rw", (-128, 127)),
    ("blueGain", Kind.INT, "rw", (-128, 127)),
    ("brightness", Kind.INT, "rw", (-7, 7)),
    ("expo", Kind.FLOAT, "rw", (0.01, 1000.0)),
    ("gain", Kind.INT, "rw", (0, 42)),
    ("sharpness", Kind.INT, "rw", (1, 15)),
    ("saturation", Kind.FLOAT, "rw", (-7, 7)),
    ("contrast", Kind.FLOAT, "rw", (1, 2.5)),
    ("hdmiConnected", Kind.BOOL, "r", None),
    ("hdmiName", Kind.STRING, "r", None),
    ("cfg30", Kind.ENUM, "r", None),
    ("cfg40", Kind.ENUM, "r", None),
    ("cfg31", Kind.ENUM, "r", None),
    ("cfg41", Kind.ENUM, "r", None),
    ("oct0", Kind.STRING, "r", None),
    ("oct1", Kind.STRING, "r", None),
    ("cam0SelectedSensor", Kind.INT, "rw", (0, 1)),
    ("cam1SelectedSensor", Kind.INT, "rw", (0, 1)),
    ("language", Kind.ENUM, "rw", None),
    ("licenseConfig", Kind.JSON, "r", None),
    ("licenseModules", Kind.JSON, "r", None),
    ("hasInternet", Kind.BOOL, "r", None),
    ("macAddr", Kind.STRING, "r", None),
    ("hostname", Kind.STRING, "r", None),
    ("netInfo", Kind.JSON, "r", None),
    ("zoom0", Kind.INT, "rw", (0, 31424)),
    ("zoom1", Kind.INT, "rw", (0, 31424)),
    ("pan0", Kind.JSON, "rw", (0.0, 100.0)),
    ("pan1", Kind.JSON, "rw", (0.0, 100.0)),
    ("pip", Kind.INT, "rw", (0, 4)),
    ("psi0", Kind.STRING, "r", None),
    ("psi1", Kind.STRING, "r", None),
    ("psiSetpoint", Kind.STRING, "r", None),
    ("changeVideoName", Kind.STRING, "rw", None),
    ("changeImageName", Kind.STRING, "rw", None),
    ("changePostName", Kind.STRING, "rw", None),
    ("changeBackupPostName", Kind.STRING, "rw", None),
    ("record", Kind.ENUM, "rw", None),
    ("takePicture", Kind.BOOL, "w", None),
    ("recordTime", Kind.FLOAT, "r", None),
    ("rtspPort", Kind.INT, "rw", (1, 65000)),
    ("rtspOn", Kind.BOOL, "rw", None),
    ("rtspStatus", Kind.JSON, "r", None),
    ("diskStorages", Kind.JSON, "r", None),
    ("netStorages", Kind.JSON, "r", None),
    ("backupStorage", Kind.JSON, "rw", None),
    ("recordingStorage", Kind.JSON, "rw", None),
    ("alignmentStream0", Kind.ENUM, "rw", None),
    ("alignmentStream1", Kind.ENUM, "rw", None),
    ("backupResolution", Kind.ENUM, "rw", None),
    ("recordingResolution", Kind.ENUM, "rw", None),
    ("recordingFps", Kind.ENUM, "rw", None),
    ("backupFps", Kind.ENUM, "rw", None),
    ("recordingPictureQuality", Kind.INT, "rw", (1, 100)),
    ("backupPictureQuality", Kind.INT, "rw", (1, 100)),
    ("mjpgStreamIsOpen", Kind.BOOL, "rw", None),
    ("recordingWithTimeStamp", Kind.BOOL, "rw", None),
    ("recordingWithDateStamp", Kind.BOOL, "rw", None),
    ("backupWithTimeStamp", Kind.BOOL, "rw", None),
    ("backupWithDateStamp", Kind.BOOL, "rw", None),
    ("systemDescription", Kind.JSON, "r", None),
    ("time", Kind.JSON, "r", None),
    ("timezone", Kind.STRING, "rw", None),
    ("ntpHost", Kind.STRING, "rw", None),
    ("ntpStatus", Kind.JSON, "r", None),
    ("ntpSync", Kind.BOOL, "rw", None),
    ("seconds", Kind.INT, "r", None),
    ("connectionUrls", Kind.JSON, "r", None),
    ("userAuthentication", Kind.JSON, "rw", None),
    ("swVersion", Kind.STRING, "r", None),
    ("fmVersion", Kind.STRING, "r", None),
    ("httpOn", Kind.BOOL, "rw", None),
    ("httpsOn", Kind.BOOL, "rw", None),
    ("httpPort", Kind.INT, "rw", (1, 65000)),
    ("httpsPort", Kind.INT, "rw", (1, 65000)),
    ("httpStatus", Kind.JSON, "r", None),
    ("httpsStatus", Kind.JSON, "r", None),
    ("httpsCertificate", Kind.JSON, "r", None),
    ("backupActive", Kind.BOOL, "rw", None),
    ("backupUseCompleteSpace", Kind.BOOL, "rw", None),
    ("backupMaximumRecordingTimeCapacity", Kind.INT, "rw", (1, 87600)),
    ("backupStoredFileDuration", Kind.STRING, "r", None),
    ("backupFileCapacity", Kind.STRING, "r", None),
    ("backupRemainingCapacitySeconds", Kind.STRING, "r", None),
    ("backupRemainingCapacityHours", Kind.STRING, "r", None),
    ("backupRemainingCapacity", Kind.STRING, "r", None),
    ("storageBackupCapacity", Kind.STRING, "r", None),
    ("createTag", Kind.JSON, "w", None),
]


@pytest.mark.parametrize(("name", "kind", "access", "bounds"), SEED_TABLE)
def test_every_seed_variable_is_declared_as_documented(
    name: str, kind: Kind, access: str, bounds: tuple[float, float] | None
) -> None:
    variable = c2_schema()[name]
    assert variable.kind is kind
    assert variable.access.letters == access
    if bounds is None:
        assert not variable.ranged
    else:
        assert (variable.minimum, variable.maximum) == bounds


def test_the_table_has_nothing_undocumented_but_the_jpeg_alias() -> None:
    assert set(c2_schema().names()) - {name for name, *_ in SEED_TABLE} == {"jpeg"}


def test_options_as_the_seed_lists_them() -> None:
    schema = c2_schema()
    assert schema["record"].options == ("start", "pause", "release", "stop")
    assert schema["recordingFps"].options == (1, 5, 10, 15, 30, 60)
    assert schema["backupFps"].options == (1, 5, 10, 15, 30)
    assert schema["recordingResolution"].options == ("4K", "FullHD", "HD")
    assert schema["backupResolution"].options == ("FullHD", "HD")
    assert schema["cfg30"].options == ("0", "30", "60")
    assert schema["backupStorage"].write_kind is Kind.STRING
    assert schema["zoom0"].relative
    assert schema["pan1"].relative


def test_api_user_default_writes_are_writable_variables() -> None:
    for name in API_USER_WRITABLE:
        assert c2_schema()[name].writable, name


def test_schema_rejects_bad_declarations() -> None:
    with pytest.raises(ValueError, match="twice"):
        Schema(
            [Variable("a", Kind.BOOL, Access.READ, "a"), Variable("a", Kind.BOOL, Access.READ, "a")]
        )
    with pytest.raises(ValueError, match="options"):
        Variable("e", Kind.ENUM, Access.READ, "e")
    with pytest.raises(ValueError, match="one end"):
        Variable("n", Kind.INT, Access.READ, "n", minimum=1)


def test_describe_carries_everything_a_control_needs() -> None:
    described = {entry["name"]: entry for entry in c2_schema().describe()}
    assert described["gain"]["range"] == [0, 42]
    assert described["gain"]["access"] == "rw"
    assert described["record"]["options"] == ["start", "pause", "release", "stop"]
    assert described["pan0"]["shape"] == {"x": "number", "y": "number"}
    assert described["oct0"]["unit"] == "°C"
