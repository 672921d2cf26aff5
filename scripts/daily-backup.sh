#!/usr/bin/env bash
# For cron: one backup (scripts/backup-system.sh), then delete the archives of this script
# older than the retention, and append one line to LOG_DIR/backup.log. Exit 1 when the
# backup fails (the old archives are then kept).
#
# Usage: scripts/daily-backup.sh [--keep-days N] [--env-file FILE] [--dkim-dir DIR] [--help]
#
#   0 2 * * * /path/to/halcytone/scripts/daily-backup.sh
#
#   --keep-days N   retention in days (default BACKUP_RETENTION_DAYS, else 30); only
#                   BACKUP_DIR/halcytone-backup-*.tar.gz files are ever deleted
#   --env-file, --dkim-dir   passed to scripts/backup-system.sh
#
# BACKUP_DIR defaults to ./backups; everything else as for scripts/backup-system.sh.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
keep="$(config_value BACKUP_RETENTION_DAYS 30)" backup_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --keep-days) [ $# -ge 2 ] || usage_error "--keep-days needs a number"; keep="$2"; shift ;;
    --env-file | --dkim-dir) [ $# -ge 2 ] || usage_error "$1 needs a value"; backup_args+=("$1" "$2"); shift ;;
    -*) usage_error "unknown option: $1" ;;
    *) usage_error "unexpected argument: $1" ;;
  esac
  shift
done
[[ "$keep" =~ ^[0-9]+$ ]] || usage_error "--keep-days needs a whole number of days, not '$keep'"
mkdir -p "$LOG_DIR"
log="$LOG_DIR/backup.log"
stamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }

if ! out="$("$ROOT/scripts/backup-system.sh" "${backup_args[@]}" 2>&1)"; then
  echo "$(stamp) backup FAILED: $(tail -n 1 <<<"$out")" >>"$log"
  echo "$out" >&2
  exit 1
fi
archive="$(sed -n 's/^backup written: \([^ ]*\).*/\1/p' <<<"$out")"
removed=0
while IFS= read -r old; do
  rm -f -- "$old" && removed=$((removed + 1)) && echo "removed $old (older than $keep days)"
done < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name 'halcytone-backup-*.tar.gz' -mtime "+$keep")
echo "$(stamp) backup ok: $archive; $removed archive(s) older than $keep days removed" >>"$log"
echo "backup ok: $archive; $removed archive(s) older than $keep days removed"
