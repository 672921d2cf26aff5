#!/usr/bin/env python3
"""SQLite helpers of backup-system.sh and restore-backup.sh (standard library only).

  scripts/sqlite_backup.py copy SRC DST   online backup of SRC into DST (SQLite's backup API:
                                          a consistent copy even while a server writes to SRC),
                                          then DST as one file (journal_mode DELETE), checked
  scripts/sqlite_backup.py check DB       PRAGMA integrity_check, then "table rows" per table

Both print "table rows" lines for every table and exit 1 when the integrity check fails.
"""

import argparse
import os
import sqlite3
import sys


def counts(conn):
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return [(t, conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables]


def check(conn, label):
    result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if result != ["ok"]:
        print(f"{label}: integrity check failed: {'; '.join(result[:5])}", file=sys.stderr)
        return False
    for table, n in counts(conn):
        print(f"{table} {n}")
    return True


def copy(src, dst):
    if not os.path.isfile(src):
        print(f"{src}: no such database", file=sys.stderr)
        return 1
    if os.path.exists(dst):
        print(f"{dst}: exists; not replaced", file=sys.stderr)
        return 1
    # A normal connection: reading through SQLite's locks is what makes the copy consistent.
    source = sqlite3.connect(src, timeout=30)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = DELETE")
        return 0 if check(target, dst) else 1
    finally:
        target.close()
        source.close()


def check_file(db):
    if not os.path.isfile(db):
        print(f"{db}: no such database", file=sys.stderr)
        return 1
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return 0 if check(conn, db) else 1
    except sqlite3.DatabaseError as e:
        print(f"{db}: not a usable SQLite database: {e}", file=sys.stderr)
        return 1
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("copy", help="online backup of SRC into DST")
    c.add_argument("src")
    c.add_argument("dst")
    k = sub.add_parser("check", help="integrity check and row counts of DB")
    k.add_argument("db")
    args = p.parse_args()
    return copy(args.src, args.dst) if args.command == "copy" else check_file(args.db)


if __name__ == "__main__":
    sys.exit(main())
