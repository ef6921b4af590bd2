#!/usr/bin/env bash
# Installs what the checkpoint needs on a fresh Debian/Ubuntu machine, and nothing that is already there:
# Node.js + npm (only when missing; npm ci then brings the pinned Node 24), the npm dependencies, and
# Chromium plus its headless shell (only when no browser is found). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root to run: $*" >&2; exit 3; fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null; then
    echo "setup: apt-get not found; install $* with your package manager" >&2; exit 3
  fi
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v npm >/dev/null; then
  echo "setup: installing Node.js and npm from the distribution (npm ci then pins Node 24)" >&2
  apt_install nodejs npm
fi

# npm ci only when node_modules does not match the lock file (it is the slow part).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -x node_modules/.bin/node ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

have_browser() {
  if [ -n "${CHROME_PATH:-}" ] && [ -x "${CHROME_PATH}" ]; then return 0; fi
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$b" >/dev/null && return 0
  done
  return 1
}
if ! have_browser || ! command -v chromium-headless-shell >/dev/null; then
  echo "setup: installing Chromium and its headless shell with apt-get" >&2
  apt_install chromium chromium-headless-shell fonts-dejavu-core || apt_install chromium
fi
# certutil (libnss3-tools): the agent writes its --ca-file into an NSS database of its own so the browsers
# trust a private CA (engine/browser/trust-store.ts); the network tests need it too.
if ! command -v certutil >/dev/null; then
  echo "setup: installing certutil (libnss3-tools) with apt-get" >&2
  apt_install libnss3-tools
fi

# The servers the infrastructure-check tests start on 127.0.0.1 (test/helpers/servers): PostgreSQL, MariaDB,
# OpenSSH's sshd, dnsmasq, Dovecot (IMAP, POP3), vsftpd, and openssl for their certificates. Only what is
# missing is installed, and no service is started or enabled: the tests run each server themselves in a temp
# dir. CHECKPOINT_SKIP_TEST_SERVERS=1 skips this (a machine that only runs checks does not need them).
if [ "${CHECKPOINT_SKIP_TEST_SERVERS:-0}" != "1" ]; then
  missing=()
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  [ -x /usr/lib/dovecot/imap ] || missing+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/pop3 ] || missing+=(dovecot-pop3d)
  [ -x /usr/sbin/vsftpd ] || missing+=(vsftpd)
  command -v openssl >/dev/null || missing+=(openssl)
  # The egress-policy test builds a private network namespace (unshare from util-linux, ip from iproute2).
  command -v ip >/dev/null || missing+=(iproute2)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing test servers (not started as services): ${missing[*]}" >&2
    # policy-rc.d answering 101 keeps the packages' maintainer scripts from starting their daemons.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
      as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
      own_policy=1
    fi
    status=0
    apt_install "${missing[@]}" || status=$?
    if [ "$own_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    [ "$status" -eq 0 ] || exit "$status"
  fi
fi
