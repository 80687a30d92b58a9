#!/usr/bin/env bash
# Lighthouse and axe-core on the reader's pages, at phone and desktop sizes,
# in both editions, driving the system's Chromium.
#
#   bash scripts/lighthouse.sh            # audit; fail on a score or a violation
#   SCREENS=1 bash scripts/lighthouse.sh  # also write docs/screens/*.png
#   LIGHTHOUSE=0 bash scripts/lighthouse.sh  # axe-core only (a minute)
#
# It builds kiosko, starts it on a free port with the demo publication in a
# temporary data directory, signs two devices of the Digital account in so
# the interstitial (both sides) and the sharing banner can be seen, and runs
# scripts/lighthouse/audit.mjs. It fails when any page scores below 100 in
# accessibility or below 95 in best practices or SEO, or when axe-core finds
# any violation. Results go to docs/lighthouse.json (and the summary to
# standard output); docs/lighthouse.md says how to read them.
#
# Needs: Node.js 20+, npm, chromium (CHROME_PATH to override). The npm tools
# are installed once, at pinned versions, into $KIOSKO_NPM_CACHE
# (default $HOME/.cache/kiosko-npm), never into the repository.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${KIOSKO_NPM_CACHE:-$HOME/.cache/kiosko-npm}
chrome=${CHROME_PATH:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [[ -z "$chrome" ]]; then
	echo "lighthouse.sh: no chromium found; set CHROME_PATH" >&2
	exit 2
fi
for tool in node npm go; do
	command -v "$tool" >/dev/null || { echo "lighthouse.sh: $tool is required" >&2; exit 2; }
done

# Pinned: lighthouse 13 needs Node 22; 12.8.2 runs on Node 20.
pkgs=(lighthouse@12.8.2 axe-core@4.14.1 puppeteer-core@24.43.1)
want="${pkgs[*]}"
if [[ ! -f "$cache/.kiosko-tools" || "$(cat "$cache/.kiosko-tools")" != "$want" ]]; then
	mkdir -p "$cache"
	echo "lighthouse.sh: installing ${pkgs[*]} into $cache" >&2
	npm install --prefix "$cache" --no-audit --no-fund --save-exact "${pkgs[@]}" >&2
	echo "$want" >"$cache/.kiosko-tools"
fi

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kiosko" "$root/cmd/kiosko"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
KIOSKO_NEWSLETTER_DAY=off "$work/kiosko" serve --addr "127.0.0.1:$port" --data "$work/data" --public-url "$base" \
	--log-level warn >"$work/kiosko.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	curl -fsS "$base/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "$base/readyz" >/dev/null || { cat "$work/kiosko.log" >&2; exit 1; }

KIOSKO_NPM_CACHE="$cache" CHROME_PATH="$chrome" KIOSKO_URL="$base" KIOSKO_ROOT="$root" \
	SCREENS="${SCREENS:-0}" LIGHTHOUSE="${LIGHTHOUSE:-1}" LIGHTHOUSE_ALL="${LIGHTHOUSE_ALL:-0}" node "$root/scripts/lighthouse/audit.mjs"
