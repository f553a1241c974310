"""Keep the query planner's statistics current, so it picks the per-patient and search indexes.

SQLite plans without statistics until something runs ANALYZE, and then picks a clinic-wide
index over a per-patient one for the chart's cards; PostgreSQL's autovacuum analyses on its
own. `database_optimize` runs SQLite's `PRAGMA optimize` (which analyses only the tables whose
statistics are missing or stale, reading at most `ANALYSIS_LIMIT` rows of each index), or
ANALYZE on PostgreSQL; the worker runs it every tick and `ketacare synth` after a bulk load.
"""

from django.db import connection

# Rows read per index when SQLite analyses (bounded, so a large table costs milliseconds).
ANALYSIS_LIMIT = 1000


def database_optimize(*, full: bool = False) -> None:
    """Refresh the planner's statistics (all tables when `full`, else only stale ones)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            cursor.execute("ANALYZE" if full else "PRAGMA optimize")
        else:
            cursor.execute("ANALYZE")
