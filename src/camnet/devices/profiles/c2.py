"""The state table of the C2 control unit, as the c2 seed's "State Description" gives it.

Every variable of the table and of the sample response is declared here exactly once;
where the seed contradicts itself the choice is recorded in ``docs/c2.md`` and in the
comment beside the declaration.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from typing import Any, Final

from camnet.state.schema import Access, Field, JsonValue, Kind, Schema, Variable

R: Final = Access.READ
W: Final = Access.WRITE
RW: Final = Access.READ_WRITE

LANGUAGES: Final = ("de", "en", "es", "fr", "it", "ja", "ko", "pl", "pt", "ru", "tr", "zh")
RECORD_STATES: Final = ("start", "pause", "release", "stop")
SENSOR_RATES: Final = ("0", "30", "60")

ZOOM_MAX: Final = 31424
PAN_MIN: Final = 0.0
PAN_MAX: Final = 100.0

PAN_SHAPE: Final = {"x": Field.NUMBER, "y": Field.NUMBER}
TAG_SHAPE: Final = {
    "creationTime": Field.NUMBER_OR_STRING,
    "title": Field.STRING,
    "note": Field.STRING,
}
USER_AUTH_SHAPE: Final = {"enabled": Field.BOOL}

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _check_timezone(value: JsonValue) -> str | None:
    if value in _timezones():
        return None
    return f"{value!r} is not an IANA time zone name such as 'Europe/Berlin' or 'UTC'"


def _check_host(value: JsonValue) -> str | None:
    if value == "" or (isinstance(value, str) and _HOSTNAME.match(value)):
        return None
    return f"{value!r} is not a host name or address"


def _check_tag(value: JsonValue) -> str | None:
    created = value.get("creationTime") if isinstance(value, dict) else None
    if isinstance(created, int | float) and created < 0:
        return "creationTime must be unix seconds, not negative"
    return None


def _bool(
    name: str, access: Access, description: str, default: bool = False, persisted: bool = True
) -> Variable:
    return Variable(
        name, Kind.BOOL, access, description, default, persisted=persisted and W in access
    )


def _measured(name: str, kind: Kind, description: str, default: Any, **extra: Any) -> Variable:
    return Variable(name, kind, R, description, default, **extra)


def _ranged(
    name: str, kind: Kind, low: float, high: float, description: str, default: Any, **extra: Any
) -> Variable:
    extra.setdefault("persisted", True)
    return Variable(name, kind, RW, description, default, minimum=low, maximum=high, **extra)


def _choice(
    name: str,
    options: tuple[Any, ...],
    description: str,
    default: Any,
    access: Access = RW,
    persisted: bool = True,
) -> Variable:
    return Variable(
        name,
        Kind.ENUM,
        access,
        description,
        default,
        options=options,
        persisted=persisted and W in access,
    )


def _text(name: str, description: str, default: str = "", **extra: Any) -> Variable:
    extra.setdefault("persisted", True)
    return Variable(name, Kind.STRING, RW, description, default, **extra)


def _head_variables(head: int) -> list[Variable]:
    """The variables that exist once per camera head (0 = first, 1 = second)."""
    ordinal = "first" if head == 0 else "second"
    letter = "A" if head == 0 else "B"
    return [
        _measured(f"cam{head}Exists", Kind.BOOL, f"existence of the {ordinal} camera head", True),
        _measured(
            f"lineRate{letter}",
            Kind.STRING,
            f"data transmission rate of the {ordinal} camera head",
            "1.25 Gbit/s",
        ),
        _measured(
            f"ver{head}",
            Kind.STRING,
            f"hardware and software version of the {ordinal} camera head",
            "camnet-sim HW 1.0 / SW 1.0",
        ),
        # The seed repeats cameraSwitch's description under autoRotate; it means whether
        # the head aligns its image automatically.
        _bool(f"autoRotate{head}", RW, f"automatic alignment of the {ordinal} camera head"),
        _bool(f"dictRotation{head}", RW, f"{ordinal} camera head disk rotation"),
        _measured(
            f"rpm{head}",
            Kind.INT,
            f"read rotation speed setpoint of the {ordinal} camera head",
            4000,
            unit="rpm",
        ),
        _measured(
            f"RPM{head}",
            Kind.INT,
            f"measured rotation speed of the {ordinal} camera head",
            0,
            unit="rpm",
        ),
        # Typed "Integer" in the seed but described as true/false and shown as a JSON
        # boolean in the sample response: a boolean that also accepts 1 and 0 on write.
        _bool(f"light{head}", RW, f"{ordinal} camera head light"),
        _choice(
            f"cfg3{head}",
            SENSOR_RATES,
            f"rate of the first optical sensor of the {ordinal} camera head",
            "60",
            access=R,
        ),
        _choice(
            f"cfg4{head}",
            SENSOR_RATES,
            f"rate of the second optical sensor of the {ordinal} camera head",
            "30" if head == 0 else "0",
            access=R,
        ),
        _measured(
            f"oct{head}",
            Kind.STRING,
            f"temperature of the {ordinal} camera head",
            "40.0°C",
            unit="°C",
        ),
        _ranged(
            f"cam{head}SelectedSensor",
            Kind.INT,
            0,
            1,
            f"selected optical sensor of the {ordinal} camera head; a head with one "
            "sensor mirrors its image on sensor 1",
            0,
        ),
        _ranged(
            f"zoom{head}",
            Kind.INT,
            0,
            ZOOM_MAX,
            f"zoom of the {ordinal} camera head; a written value is relative, the "
            "value read is absolute",
            0,
            relative=True,
        ),
        Variable(
            f"pan{head}",
            Kind.JSON,
            RW,
            f"pan of the {ordinal} camera head, x and y in [0.0, 100.0]; a written "
            "value is relative, the value read is absolute",
            {"x": 50.0, "y": 50.0},
            minimum=PAN_MIN,
            maximum=PAN_MAX,
            shape=PAN_SHAPE,
            relative=True,
            persisted=True,
        ),
        _measured(
            f"psi{head}",
            Kind.STRING,
            f"sealing air of the {ordinal} camera head",
            "1150mbar",
            unit="mbar",
        ),
        _choice(
            f"alignmentStream{head}",
            ("0", "1"),
            f'rotate stream of the {ordinal} camera head: "0" = 0°, "1" = 180°',
            "0",
        ),
    ]


def _by_name(variables: list[Variable]) -> dict[str, Variable]:
    return {v.name: v for v in variables}


def c2_variables() -> list[Variable]:
    """Every variable of the C2 control unit, in the order of the seed's table."""
    head0 = _by_name(_head_variables(0))
    head1 = _by_name(_head_variables(1))

    def both(stem: str) -> list[Variable]:
        return [head0[stem.format(h=0, L="A")], head1[stem.format(h=1, L="B")]]

    storage_description = {"uuid": "", "name": "", "path": "", "available": False}
    return [
        *both("cam{h}Exists"),
        _bool(
            "cameraSwitch",
            RW,
            "selection of the current streaming and recording camera head: false = "
            "first, true = second",
        ),
        *both("lineRate{L}"),
        *both("ver{h}"),
        *both("autoRotate{h}"),
        *both("dictRotation{h}"),
        *both("rpm{h}"),
        *both("RPM{h}"),
        *both("light{h}"),
        _measured(
            "downstat",
            Kind.STRING,
            "state of the 'update process' working in the background",
            "idle",
        ),
        _measured(
            "fpgaTemp",
            Kind.STRING,
            "temperature of the FPGA in the control box",
            "45.0°C",
            unit="°C",
        ),
        _bool("exposure", RW, "automatically aligned exposure of the picture", True),
        _bool("whiteBalance", RW, "automatic white balance of the picture", True),
        _bool("noiseSuppression", RW, "automatic noise suppression"),
        _ranged(
            "redGain",
            Kind.INT,
            -128,
            127,
            "red gain value; works only if whiteBalance is disabled",
            0,
        ),
        _ranged(
            "blueGain",
            Kind.INT,
            -128,
            127,
            "blue gain value; works only if whiteBalance is disabled",
            0,
        ),
        _ranged(
            "brightness",
            Kind.INT,
            -7,
            7,
            "brightness of the picture; works only if exposure is disabled",
            0,
        ),
        _ranged(
            "expo",
            Kind.FLOAT,
            0.01,
            1000.0,
            "exposure time; works only if exposure is disabled",
            10.0,
            unit="ms",
        ),
        _ranged("gain", Kind.INT, 0, 42, "gain; works only if exposure is disabled", 0),
        _ranged("sharpness", Kind.INT, 1, 15, "sharpness of the picture", 8),
        _ranged("saturation", Kind.FLOAT, -7, 7, "color saturation of the picture", 0.0),
        _ranged("contrast", Kind.FLOAT, 1, 2.5, "contrast of the picture", 1.0),
        _measured(
            "hdmiConnected",
            Kind.BOOL,
            "indicates whether a monitor is connected to the control box",
            False,
        ),
        _measured("hdmiName", Kind.STRING, "name of the monitor", ""),
        head0["cfg30"],
        head0["cfg40"],
        head1["cfg31"],
        head1["cfg41"],
        *both("oct{h}"),
        *both("cam{h}SelectedSensor"),
        _choice("language", LANGUAGES, "current selected language in menu", "en"),
        _measured("licenseConfig", Kind.JSON, "list of feature configurations in system", []),
        _measured("licenseModules", Kind.JSON, "list of modules in system", ["API"]),
        _measured(
            "hasInternet",
            Kind.BOOL,
            "control box has internet access (a default route exists)",
            False,
        ),
        _measured(
            "macAddr", Kind.STRING, "mac address of the first network device in hardware", ""
        ),
        _measured("hostname", Kind.STRING, "host name (read only)", ""),
        _measured("netInfo", Kind.JSON, "list network devices and settings", []),
        *both("zoom{h}"),
        *both("pan{h}"),
        # Typed "Number" in the seed but it selects one of five modes: an integer.
        _ranged(
            "pip",
            Kind.INT,
            0,
            4,
            "picture in picture: 0 only current camera, 1 top left, 2 top right, "
            "3 bottom left, 4 bottom right",
            0,
        ),
        *both("psi{h}"),
        _measured(
            "psiSetpoint", Kind.STRING, "default sealing air set point", "1150mbar", unit="mbar"
        ),
        _text("changeVideoName", "prefix of the recorded video file"),
        _text("changeImageName", "prefix of the recorded image file"),
        _text("changePostName", "postfix of the recorded file"),
        _text("changeBackupPostName", "postfix of the recorded backup file"),
        _choice(
            "record",
            RECORD_STATES,
            "state of recording: start, pause, release or stop; recording needs a "
            "usable storage medium",
            "stop",
            persisted=False,
        ),
        Variable("takePicture", Kind.BOOL, W, "trigger snapshot", False),
        # Not in the seed's table; the Node.js example sends {"jpeg": true} before it
        # fetches /camera.jpeg. Accepted as a write-only alias of takePicture.
        Variable(
            "jpeg",
            Kind.BOOL,
            W,
            "alias of takePicture, as sent by the seed's Node.js example",
            False,
        ),
        _measured("recordTime", Kind.FLOAT, "traced time of current video recording", 0, unit="s"),
        _ranged("rtspPort", Kind.INT, 1, 65000, "port of rtsp server", 1025),
        _bool("rtspOn", RW, "rtsp server running"),
        _measured("rtspStatus", Kind.JSON, "status of rtsp server", {}),
        _measured("diskStorages", Kind.JSON, "list of detected storages", []),
        _measured("netStorages", Kind.JSON, "list of configured network storages", []),
        Variable(
            "backupStorage",
            Kind.JSON,
            RW,
            "selected visual backup storage: read as its description, written as the "
            "uuid of one of diskStorages or netStorages",
            storage_description,
            write_kind=Kind.STRING,
            persisted=True,
        ),
        Variable(
            "recordingStorage",
            Kind.JSON,
            RW,
            "selected manual recording storage: read as its description, written as "
            "the uuid of one of diskStorages or netStorages",
            storage_description,
            write_kind=Kind.STRING,
            persisted=True,
        ),
        *both("alignmentStream{h}"),
        _choice(
            "backupResolution",
            ("FullHD", "HD"),
            "backup recording and stream resolution: FullHD 1920x1080, HD 1280x720",
            "HD",
        ),
        _choice(
            "recordingResolution",
            ("4K", "FullHD", "HD"),
            "recording and stream resolution: 4K 3840x2160, FullHD 1920x1080, HD 1280x720",
            "FullHD",
        ),
        _choice(
            "recordingFps", (1, 5, 10, 15, 30, 60), "recording and stream frames per second", 30
        ),
        _choice(
            "backupFps", (1, 5, 10, 15, 30), "backup recording and stream frames per second", 15
        ),
        _ranged("recordingPictureQuality", Kind.INT, 1, 100, "quality of jpeg compressor", 75),
        _ranged("backupPictureQuality", Kind.INT, 1, 100, "quality of jpeg compressor", 75),
        _bool(
            "mjpgStreamIsOpen",
            RW,
            "enable or disable the stream for clients without connection token",
        ),
        _bool("recordingWithTimeStamp", RW, "write time into stream and recording"),
        _bool("recordingWithDateStamp", RW, "write date into stream and recording"),
        _bool("backupWithTimeStamp", RW, "write time into stream and backup recording"),
        _bool("backupWithDateStamp", RW, "write date into stream and backup recording"),
        _measured(
            "systemDescription", Kind.JSON, "hardware and system description of control box", {}
        ),
        _measured(
            "time",
            Kind.JSON,
            "system time [year, month, day, hours, minutes, seconds] in the selected time zone",
            [1970, 1, 1, 0, 0, 0],
        ),
        _text("timezone", "selected time zone (IANA name)", "UTC", check=_check_timezone),
        _text("ntpHost", "address of the ntp server", "", check=_check_host),
        _measured("ntpStatus", Kind.JSON, "state of last connection try to ntp server", {}),
        _bool("ntpSync", RW, "enable ntp synchronisation"),
        _measured("seconds", Kind.INT, "epoch time seconds", 0, unit="s"),
        _measured(
            "connectionUrls", Kind.JSON, "list of detected and assumed possible connections", {}
        ),
        Variable(
            "userAuthentication",
            Kind.JSON,
            RW,
            "enables password authentication in clients",
            {"enabled": True},
            shape=USER_AUTH_SHAPE,
            persisted=True,
        ),
        _measured("swVersion", Kind.STRING, "current software version", ""),
        _measured("fmVersion", Kind.STRING, "current firmware version", "sim-1.0"),
        _bool("httpOn", RW, "http webserver run setting", True),
        _bool("httpsOn", RW, "https webserver run setting"),
        _ranged("httpPort", Kind.INT, 1, 65000, "http webserver port", 80),
        _ranged("httpsPort", Kind.INT, 1, 65000, "https webserver port", 443),
        _measured("httpStatus", Kind.JSON, "http webserver status", {}),
        _measured("httpsStatus", Kind.JSON, "https webserver status", {}),
        _measured("httpsCertificate", Kind.JSON, "certificate description", {}),
        _bool("backupActive", RW, "Visual Backup recording is on/off"),
        _bool(
            "backupUseCompleteSpace",
            RW,
            "the Visual Backup may use the whole storage (oldest files are deleted only "
            "when less than 1 hour of recording time is left)",
            True,
        ),
        _ranged(
            "backupMaximumRecordingTimeCapacity",
            Kind.INT,
            1,
            87600,
            "limit of stored backup video when backupUseCompleteSpace is off",
            24,
            unit="h",
        ),
        _measured(
            "backupStoredFileDuration",
            Kind.STRING,
            "complete stored backup video duration in the current storages",
            "0:00h",
        ),
        _measured(
            "backupFileCapacity",
            Kind.STRING,
            "current overwritable stored backup video duration",
            "0:00h",
        ),
        _measured(
            "backupRemainingCapacitySeconds",
            Kind.STRING,
            "free space of the backup storage in video seconds",
            "0",
            unit="s",
        ),
        _measured(
            "backupRemainingCapacityHours",
            Kind.STRING,
            "free space of the backup storage in video hours",
            "0",
            unit="h",
        ),
        _measured(
            "backupRemainingCapacity",
            Kind.STRING,
            "free space of the backup storage in video time as text",
            "0:00h",
        ),
        _measured(
            "storageBackupCapacity",
            Kind.STRING,
            "limit of the backup storage (backupRemainingCapacity + backupFileCapacity)",
            "0:00h",
        ),
        Variable(
            "createTag",
            Kind.JSON,
            W,
            "create a tag {creationTime, title, note}, all optional",
            None,
            shape=TAG_SHAPE,
            check=_check_tag,
        ),
    ]


@cache
def c2_schema() -> Schema:
    return Schema(c2_variables())


HEAD_VARIABLE_STEMS: Final = (
    "cam{h}Exists",
    "ver{h}",
    "autoRotate{h}",
    "dictRotation{h}",
    "rpm{h}",
    "RPM{h}",
    "light{h}",
    "oct{h}",
    "cam{h}SelectedSensor",
    "zoom{h}",
    "pan{h}",
    "psi{h}",
    "alignmentStream{h}",
)

API_USER_WRITABLE: Final = (
    # lights and head controls
    "light0",
    "light1",
    "pan0",
    "pan1",
    "zoom0",
    "zoom1",
    "cameraSwitch",
    "pip",
    "cam0SelectedSensor",
    "cam1SelectedSensor",
    "dictRotation0",
    "dictRotation1",
    "autoRotate0",
    "autoRotate1",
    "alignmentStream0",
    "alignmentStream1",
    # image settings
    "exposure",
    "whiteBalance",
    "noiseSuppression",
    "redGain",
    "blueGain",
    "brightness",
    "expo",
    "gain",
    "sharpness",
    "saturation",
    "contrast",
    # recording and Visual Backup
    "record",
    "changeVideoName",
    "changeImageName",
    "changePostName",
    "changeBackupPostName",
    "recordingResolution",
    "recordingFps",
    "recordingPictureQuality",
    "recordingWithTimeStamp",
    "recordingWithDateStamp",
    "backupActive",
    "backupResolution",
    "backupFps",
    "backupPictureQuality",
    "backupWithTimeStamp",
    "backupWithDateStamp",
    "backupUseCompleteSpace",
    "backupMaximumRecordingTimeCapacity",
    # pictures and tags
    "takePicture",
    "jpeg",
    "createTag",
)
"""What the API-User may write by default: the camera controls, image, recording and
backup settings, pictures and tags. Left to the admin: listeners and ports, storage
selection, the unauthenticated stream switch, language, time and authentication."""
