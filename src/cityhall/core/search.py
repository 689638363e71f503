"""Free-text search over a ``search_text`` column built as ``lower(f_unaccent(...))``.

Both sides are normalised the same way, so "ben thanh" finds "Phường Bến Thành"; pg_trgm
word similarity (``%>``) forgives small typos ("ben tanh"). The substring test (LIKE) and
the similarity operator are both served by a trigram GIN index on the column. Used by
places (units, agencies) and the procedure catalogue.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import case, func, literal, or_, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

# pg_trgm's default (0.6) misses one-letter typos in short names ("ben tanh" scores 0.58).
WORD_SIMILARITY_THRESHOLD = 0.5
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def words(q: str) -> str:
    """Punctuation to spaces, runs of spaces collapsed."""
    return _NOT_WORD.sub(" ", q).strip()


def norm(value: Any) -> ColumnElement[str]:
    """The SQL expression the stored ``search_text`` columns are built with."""
    return func.lower(func.f_unaccent(value))


def like_escape(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def use_similarity_threshold(
    session: Session, threshold: float = WORD_SIMILARITY_THRESHOLD
) -> None:
    # Transaction-local: affects only this request's transaction.
    session.execute(
        text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, true)"),
        {"t": str(threshold)},
    )


class TextSearch:
    """The match condition and ranking of one free-text query against a search column."""

    def __init__(self, q: str, column: Any, *names: Any) -> None:
        cleaned = words(q)
        self.qn = norm(literal(cleaned))
        self.pattern = norm(literal(f"%{like_escape(cleaned)}%"))
        self.column = column
        self.names = names

    def condition(self) -> ColumnElement[bool]:
        return or_(
            self.column.like(self.pattern, escape="\\"),
            self.column.op("%>")(self.qn),
        )

    def order(self) -> list[ColumnElement[Any]]:
        exact = or_(*(norm(n) == self.qn for n in self.names), self.column == self.qn)
        return [
            case((exact, 0), (self.column.like(self.pattern, escape="\\"), 1), else_=2),
            func.word_similarity(self.qn, self.column).desc(),
        ]
