#!/usr/bin/env bash
# The test command: installs the Go tools the tests talk to (Mailpit as the
# SMTP peer, stripe-mock as the Stripe peer) and staticcheck when they are
# missing; fails when go.mod/go.sum are not tidy, on go vet or staticcheck
# findings; then runs every test with the race detector and prints each
# failure in full, each skip in a line, and the ten slowest tests. Tests
# that need PostgreSQL, Redis or Chromium skip with a clear message when
# those are missing, unless KIOSKO_REQUIRE_SERVICES=1 (CI sets it), where
# they fail instead. Extra arguments go to go test (e.g. -run TestX).
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$(go env GOPATH)/bin:$PATH"
command -v mailpit >/dev/null || go install github.com/axllent/mailpit@v1.33.1
command -v stripe-mock >/dev/null || go install github.com/stripe/stripe-mock@v0.203.0
command -v staticcheck >/dev/null || go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Local services the scale-out tests use (see docs/deploy.md).
export KIOSKO_TEST_POSTGRES="${KIOSKO_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
export KIOSKO_TEST_REDIS="${KIOSKO_TEST_REDIS:-redis://127.0.0.1:6379/0}"

go mod tidy -diff || { echo "test: go.mod/go.sum are not tidy (the diff above); run go mod tidy" >&2; exit 1; }
go vet ./...
staticcheck ./...

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/testsummary" ./scripts/testsummary
go test -json -race -count=1 -timeout 30m "$@" ./... | "$bin/testsummary"
# The fairness targets (docs/fairness.md) take too long under -race, where
# they skip: run them on their own, without it.
go test -count=1 -timeout 10m -run '^TestFairness' ./internal/simulate/

# A short run of every fuzz target (docs/security.md records longer runs).
# FUZZTIME=0 skips them.
FUZZTIME="${FUZZTIME:-3s}"
if [ "$FUZZTIME" != "0" ]; then
	for target in \
		.:FuzzParseSubscriberCSV .:FuzzDeviceToken .:FuzzCleanName \
		./internal/simulate:FuzzParseTraces ./internal/api:FuzzDecodeJSON \
		./internal/billing:FuzzStripeWebhook ./internal/httpx:FuzzClientAddress \
		./internal/httpx:FuzzSignedValue ./internal/httpx:FuzzParseProxies \
		./internal/password:FuzzJudge ./internal/web:FuzzMeterCookie; do
		go test -run '^$' -fuzz "^${target##*:}\$" -fuzztime "$FUZZTIME" "${target%%:*}"
	done
fi
