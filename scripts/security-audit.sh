#!/usr/bin/env bash
# Security audit of this checkout:
#  1. committed secrets: token and key patterns in tracked files and in the whole git history,
#     and any tracked .env file;
#  2. dependency licenses and bans with `cargo deny check licenses bans` (deny.toml) when
#     cargo-deny is installed (`cargo install cargo-deny --locked`); advisories need the
#     network and are left to `cargo deny check advisories` where it is available;
#  3. the production configuration: `halcytone config check` with ENVIRONMENT=production,
#     which refuses placeholder secrets, CORS "*", dry run and the mock services;
#  4. .gitignore covers .env, data/ and logs/.
# Exit 1 on any finding.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
findings=0
finding() { echo "FINDING  $*"; findings=$((findings + 1)); }
ok() { echo "ok       $*"; }

# Patterns of real credentials (not the words "key" or "secret" in prose).
patterns='(AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|xox[baprs]-[0-9A-Za-z-]{10,}|ghp_[0-9A-Za-z]{36}|sk-[0-9A-Za-z]{32,}|hk_[0-9a-f]{64}|hk_dev_[0-9a-f]{32}|secret_[0-9A-Za-z]{32,}|AIza[0-9A-Za-z_-]{35})'

echo "== 1. secrets in tracked files and history"
if hits="$(git grep -nIE "$patterns" -- . ':!scripts/security-audit.sh' 2>/dev/null)"; [ -n "$hits" ]; then
  finding "credential-like strings in tracked files:"; echo "$hits" | head -20
else
  ok "no credential patterns in tracked files"
fi
if hist="$(git log -p --all -G"$patterns" --format='commit %h %s' -- . ':!scripts/security-audit.sh' 2>/dev/null | grep -E "^commit|$patterns" | head -20)"; [ -n "$hist" ]; then
  finding "credential-like strings in git history:"; echo "$hist"
else
  ok "no credential patterns in git history ($(git rev-list --all --count) commits)"
fi
if envs="$(git ls-files | grep -E '(^|/)\.env(\..*)?$' | grep -v '\.env\.example$')"; [ -n "$envs" ]; then
  finding "tracked .env files: $envs"
else
  ok "no .env file is tracked (only .env.example)"
fi

echo "== 2. dependency licenses and bans"
if command -v cargo-deny >/dev/null 2>&1; then
  if cargo deny check licenses bans; then ok "cargo deny: licenses and bans"; else finding "cargo deny check licenses bans failed"; fi
  echo "note: run 'cargo deny check advisories' where the advisory database can be fetched (needs the network)"
else
  echo "skip     cargo-deny is not installed (cargo install cargo-deny --locked); deny.toml lists the allowed licenses"
fi

echo "== 3. production configuration"
BIN="$(halcytone_bin 2>/dev/null || true)"
if [ -n "$BIN" ]; then
  out="$(ENVIRONMENT=production "$BIN" config check 2>&1)"; rc=$?
  echo "$out" | sed 's/^/         /'
  if [ $rc -ne 0 ]; then finding "this environment is not fit for production (see the errors above)"; else ok "production configuration"; fi
else
  echo "skip     no halcytone binary (cargo build --release)"
fi

echo "== 4. .gitignore"
for p in .env data/ logs/; do
  probe="$p"; [ "${p%/}" != "$p" ] && probe="${p}probe"
  if git check-ignore -q "$probe"; then ok ".gitignore covers $p"; else finding ".gitignore does not cover $p"; fi
done

echo
if [ "$findings" -eq 0 ]; then echo "security audit: no findings"; else echo "security audit: $findings finding(s)"; exit 1; fi
