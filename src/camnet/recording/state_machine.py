"""The manual ``record`` variable as a checked state machine (pure).

camnet's meaning of the seed's four options (``docs/recording.md``):

- ``start``: record into a new file (from ``stop``), or go on after a pause;
- ``pause``: keep the file open, write no frames, ``recordTime`` holds;
- ``release``: release a pause; recording goes on in the same file (reads ``release``);
- ``stop``: close the file; it is indexed and appears in the gallery.

Writing the current state again is allowed and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum


class RecordState(StrEnum):
    START = "start"
    PAUSE = "pause"
    RELEASE = "release"
    STOP = "stop"

    @property
    def recording(self) -> bool:
        """Whether frames are written in this state."""
        return self in (RecordState.START, RecordState.RELEASE)


class IllegalTransition(ValueError):
    """A ``record`` write that the current state does not allow."""


_ALLOWED: dict[RecordState, frozenset[RecordState]] = {
    RecordState.STOP: frozenset({RecordState.STOP, RecordState.START}),
    RecordState.START: frozenset({RecordState.START, RecordState.PAUSE, RecordState.STOP}),
    RecordState.RELEASE: frozenset({RecordState.RELEASE, RecordState.PAUSE, RecordState.STOP}),
    RecordState.PAUSE: frozenset(
        {RecordState.PAUSE, RecordState.START, RecordState.RELEASE, RecordState.STOP}
    ),
}


def transition(current: RecordState, wanted: RecordState) -> RecordState:
    """The state after writing ``wanted`` in ``current``; raises IllegalTransition."""
    if wanted in _ALLOWED[current]:
        return wanted
    if current is RecordState.STOP:
        raise IllegalTransition(f"nothing is recording; {wanted.value!r} needs 'start' first")
    raise IllegalTransition(f"{wanted.value!r} releases a pause; the recording is not paused")
