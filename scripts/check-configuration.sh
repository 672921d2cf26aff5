#!/usr/bin/env bash
# Check Halcytone's configuration (the environment and .env in this folder) the way
# `halcytone serve` reads it: every bad value with its name and why, secrets hidden, and
# production's stricter rules. Exit 1 on any error.
#
#   scripts/check-configuration.sh            # values only
#   scripts/check-configuration.sh --connect  # also open the database and call the CRM and Platform
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
exec "$(halcytone_bin)" config check "$@"
