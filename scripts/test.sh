#!/usr/bin/env bash
# The test command: installs the Go tools the tests talk to (Mailpit as the
# SMTP peer, stripe-mock as the Stripe peer) when they are missing, then runs
# every test with the race detector. Tests that need PostgreSQL, Redis or
# Chromium skip with a clear message when those are missing, unless
# KIOSKO_REQUIRE_SERVICES=1 (CI sets it), where they fail instead.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$(go env GOPATH)/bin:$PATH"
command -v mailpit >/dev/null || go install github.com/axllent/mailpit@v1.33.1
command -v stripe-mock >/dev/null || go install github.com/stripe/stripe-mock@v0.203.0

# Local services the scale-out tests use (see docs/deploy.md).
export KIOSKO_TEST_POSTGRES="${KIOSKO_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export KIOSKO_TEST_REDIS="${KIOSKO_TEST_REDIS:-redis://127.0.0.1:6379/0}"

go vet ./...
go test -race -count=1 -timeout 30m "$@" ./...
# The fairness targets (docs/fairness.md) take too long under -race, where
# they skip: run them on their own, without it.
go test -count=1 -timeout 10m -run '^TestFairness' ./internal/simulate/
