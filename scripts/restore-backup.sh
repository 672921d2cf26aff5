#!/usr/bin/env bash
# Restore an archive of scripts/backup-system.sh: verify it, then put back the database,
# the data directory's files, the DKIM keys and .env. Refuses to replace anything that
# exists without --force (what it replaces is kept beside it as NAME.before-restore-<time>),
# and refuses while a Halcytone server uses the database (stop it first:
# scripts/stop-all-services.sh).
#
# Usage: scripts/restore-backup.sh [ARCHIVE|latest] [--force] [--verify-only]
#                                  [--database-url URL] [--env-file FILE] [--dkim-dir DIR] [--help]
#
#   ARCHIVE        a halcytone-backup-*.tar.gz; default (or "latest"): the newest in BACKUP_DIR
#   --force        replace the database and files that exist
#   --verify-only  check the archive (SQLite integrity check, row counts) and restore nothing
#   --env-file     where .env goes (default the repository's .env)
#   --dkim-dir     where the dkim/ folder goes (default the repository's dkim/)
#
# Verification: SQLite's PRAGMA integrity_check on the copy, and after the restore the row
# count of every table, printed and compared with the counts taken at backup time.
# DATABASE_URL and HALCYTONE_DATA_DIR say where to restore (environment or .env; defaults
# in scripts/lib.sh); the database must be of the archive's kind (SQLite or PostgreSQL).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
archive="" force=0 verify_only=0 url="$(database_url)" env_file="$ROOT/.env" dkim_dir="$ROOT/dkim"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --force) force=1 ;;
    --verify-only) verify_only=1 ;;
    --database-url) [ $# -ge 2 ] || usage_error "--database-url needs a URL"; url="$2"; shift ;;
    --env-file) [ $# -ge 2 ] || usage_error "--env-file needs a file"; env_file="$2"; shift ;;
    --dkim-dir) [ $# -ge 2 ] || usage_error "--dkim-dir needs a directory"; dkim_dir="$2"; shift ;;
    -*) usage_error "unknown option: $1" ;;
    *) [ -z "$archive" ] || usage_error "one archive at most"; archive="$1" ;;
  esac
  shift
done
if [ -z "$archive" ] || [ "$archive" = latest ]; then
  archive="$(find "$BACKUP_DIR" -maxdepth 1 -type f -name 'halcytone-backup-*.tar.gz' -printf '%T@ %p\n' 2>/dev/null |
    sort -n | tail -n 1 | cut -d' ' -f2-)"
  [ -n "$archive" ] || { echo "no backup in $BACKUP_DIR (make one with scripts/backup-system.sh, or name the archive)" >&2; exit 1; }
fi
[ -f "$archive" ] || { echo "$archive: no such archive" >&2; exit 1; }
fail() { echo "restore: $*" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work" || fail "$archive is not a readable tar.gz archive"
manifest="$(find "$work" -mindepth 2 -maxdepth 2 -name MANIFEST | head -1)"
[ -n "$manifest" ] || fail "$archive holds no MANIFEST: not an archive of scripts/backup-system.sh"
src="$(dirname "$manifest")"
field() { sed -n "s/^$1=//p" "$manifest" | head -1; }
kind="$(field database_kind)" file="$(field database_file)"
echo "archive $archive (created $(field created) on $(field host), $(field version))"

# --- verify the archive -----------------------------------------------------------------------
[ -f "$src/$file" ] || fail "the archive lacks its database file $file"
case "$kind" in
  sqlite)
    python3 "$ROOT/scripts/sqlite_backup.py" check "$src/$file" >"$work/counts.now" || fail "the archived database fails its integrity check"
    cmp -s "$work/counts.now" "$src/database/counts.txt" || fail "the archived database's row counts differ from those taken at backup time"
    echo "database (SQLite): integrity check ok" ;;
  postgres)
    if [[ "$file" == *.dump ]]; then
      command -v pg_restore >/dev/null || fail "pg_restore not found: apt-get install postgresql-client"
      pg_restore --list "$src/$file" >/dev/null || fail "pg_restore cannot read $file"
    else
      tail -n 5 "$src/$file" | grep -q "PostgreSQL database dump complete" || fail "$file is not a complete pg_dump"
    fi
    echo "database (PostgreSQL): dump readable" ;;
  *) fail "unknown database kind '$kind' in the MANIFEST" ;;
esac
echo "rows per table at backup time:"
sed 's/^/  /' "$src/database/counts.txt"
if [ "$verify_only" = 1 ]; then
  echo "archive verified; nothing restored (--verify-only)"
  exit 0
fi

# --- where it goes, and what is in the way -----------------------------------------------------
redacted="$(sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#' <<<"$url")"
case "$url" in
  sqlite:*) [ "$kind" = sqlite ] || fail "the archive holds a PostgreSQL dump; DATABASE_URL=$redacted is SQLite" ;;
  postgres://* | postgresql://*) [ "$kind" = postgres ] || fail "the archive holds a SQLite database; DATABASE_URL=$redacted is PostgreSQL" ;;
  *) fail "DATABASE_URL=$redacted: use sqlite://PATH or postgres://…" ;;
esac
for name in api crm-mock platform-mock; do
  if pid="$(pid_alive "$LOG_DIR/$name.pid")"; then
    fail "$name is running (pid $pid): stop the services first (scripts/stop-all-services.sh)"
  fi
done
targets=() # "archived file|destination" pairs
if [ "$kind" = sqlite ]; then
  db="$(sqlite_path "$url")"
  if [ -f "$(dirname "$db")/halcytone.lock" ] && ! flock -n "$(dirname "$db")/halcytone.lock" true; then
    fail "a Halcytone server holds $(dirname "$db")/halcytone.lock: stop it first"
  fi
  targets+=("$src/$file|$db")
fi
for f in "$src"/data/*; do [ -f "$f" ] && targets+=("$f|$DATA_DIR/$(basename "$f")"); done
if [ -d "$src/dkim" ]; then
  while IFS= read -r f; do targets+=("$f|$dkim_dir/${f#"$src/dkim/"}"); done < <(find "$src/dkim" -type f)
fi
dkim_key="$(field dkim_key_file)"
for f in "$src"/dkim-key/*; do [ -f "$f" ] && [ -n "$dkim_key" ] && targets+=("$f|$dkim_key"); done
if [ -f "$src/env/.env" ]; then targets+=("$src/env/.env|$env_file"); fi

conflicts=()
for t in "${targets[@]}"; do
  dest="${t#*|}"
  if [ -e "$dest" ]; then conflicts+=("$dest"); fi
done
if [ "$kind" = postgres ]; then
  tables="$(psql --no-psqlrc -qAt --dbname="$url" -c "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")" ||
    fail "cannot connect to $redacted"
  if [ "$tables" != 0 ]; then conflicts+=("$redacted ($tables tables)"); fi
fi
if [ "${#conflicts[@]}" -gt 0 ] && [ "$force" = 0 ]; then
  echo "restore: these exist and would be replaced:" >&2
  printf '  %s\n' "${conflicts[@]}" >&2
  fail "refusing to overwrite without --force"
fi

# --- restore -----------------------------------------------------------------------------------
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
umask 077
put() { # put FROM TO: TO moved aside when it exists, FROM copied in its place
  local from="$1" to="$2" x
  mkdir -p "$(dirname "$to")"
  for x in "$to" "$to-wal" "$to-shm"; do
    if [ -e "$x" ]; then
      mv "$x" "$x.before-restore-$stamp"
      echo "kept the previous $(basename "$x") as $x.before-restore-$stamp"
    fi
  done
  cp -p "$from" "$to.restoring-$stamp"
  mv "$to.restoring-$stamp" "$to"
}
if [ "$kind" = postgres ]; then
  if [[ "$file" == *.dump ]]; then
    pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
      --dbname="$url" "$src/$file" || fail "pg_restore failed; the database is as it was (one transaction)"
  else
    psql --no-psqlrc -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$url" -f "$src/$file" >/dev/null ||
      fail "psql failed; the database is as it was (one transaction)"
  fi
  echo "database restored into $redacted"
fi
for t in "${targets[@]}"; do
  put "${t%%|*}" "${t#*|}"
  echo "restored ${t#*|}"
done

# --- check what was restored ----------------------------------------------------------------
if [ "$kind" = sqlite ]; then
  python3 "$ROOT/scripts/sqlite_backup.py" check "$db" >"$work/counts.after" || fail "the restored database fails its integrity check"
else
  pg_counts "$url" >"$work/counts.after"
fi
if ! cmp -s "$work/counts.after" "$src/database/counts.txt"; then
  diff "$src/database/counts.txt" "$work/counts.after" >&2 || true
  fail "the restored database's row counts differ from the backup's (above: < backup, > restored)"
fi
echo "restore complete: every table has the row count it had at backup time"
