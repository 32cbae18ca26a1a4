"""The results store of one search run: SQLite at `<run dir>/search.db` (WAL, UNIQUE trial ids).

Tables:
- `trials`: one row per finished trial, in the order its reward went to the controller (`seq`).
  Columns: trial_id (UNIQUE), proposal_index, decisions (JSON list), spec (JSON), status
  (`ok` | `stopped` (ASHA stopped it early; reward = last reported AP) | `nan_loss` | `oom` |
  `error`), reward, ap, ap50, ap75, aps, apm, apl (NULL where COCOeval has no value), flops
  (multiply-adds), params, train_seconds, images_per_second, epochs_done, error, replay (NULL for
  a trained trial, `hit` / `fallback` in replay mode), started_at, finished_at (ISO UTC),
  flops_pruned (1: flops/params leave out blocks that feed no output, as every row written since
  pruning does; NULL in rows of a store written before, which keep their counts: they are read
  with `flops_before_pruning` true where the spec has such blocks; a writer adds the column),
  provenance (JSON: git commit, settings hash and package versions of the training; NULL in
  rows of stores before schema version 1). The result columns come from `TrialResult`
  (`nas/store_schema.py`, which also holds the schema version and the upgrade of older stores).
- `proposals`: every suggestion handed to Ray (trial_id UNIQUE, proposal index, decisions, spec,
  controller meta), so a resumed driver knows what was in flight.
- `meta`: key -> JSON value: `config` (the resolved config), `provenance` (git commit, package
  versions, hardware), `replay` (hit/fallback counts in replay mode).
- `checkpoints`: controller `state_dict()` snapshots with the number of trials fed back so far,
  as compact bytes (`nas/checkpoint_codec.py`: typed arrays in an `.npz`, read without pickle);
  only the newest `KEEP_CHECKPOINTS` are kept (stores written before this format hold JSON text,
  which is still read).
- `retrains`: re-runs of a stored architecture with other seeds (`nas retrain`), each with
  its provenance.

Read API for the inspection verbs (safe while a search writes: readers use WAL snapshots):
`ResultsStore.open_readonly(path)` (context manager); `.trials()` all rows in feedback order
(dicts with the columns above, decisions/spec decoded); `.trial(trial_id)` one row;
`.trial_spec(trial_id | "best") -> ArchSpec`; `.leaderboard(limit=10)` rows by reward, best
first; `.summary()` counts, best trial, config and provenance; `.config()`; `.provenance()`;
`.latest_checkpoint()`; `.retrains(trial_id=None)`; `.pending_proposals()`.

Every SQLite failure (a damaged file, a full disk, a store that cannot be opened) becomes a
`StoreError` whose one line names the file, what went wrong and what to do; nothing is written
half: each write is one transaction. A store on read-only media opens for reading. A store of
a newer schema version than this code knows is refused with one line.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nas.checkpoint_codec import CheckpointFormatError, decode_state, encode_state
from nas.ranking import ranked
from nas.run_task import RunTask
from nas.store_errors import NoSuchTrialError, StoreError, sqlite_failure
from nas.store_schema import JSON_COLUMNS, TRIAL_COLUMNS, check_version, create_or_upgrade
from search_space.reachability import dead_features
from search_space.serialize import spec_from_dict
from search_space.spec import ArchSpec
from search_space.trial_result import TrialStatus

KEEP_CHECKPOINTS = 2  # controller checkpoints kept (the newest is the one read; one spare)

FAILED_STATUSES = tuple(s.value for s in TrialStatus if s.failed)
SUCCESS_STATUSES = tuple(s.value for s in TrialStatus if not s.failed)


def utc_now() -> str:
    """The current UTC time as an ISO-8601 string (seconds)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _decode_row(row: sqlite3.Row) -> dict:
    data = dict(row)
    for key in JSON_COLUMNS:
        if data.get(key) is not None:
            data[key] = json.loads(data[key])
    return data


def _has_dead_blocks(spec: dict | None) -> bool:
    return bool(spec) and bool(dead_features(spec_from_dict(spec)))


def _decode_proposal(row: sqlite3.Row) -> dict:
    data = dict(row)
    data.update(decisions=json.loads(row["decisions"]), spec=json.loads(row["spec"]))
    data["meta"] = json.loads(row["meta"]) if row["meta"] else {}
    return data


def _decode_retrain(row: sqlite3.Row) -> dict:
    data = {"provenance": None, **dict(row), "result": json.loads(row["result"])}
    data["provenance"] = data["provenance"] and json.loads(data["provenance"])
    return data


class ResultsStore:
    """One run's SQLite store. Writers use `ResultsStore(path)`; readers `open_readonly(path)`."""

    def __init__(self, path: str, readonly: bool = False):
        self.path = os.path.abspath(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = self._connect_readonly() if self.readonly else self._connect_writer()
        except sqlite3.Error as err:
            raise sqlite_failure(self.path, err, writing=not self.readonly) from None
        conn.row_factory = sqlite3.Row
        return conn

    def _connect_writer(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # a committed row survives a SIGKILL of the driver
        try:
            check_version(conn, self.path)
        except StoreError:
            conn.close()
            raise
        create_or_upgrade(conn)
        return conn

    def _connect_readonly(self) -> sqlite3.Connection:
        if not os.path.exists(self.path):
            raise StoreError(f"{self.path} does not exist; give the folder of a search run")
        folder = os.path.dirname(self.path)
        if not os.access(folder, os.W_OK) and not os.path.exists(self.path + "-wal"):
            # read-only media: SQLite cannot create the WAL index, and with no -wal file the main
            # file holds every commit, so it is read as an immutable file
            return sqlite3.connect(f"file:{self.path}?immutable=1", uri=True, check_same_thread=False)
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30, check_same_thread=False)

    @classmethod
    @contextmanager
    def open_readonly(cls, path: str) -> Iterator[ResultsStore]:
        """A read-only view of the store at `path` (safe while a search writes to it).

        Raises:
            StoreError: no file at `path`, or it is not a results store.
        """
        store = cls(path, readonly=True)
        try:
            store._check_schema()
            yield store
        finally:
            store.close()

    @staticmethod
    def is_blank(path: str) -> bool:
        """True when `path` is missing, empty, or an SQLite file without any table: a store whose
        search was killed before its schema was committed (it holds nothing to keep)."""
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            return True
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
            finally:
                conn.close()
        except sqlite3.Error:
            return False

    def _check_schema(self) -> None:
        try:
            self._conn.execute("SELECT seq FROM trials LIMIT 1").fetchall()
            check_version(self._conn, self.path)
        except sqlite3.OperationalError as err:
            if "no such table" in str(err) or "no such column" in str(err):
                raise StoreError(f"{self.path} is not a spinenet-nas results store") from None
            raise sqlite_failure(self.path, err, writing=False) from None
        except sqlite3.DatabaseError as err:
            if "not a database" in str(err):
                raise StoreError(f"{self.path} is not a spinenet-nas results store (not an SQLite file)") from None
            raise sqlite_failure(self.path, err, writing=False) from None

    def check_integrity(self) -> None:
        """SQLite's quick check of every page (a resume writes on top of the store: it must be whole).

        Raises:
            StoreError: the file is damaged (with the first problem SQLite names).
        """
        problems = [row[0] for row in self._query("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise sqlite_failure(self.path, sqlite3.DatabaseError(f"integrity check: {problems[0]}"), False)

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    # ---- writing --------------------------------------------------------------------------
    def _write(self, sql: str, params: tuple) -> int:
        return self._transaction([(sql, params)])[0]

    def _transaction(self, statements: list[tuple[str, tuple]]) -> list[int]:
        """Run statements in one transaction (all or nothing); their row counts."""
        try:
            with self._lock, self._conn:
                return [self._conn.execute(sql, params).rowcount for sql, params in statements]
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as err:
            raise sqlite_failure(self.path, err, writing=True) from None

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-able value under `key` (replacing any earlier one)."""
        self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, _dumps(value)))

    def add_proposal(self, trial_id: str, proposal_index: int, decisions, spec: dict, meta: dict) -> None:
        """Record a suggestion handed to Ray (ignored if the trial id is already recorded).

        Raises:
            sqlite3.IntegrityError: another trial already holds this proposal index.
        """
        sql = "INSERT INTO proposals VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (trial_id) DO NOTHING"
        self._write(sql, (trial_id, proposal_index, _dumps(list(decisions)), _dumps(spec), _dumps(meta), utc_now()))

    def reassign_proposal(self, old_trial_id: str, new_trial_id: str) -> None:
        """Hand a recorded, never-stored proposal to a new trial id (a resumed search re-proposes it)."""
        sql = "UPDATE proposals SET trial_id = ?, created_at = ? WHERE trial_id = ?"
        self._write(sql, (new_trial_id, utc_now(), old_trial_id))

    def commit_trial(self, row: dict) -> bool:
        """Insert one finished trial; returns False (and changes nothing) if its id is already stored.

        Raises:
            KeyError: `row` lacks trial_id or status.
            sqlite3.IntegrityError: another stored trial has the same proposal index.
        """
        values = [row.get(k) for k in TRIAL_COLUMNS]
        values[TRIAL_COLUMNS.index("flops_pruned")] = row.get("flops_pruned", 1)  # counted by this version
        for key in JSON_COLUMNS:
            i = TRIAL_COLUMNS.index(key)
            values[i] = None if values[i] is None else _dumps(values[i])
        values[TRIAL_COLUMNS.index("finished_at")] = row.get("finished_at") or utc_now()
        if row["trial_id"] is None or row["status"] is None:
            raise KeyError("a trial row needs trial_id and status")
        columns, marks = ", ".join(TRIAL_COLUMNS), ", ".join("?" * len(values))
        sql = f"INSERT INTO trials ({columns}) VALUES ({marks}) ON CONFLICT (trial_id) DO NOTHING"
        return self._write(sql, tuple(values)) == 1

    def save_checkpoint(self, state: dict, trials_fed: int) -> None:
        """Store a controller `state_dict()` taken after `trials_fed` rewards were fed back, as
        compact bytes, and drop all but the newest `KEEP_CHECKPOINTS` (one transaction)."""
        prune = "DELETE FROM checkpoints WHERE seq NOT IN (SELECT seq FROM checkpoints ORDER BY seq DESC LIMIT ?)"
        insert = "INSERT INTO checkpoints (trials_fed, state, created_at) VALUES (?, ?, ?)"
        # pruning first lets the insert reuse the freed pages: the file never holds more than KEEP
        self._transaction([(prune, (KEEP_CHECKPOINTS - 1,)), (insert, (trials_fed, encode_state(state), utc_now()))])

    def add_retrain(self, trial_id: str, seed: int, proxy: str, result: dict, provenance: dict | None = None) -> None:
        """Record one re-training of a stored trial's architecture with `seed` (`result`: its flat
        result; `provenance`: where the training came from, `proxy_trainer.provenance`)."""
        sql = ("INSERT INTO retrains (trial_id, seed, proxy, status, ap, result, created_at, provenance) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        dumped = None if provenance is None else _dumps(provenance)
        self._write(sql, (trial_id, seed, proxy, result.get("status"), result.get("ap"), _dumps(result), utc_now(),
                          dumped))

    # ---- reading --------------------------------------------------------------------------
    def _query(self, sql: str, params: tuple = (), decode=None) -> list:
        """Rows of a query, each passed through `decode` if given; damage becomes a StoreError."""
        try:
            with self._lock:
                rows = self._conn.execute(sql, params).fetchall()
            return rows if decode is None else [decode(r) for r in rows]
        except sqlite3.Error as err:
            raise sqlite_failure(self.path, err, writing=False) from None
        except (ValueError, TypeError) as err:  # a stored JSON value that no longer parses
            raise sqlite_failure(self.path, sqlite3.DatabaseError(f"a stored value is not JSON ({err})"), False) from None

    def meta(self, key: str, default: Any = None) -> Any:
        """The JSON value stored under `key`, or `default`."""
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,), decode=lambda r: json.loads(r["value"]))
        return rows[0] if rows else default

    def config(self) -> dict:
        """The resolved config the run was started with ({} if none was stored)."""
        return self.meta("config", {})

    def provenance(self) -> dict:
        """Git commit, package versions and hardware of the run ({} if none was stored)."""
        return self.meta("provenance", {})

    @staticmethod
    def _decode_trial(row: sqlite3.Row) -> dict:
        """A trial row with its JSON decoded and `flops_before_pruning` (see the `trials` table)."""
        data = _decode_row(row)
        data.setdefault("provenance", None)  # a store before schema version 1, opened for reading
        data["flops_before_pruning"] = not data.get("flops_pruned") and _has_dead_blocks(data.get("spec"))
        return data

    def trials(self) -> list[dict]:
        """Every stored trial row, in the order rewards were fed to the controller."""
        return self._query("SELECT * FROM trials ORDER BY seq", decode=self._decode_trial)

    def count_trials(self) -> int:
        """How many trials are stored."""
        return self._query("SELECT COUNT(*) AS n FROM trials")[0]["n"]

    def trial(self, trial_id: str) -> dict:
        """One trial row.

        Raises:
            StoreError: no trial with that id (the message lists a few known ids).
        """
        rows = self._query("SELECT * FROM trials WHERE trial_id = ?", (trial_id,), decode=self._decode_trial)
        if not rows:
            known = [r["trial_id"] for r in self._query("SELECT trial_id FROM trials ORDER BY seq LIMIT 5")]
            hint = f"known: {', '.join(known)}, ..." if known else "the run has no finished trials yet"
            raise NoSuchTrialError(f"no trial '{trial_id}' in {self.path}; {hint} (or 'best')")
        return rows[0]

    def best_trial(self) -> dict:
        """The successful (ok or stopped) row with the highest reward (earliest on ties).

        Raises:
            StoreError: the run has no trial with a reward.
        """
        sql = f"SELECT * FROM trials WHERE status IN {SUCCESS_STATUSES} AND reward IS NOT NULL ORDER BY reward DESC, seq LIMIT 1"
        rows = self._query(sql, decode=self._decode_trial)
        if not rows:
            raise NoSuchTrialError(f"{self.path} has no successfully trained trial yet")
        return rows[0]

    def trial_spec(self, trial_id: str) -> ArchSpec:
        """The architecture of a stored trial, or of the best one for 'best'.

        Raises:
            StoreError: unknown trial id, or no trials for 'best'.
        """
        row = self.best_trial() if trial_id == "best" else self.trial(trial_id)
        return spec_from_dict(row["spec"], default_name=f"trial-{row['trial_id']}")

    def leaderboard(self, limit: int | None = 10) -> list[dict]:
        """Trial rows with a reward, best first (`nas.ranking.ranked`); `limit=None` for all."""
        return ranked(self.trials(), limit)

    def summary(self) -> dict:
        """Counts (trials, ok, stopped, failed by status), best trial id/reward/ap, its value of the
        task's reward metric (`best_metric`, named by `reward_metric`), config, provenance."""
        counts = {r["status"]: r["n"] for r in self._query("SELECT status, COUNT(*) AS n FROM trials GROUP BY status")}
        total = sum(counts.values())
        best = self._best_or_none()
        config = self.config()
        task = RunTask.of_config(config)
        return {
            "trials": total,
            "requested": config.get("trials"),
            "statuses": counts,
            "failed": sum(counts.get(s, 0) for s in FAILED_STATUSES),
            "best_trial": best and best["trial_id"],
            "best_reward": best and best["reward"],
            "best_ap": best and best["ap"],
            "reward_metric": task.reward_metric,
            "best_metric": task.value(best),
            "replay": self.meta("replay"),
            "screened": self.count_screened(),
            "config": config,
            "provenance": self.provenance(),
        }

    def _best_or_none(self) -> dict | None:
        try:
            return self.best_trial()
        except NoSuchTrialError:
            return None

    def latest_checkpoint(self) -> dict | None:
        """The newest readable controller checkpoint as {'trials_fed', 'state', 'created_at'}, or None.

        Raises:
            StoreError: checkpoints are stored but none of them can be read.
        """
        rows = self._query("SELECT * FROM checkpoints ORDER BY seq DESC")
        for row in rows:
            try:
                state = self._decode_checkpoint(row["state"])
            except StoreError:
                continue  # damaged: the spare one before it serves
            return {"trials_fed": row["trials_fed"], "state": state, "created_at": row["created_at"]}
        if rows:
            raise StoreError(f"{self.path}: no controller checkpoint can be read; restore a copy of the run folder")
        return None

    def _decode_checkpoint(self, state: bytes | str) -> dict:
        try:
            if isinstance(state, str):  # stores written before checkpoints were bytes hold JSON text
                return json.loads(state)
            return decode_state(state)
        except (CheckpointFormatError, ValueError) as err:
            raise StoreError(f"{self.path}: a controller checkpoint cannot be read ({err})") from None

    def pending_proposals(self) -> list[dict]:
        """Proposals handed to Ray whose trial has no stored row yet, oldest first."""
        sql = "SELECT * FROM proposals WHERE trial_id NOT IN (SELECT trial_id FROM trials) ORDER BY proposal_index"
        return self._query(sql, decode=_decode_proposal)

    def proposal(self, trial_id: str) -> dict | None:
        """The recorded proposal of `trial_id`, or None."""
        rows = self._query("SELECT * FROM proposals WHERE trial_id = ?", (trial_id,), decode=_decode_proposal)
        return rows[0] if rows else None

    def max_proposal_index(self) -> int:
        """The highest proposal index handed out or screened out so far (-1 if none)."""
        row = self._query("SELECT MAX(proposal_index) AS m FROM proposals")[0]
        handed = -1 if row["m"] is None else row["m"]
        if not self._has_table("screened"):
            return handed
        row = self._query("SELECT MAX(proposal_index) AS m FROM screened")[0]
        return max(handed, -1 if row["m"] is None else row["m"])

    def add_screened(self, chosen_trial_id: str, proposals: list[tuple[int, list, dict, float]]) -> None:
        """Record the proposals a predictor screen did not train, as (proposal index, decisions,
        spec, predicted reward), with the trial chosen in their place (one transaction)."""
        sql = "INSERT OR IGNORE INTO screened VALUES (?, ?, ?, ?, ?, ?)"
        now = utc_now()
        self._transaction([(sql, (index, _dumps(list(decisions)), _dumps(spec), predicted, chosen_trial_id, now))
                           for index, decisions, spec, predicted in proposals])

    def screened(self) -> list[dict]:
        """The screened-out proposals, by proposal index (none in a store without the table)."""
        if not self._has_table("screened"):
            return []
        return self._query("SELECT * FROM screened ORDER BY proposal_index", decode=_decode_row)

    def count_screened(self) -> int:
        """How many proposals a predictor screen set aside (0 in a store without the table)."""
        if not self._has_table("screened"):
            return 0
        return self._query("SELECT COUNT(*) AS n FROM screened")[0]["n"]

    def _has_table(self, name: str) -> bool:
        return bool(self._query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def retrains(self, trial_id: str | None = None) -> list[dict]:
        """Re-training rows (all, or of one trial), oldest first; `result` decoded."""
        sql, params = "SELECT * FROM retrains ORDER BY seq", ()
        if trial_id is not None:
            sql, params = "SELECT * FROM retrains WHERE trial_id = ? ORDER BY seq", (trial_id,)
        return self._query(sql, params, decode=_decode_retrain)
