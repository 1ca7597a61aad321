#!/usr/bin/env bash
# The Debian packages the test suite starts servers from (as child processes on loopback ports, never
# as system services). Installs the missing ones with apt when run as root; otherwise says which are
# missing and stops, so that `npm test` fails at once instead of in the middle of a suite.
set -euo pipefail

missing=()
# PostgreSQL: the e2e suite runs n8n on a throwaway cluster (initdb + pg_ctl).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# openssl: certificates for the proxy that stands in for registry.npmjs.org.
command -v openssl >/dev/null || missing+=(openssl)
# Redis: n8n's queue mode (the queue-mode e2e suite) keeps its job queue there.
command -v redis-server >/dev/null || missing+=(redis-server)
# Chromium: the browser suite drives n8n's editor in it (puppeteer-core, which downloads no browser).
command -v chromium >/dev/null || missing+=(chromium)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	echo "== installing Debian packages for the test suite: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	exit 0
fi

echo "The test suite needs these Debian packages: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
