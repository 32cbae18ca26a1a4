"""The results store's tables, their columns and versions, and the upgrade of older stores.

The `trials` columns of a result are derived from `search_space.trial_result.TrialResult`
(`result_columns`, and `result_from_row` the way back), so the store names no result field of
its own. The schema version is SQLite's `PRAGMA user_version`:
- 0: every store written before versions (it has no `provenance` columns; the oldest lack
  `flops_pruned` too). Readers read it as it is; a writer (a resume, `nas retrain`) adds the
  missing columns and sets the version, in one transaction.
- 1: adds `provenance` (JSON: git commit, settings hash, package versions of the training; NULL
  in rows of older stores) to `trials` and `retrains`.
- 2 (`SCHEMA_VERSION`): adds `metrics` to `trials` (JSON: every metric of the trial's task by
  name, e.g. top1 and top5 of classification; NULL in rows of older stores, whose metrics are
  detection's per-metric columns). Those columns stay, filled for detection trials, so a store
  of any task is read by the same code: `row_metrics(row)` gives a row's metrics either way.
A store of a newer version than this code knows is refused, for reading and writing alike.
The `screened` table (proposals a predictor screen did not train, with their predicted reward
and the trial chosen instead, `nas search predictor=...`) changes no other table, so it carries
no version: any writer creates it, and readers of a store without it read it as empty.
"""

from __future__ import annotations

import sqlite3

from nas.store_errors import StoreError
from search_space.trial_result import DETECTION_METRICS, DETECTION_REWARD, RUN_STATS, TrialResult, TrialStatus

SCHEMA_VERSION = 2
METRIC_COLUMNS = DETECTION_METRICS  # detection's metrics, one column each (since version 0)
TRIAL_COLUMNS = (
    "trial_id",
    "proposal_index",
    "decisions",
    "spec",
    "status",
    "reward",
    *METRIC_COLUMNS,
    *RUN_STATS,
    "error",
    "replay",
    "started_at",
    "finished_at",
    "flops_pruned",
    "provenance",
    "metrics",
)
JSON_COLUMNS = ("decisions", "spec", "provenance", "metrics")

_METRIC_SQL = ", ".join(f"{name} REAL" for name in METRIC_COLUMNS)  # one REAL column per metric, in order
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS trials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, trial_id TEXT NOT NULL UNIQUE, proposal_index INTEGER,
    decisions TEXT, spec TEXT, status TEXT NOT NULL, reward REAL, {_METRIC_SQL}, flops INTEGER, params INTEGER, train_seconds REAL,
    images_per_second REAL, epochs_done INTEGER, error TEXT, replay TEXT, started_at TEXT,
    finished_at TEXT, flops_pruned INTEGER, provenance TEXT, metrics TEXT);
CREATE TABLE IF NOT EXISTS proposals (
    trial_id TEXT PRIMARY KEY, proposal_index INTEGER NOT NULL, decisions TEXT NOT NULL,
    spec TEXT NOT NULL, meta TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, trials_fed INTEGER NOT NULL, state BLOB NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS retrains (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, trial_id TEXT NOT NULL, seed INTEGER NOT NULL,
    proxy TEXT, status TEXT, ap REAL, result TEXT NOT NULL, created_at TEXT NOT NULL, provenance TEXT);
CREATE TABLE IF NOT EXISTS screened (
    proposal_index INTEGER PRIMARY KEY, decisions TEXT NOT NULL, spec TEXT NOT NULL, predicted REAL,
    chosen_trial_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS trials_proposal_index ON trials (proposal_index);
CREATE UNIQUE INDEX IF NOT EXISTS proposals_proposal_index ON proposals (proposal_index);
"""
# columns later versions added to a table, with their type (stores of version 0 lack some)
ADDED_COLUMNS = (("trials", "flops_pruned", "INTEGER"), ("trials", "provenance", "TEXT"),
                 ("retrains", "provenance", "TEXT"), ("trials", "metrics", "TEXT"))


def schema_version(conn: sqlite3.Connection) -> int:
    """The store's schema version (0 for stores written before versions)."""
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a store written by a newer version of spinenet-nas.

    Raises:
        StoreError: its schema version is above `SCHEMA_VERSION` (one line, what to do).
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has results-store schema version {version}, newer than this spinenet-nas reads "
            f"(up to {SCHEMA_VERSION}); upgrade spinenet-nas to open it"
        )


def create_or_upgrade(conn: sqlite3.Connection) -> None:
    """Create the tables, add the columns an older store lacks and set the version, in one
    transaction (all or nothing, even if the process is killed here)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)
        for table, column, kind in ADDED_COLUMNS:
            if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        if schema_version(conn) != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def result_columns(result: TrialResult) -> dict:
    """The `trials` columns a trial result fills: status, error, metrics (all of them as JSON, and
    detection's in their own columns), run statistics."""
    return {"status": result.status.value, "error": result.error, "metrics": dict(result.metrics),
            **{k: result.metrics.get(k) for k in METRIC_COLUMNS}, **{k: getattr(result, k) for k in RUN_STATS}}


def row_metrics(row: dict) -> dict:
    """A stored row's metrics by name: its `metrics` JSON, or (rows before version 2) detection's
    columns."""
    stored = row.get("metrics")
    return dict(stored) if stored is not None else {k: row.get(k) for k in METRIC_COLUMNS}


def result_from_row(row: dict, reward_metric: str = DETECTION_REWARD) -> TrialResult:
    """The trial result a stored row holds (a stopped trial's row reads as a non-final result)."""
    status = TrialStatus(row["status"])
    metrics = row_metrics(row)
    result = TrialResult.from_flat({**row, **metrics}, tuple(metrics), final=status != TrialStatus.STOPPED,
                                   reward_metric=reward_metric)
    return result.with_status(status, row.get("error"))
