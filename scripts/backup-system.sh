#!/usr/bin/env bash
# Back up Halcytone into one archive, BACKUP_DIR/halcytone-backup-<time>.tar.gz (mode 0600:
# it holds keys): the database, the data directory's files that matter, the DKIM keys and .env.
#
# Usage: scripts/backup-system.sh [--output-dir DIR] [--database-url URL] [--env-file FILE]
#                                 [--dkim-dir DIR] [--format custom|plain] [--help]
#
#   database   SQLite (DATABASE_URL sqlite://…, the default): SQLite's online backup, a
#              consistent copy while the services run, checked with PRAGMA integrity_check.
#              PostgreSQL (postgres://…): pg_dump, custom format (pg_restore) or plain SQL (psql).
#   data dir   HALCYTONE_DATA_DIR's files (api-key.txt, *.secret, …) and the mocks' capture
#              databases (online backup too); not the lock, -wal or -shm files.
#   DKIM       the dkim/ folder of the repository root (or --dkim-dir DIR) and DKIM_PRIVATE_KEY_FILE.
#   .env       the repository's .env (or --env-file FILE), when present.
#
# BACKUP_DIR defaults to ./backups; DATABASE_URL and HALCYTONE_DATA_DIR come from the
# environment or .env (defaults in scripts/lib.sh). Prints the archive's path, its contents
# and the row count of every table. Restore with scripts/restore-backup.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
out_dir="$BACKUP_DIR" url="$(database_url)" env_file="$ROOT/.env" dkim_dir="$ROOT/dkim" format=custom
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --output-dir) [ $# -ge 2 ] || usage_error "--output-dir needs a directory"; out_dir="$2"; shift ;;
    --database-url) [ $# -ge 2 ] || usage_error "--database-url needs a URL"; url="$2"; shift ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; env_file="$2"; shift ;;
    --dkim-dir) [ $# -ge 2 ] || usage_error "--dkim-dir needs a directory"; dkim_dir="$2"; shift ;;
    --format)
      [ $# -ge 2 ] || usage_error "--format needs custom or plain"
      case "$2" in custom | plain) format="$2" ;; *) usage_error "unknown format: $2 (custom or plain)" ;; esac
      shift ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
umask 077
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="halcytone-backup-$stamp"
mkdir -p "$out_dir"
n=1
while [ -e "$out_dir/$name.tar.gz" ]; do n=$((n + 1)); name="halcytone-backup-$stamp-$n"; done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/database"
redacted="$(sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' <<<"$url")"

# --- the database -----------------------------------------------------------------------------
case "$url" in
  sqlite:*)
    db="$(sqlite_path "$url")"
    [ -f "$db" ] || { echo "no database at $db (DATABASE_URL=$redacted): nothing to back up" >&2; exit 1; }
    python3 "$ROOT/scripts/sqlite_backup.py" copy "$db" "$stage/database/halcytone.db" >"$stage/database/counts.txt"
    kind=sqlite file=database/halcytone.db
    ;;
  postgres://* | postgresql://*)
    command -v pg_dump >/dev/null || { echo "pg_dump not found: apt-get install postgresql-client" >&2; exit 1; }
    if [ "$format" = custom ]; then
      file=database/halcytone.dump
      pg_dump --format=custom --no-owner --no-privileges --file="$stage/$file" --dbname="$url"
    else
      file=database/halcytone.sql
      pg_dump --format=plain --clean --if-exists --no-owner --no-privileges --file="$stage/$file" --dbname="$url"
    fi
    pg_counts "$url" >"$stage/database/counts.txt"
    kind=postgres
    ;;
  *) echo "DATABASE_URL=$redacted: use sqlite://PATH or postgres://…" >&2; exit 1 ;;
esac

# --- the data directory, DKIM keys, .env --------------------------------------------------------
mkdir -p "$stage/data"
main_db="$(sqlite_path "$url" 2>/dev/null || true)"
if [ -d "$DATA_DIR" ]; then
  for f in "$DATA_DIR"/*; do
    [ -f "$f" ] || continue
    base="$(basename "$f")"
    case "$base" in
      halcytone.lock | *-wal | *-shm | *-journal) continue ;;
    esac
    [ "$f" = "$main_db" ] && continue
    if [[ "$base" == *.db ]]; then
      python3 "$ROOT/scripts/sqlite_backup.py" copy "$f" "$stage/data/$base" >/dev/null
    else
      cp -p "$f" "$stage/data/$base"
    fi
  done
fi
if [ -d "$dkim_dir" ]; then cp -rp "$dkim_dir" "$stage/dkim"; fi
dkim_file="$(config_value DKIM_PRIVATE_KEY_FILE)"
if [ -n "$dkim_file" ]; then
  dkim_file="$(under_root "$dkim_file")"
  if [ -f "$dkim_file" ] && [[ "$dkim_file" != "$dkim_dir/"* ]] && [[ "$dkim_file" != "$DATA_DIR/"* ]]; then
    mkdir -p "$stage/dkim-key"
    cp -p "$dkim_file" "$stage/dkim-key/$(basename "$dkim_file")"
  else
    dkim_file=""
  fi
fi
if [ -f "$env_file" ]; then mkdir -p "$stage/env" && cp -p "$env_file" "$stage/env/.env"; fi

{
  echo "created=$stamp"
  echo "host=$(hostname)"
  echo "version=$("$(halcytone_bin 2>/dev/null || echo false)" --version 2>/dev/null || echo unknown)"
  echo "database_kind=$kind"
  echo "database_file=$file"
  echo "database_url=$redacted"
  echo "data_dir=$DATA_DIR"
  echo "dkim_key_file=$dkim_file"
} >"$stage/MANIFEST"

archive="$out_dir/$name.tar.gz"
tar -czf "$archive" -C "$work" "$name"
echo "backup written: $archive ($(du -h "$archive" | cut -f1))"
echo "database ($kind, $redacted): $file"
sed 's/^/  /' "$stage/database/counts.txt"
echo "files:"
(cd "$stage" && find . -mindepth 2 -type f ! -path './database/*' | sed 's#^\./#  #' | sort)
