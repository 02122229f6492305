//! The history file's schema and its migrations. `PRAGMA user_version` holds the schema version;
//! each migration runs once, in its own immediate transaction, so parallel jobs that open a new
//! file at the same moment apply it exactly once.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// How long a writer waits for another process's lock before giving up. Parallel CI jobs append
/// one run each, a few milliseconds of writing, so a minute is ample.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The migrations in order: entry `i` takes the schema from version `i` to `i + 1`.
/// docs/HISTORY.md documents the resulting tables.
const MIGRATIONS: &[&str] = &["CREATE TABLE runs (
        id             INTEGER PRIMARY KEY,
        run_id         TEXT NOT NULL,
        started_at     TEXT NOT NULL,
        recorded_at    TEXT NOT NULL,
        commit_sha     TEXT,
        branch         TEXT,
        commit_time    TEXT,
        tool_version   TEXT NOT NULL,
        provider       TEXT NOT NULL,
        model          TEXT NOT NULL,
        endpoint       TEXT NOT NULL,
        dataset        TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        prompts        INTEGER NOT NULL,
        price_source   TEXT NOT NULL,
        run_json       TEXT NOT NULL
    );
    CREATE INDEX runs_by_branch ON runs (branch, dataset_sha256, id);
    CREATE TABLE strategy_results (
        run       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        strategy  TEXT NOT NULL,
        summary   TEXT NOT NULL,
        PRIMARY KEY (run, strategy)
    );"];

/// The schema version this batchbench writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Wraps a SQLite error with the file it concerns.
pub fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::History(format!("{}: history database: {e}", path.display()))
}

/// Opens (creating when absent) a history file in WAL mode with a busy timeout, and brings its
/// schema up to [`SCHEMA_VERSION`]. A file from a newer batchbench is refused, not rewritten.
pub fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut conn = Connection::open(path).map_err(|e| db_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(path, e))?;
    use_wal(&conn).map_err(|e| db_error(path, e))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(|e| db_error(path, e))?;
    migrate(&mut conn).map_err(|e| db_error(path, e))?;
    let version = user_version(&conn).map_err(|e| db_error(path, e))?;
    if version > SCHEMA_VERSION {
        return Err(Error::History(format!(
            "{}: history schema version {version}, but this batchbench knows up to {SCHEMA_VERSION}; use a newer batchbench",
            path.display()
        )));
    }
    Ok(conn)
}

/// Puts the file in WAL mode (a property of the file, so only its first opener converts it).
/// The conversion needs the file to itself, and SQLite does not run the busy handler for it: two
/// processes opening a new history at once could fail with "database is locked" however long the
/// busy timeout. So the mode is read first, and a refused conversion is tried again, with a
/// growing pause, until it succeeds, another opener has done it, or the busy timeout is spent.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let mode = |c: &Connection| -> rusqlite::Result<String> {
        c.query_row("PRAGMA journal_mode", [], |r| r.get(0))
    };
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        if mode(conn)?.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        let out_of_time = started.elapsed() >= BUSY_TIMEOUT;
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(e) if !is_busy(&e) || out_of_time => return Err(e),
            // A refusal without an error leaves the file in rollback mode, which still works.
            Ok(()) if out_of_time => return Ok(()),
            Ok(()) if mode(conn)?.eq_ignore_ascii_case("wal") => return Ok(()),
            _ => {}
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(200));
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies the missing migrations, re-reading the version inside each write transaction so
/// that two processes never apply the same one.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version = user_version(&tx)?;
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return tx.commit();
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_gets_every_migration_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/h.sqlite");
        let conn = open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(conn);
        let conn = open(&path).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('runs', 'strategy_results')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 2);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.sqlite");
        let conn = open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let e = open(&path).unwrap_err().to_string();
        assert!(e.contains("use a newer batchbench"), "{e}");
    }
}
