"""Every table of every domain, imported so that Alembic and the schema test see them all."""

from __future__ import annotations

from typing import Any

from cityhall.catalog import models as _catalog  # noqa: F401
from cityhall.core.audit import models as _audit  # noqa: F401
from cityhall.core.blobs import models as _blobs  # noqa: F401
from cityhall.core.calendar import models as _calendar  # noqa: F401
from cityhall.core.notify import models as _notify  # noqa: F401
from cityhall.db import Base
from cityhall.dossiers import models as _dossiers  # noqa: F401
from cityhall.engagement import models as _engagement  # noqa: F401
from cityhall.exchange import models as _exchange  # noqa: F401
from cityhall.feedback import models as _feedback  # noqa: F401
from cityhall.identity import models as _identity  # noqa: F401
from cityhall.places import models as _places  # noqa: F401

metadata = Base.metadata

# Tables we do not own: Procrastinate's queue schema, created by its own SQL in a migration.
EXTERNAL_TABLE_PREFIXES = ("procrastinate_",)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name and name.startswith(EXTERNAL_TABLE_PREFIXES):
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and str(table.name).startswith(EXTERNAL_TABLE_PREFIXES))
