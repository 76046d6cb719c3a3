"""Database functions the ORM lacks."""

from __future__ import annotations

from django.db.models import FloatField, Func


class EpochSeconds(Func):
    """A timestamp as seconds since the Unix epoch (float).

    The engine only sorts by it; a float loads many times faster than a timezone-aware
    datetime, which matters on the write path that reloads a patient's whole history.
    """

    output_field = FloatField()
    templates = {
        "postgresql": "EXTRACT(EPOCH FROM %(expressions)s)::double precision",
        # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; julianday keeps milliseconds,
        # and records recorded within one millisecond fall back to the engine's tie order.
        "sqlite": "((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
    }

    @classmethod
    def sql(cls, vendor: str, column: str) -> str:
        """The expression for `column` in hand-written SQL."""
        return cls.templates[vendor] % {"expressions": column}

    def as_postgresql(self, compiler, connection, **extra_context):
        template = self.templates["postgresql"]
        return self.as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = self.templates["sqlite"]
        return self.as_sql(compiler, connection, template=template, **extra_context)
