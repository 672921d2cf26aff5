#!/usr/bin/env bash
# Check Halcytone's configuration (the environment and .env in the repository root) the way
# `halcytone serve` reads it: every bad value with its name and why, secrets hidden, and
# production's stricter rules. Exit 1 on any error.
#
# Usage: scripts/check-configuration.sh [--connect] [--help]
#
#   scripts/check-configuration.sh            # values only
#   scripts/check-configuration.sh --connect  # also open the database and call the CRM and Platform
set -euo pipefail
source "$(dirname "$0")/lib.sh"
args=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --connect) args+=(--connect) ;;
    -*) usage_error "unknown option: $arg" ;;
    *) usage_error "unexpected argument: $arg" ;;
  esac
done
cd "$ROOT"
exec "$(halcytone_bin)" config check "${args[@]}"
