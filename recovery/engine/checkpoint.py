"""Checkpoints: the replay's state at the end of one day, so that the next evaluation
replays only the days after it.

Every save re-evaluates the patient, and a full replay of a long history on every save costs
more than the rest of the save together. An evaluation can therefore also hand back the state
at the end of a chosen day (the write path keeps the patient's yesterday) as JSON-compatible
data; the next evaluation resumes from it, given only the records dated after that day.

Resuming gives exactly the plan a full replay gives, provided the records dated on or before
the checkpoint's day are the ones it was made from. The engine cannot see those records, so
the caller vouches for them: whoever adds, changes or removes a record dated on or before the
checkpoint's day must replay in full. The checkpoint itself names the guideline and the
engine code it was made with, and `fits` refuses any other.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from recovery.engine.guideline import Guideline
from recovery.engine.state import LookBack


def _engine_code() -> str:
    """A digest of the engine's own source: a checkpoint made by other code is never resumed,
    so a change to any rule or to the state's layout cannot meet an old checkpoint."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


ENGINE_CODE = _engine_code()


class CheckpointMismatch(ValueError):
    """A checkpoint was offered for a guideline, engine or date it does not fit."""


_GUIDELINE_FIELDS = tuple(field.name for field in dataclasses.fields(Guideline))


def guideline_values(g: Guideline) -> dict[str, int | float]:
    # Not dataclasses.asdict: it deep-copies, and every save compares a guideline.
    return {name: getattr(g, name) for name in _GUIDELINE_FIELDS}


@dataclass(frozen=True, slots=True)
class Checkpoint:
    day: date
    """The state is the one at the end of this day."""
    engine: str
    guideline: dict[str, int | float]
    state: dict
    look_back: LookBack

    def made_with(self) -> Guideline:
        """The guideline the checkpoint was made with."""
        return Guideline(**self.guideline)

    def fits(self, guideline: Guideline, on_date: date) -> bool:
        """True when a replay to `on_date` under `guideline` may resume from here."""
        return (
            self.engine == ENGINE_CODE
            and self.day < on_date
            and self.guideline == guideline_values(guideline)
        )

    def to_data(self) -> dict:
        """JSON-compatible (lists and string keys only)."""
        back = self.look_back
        return {
            "day": self.day.toordinal(),
            "engine": self.engine,
            "guideline": self.guideline,
            "state": self.state,
            "first": back.first,
            "loads": [
                [day, load, back.workout_counts[day]] for day, load in sorted(back.loads.items())
            ],
            "categories": [
                [day, sorted(map(str, seen))] for day, seen in sorted(back.categories.items())
            ],
        }

    @classmethod
    def from_data(cls, data: object) -> Checkpoint | None:
        """The checkpoint `to_data` wrote; None for anything else, or one of other engine code
        (the caller then replays in full)."""
        if not isinstance(data, dict) or data.get("engine") != ENGINE_CODE:
            return None
        try:
            return cls(
                day=date.fromordinal(data["day"]),
                engine=data["engine"],
                guideline=data["guideline"],
                state=data["state"],
                look_back=LookBack(
                    first=data["first"],
                    loads={day: load for day, load, _ in data["loads"]},
                    workout_counts={day: count for day, _, count in data["loads"]},
                    categories={day: frozenset(seen) for day, seen in data["categories"]},
                ),
            )
        except (KeyError, TypeError, ValueError):
            return None
