#!/usr/bin/env bash
# test-services.sh makes sure the services the tests use are up on 127.0.0.1:
#   Redis       127.0.0.1:6379
#   PostgreSQL  127.0.0.1:5432, trust auth from 127.0.0.1, a database "test"
# and that the browser the console's end-to-end tests drive is installed:
#   Chromium    /usr/bin/chromium (or chromium in PATH, or $CHROMIUM)
#   axe-core    bin/npm/node_modules/axe-core (npm), the web channel's
#               accessibility checks in its browser test
# and the operations' tools the deploy/ tests run (docs/OPERATIONS.md):
#   podman (make image), promtool (alert rules), dot (menus graph --format svg),
#   kubectl (manifests, --dry-run=client), systemd-analyze (the unit),
#   docker-compose (compose.yaml's schema, `config`), caddy (its Caddyfile)
# It installs them from Debian packages when missing and starts them when down
# (run as root), waits until they answer, and exits non-zero saying why if one
# does not. Idempotent; prints nothing when all is already up.
#
# The defaults can be changed through the environment (REDIS_PORT, PG_PORT,
# PG_DB, WAIT_SECONDS), e.g. to try the script without touching the shared
# services.
set -euo pipefail

REDIS_HOST=127.0.0.1
REDIS_PORT=${REDIS_PORT:-6379}
PG_HOST=127.0.0.1
PG_PORT=${PG_PORT:-5432}
PG_DB=${PG_DB:-test}
WAIT_SECONDS=${WAIT_SECONDS:-30}

say() { echo "test-services: $*" >&2; }
die() { say "error: $*"; exit 1; }

need_root() {
	[[ $EUID -eq 0 ]] || die "$1 needs root; run this script as root"
}

apt_updated=
apt_install() {
	need_root "installing $*"
	if [[ -z $apt_updated ]]; then
		say "apt-get update"
		apt-get update -qq >/dev/null || die "apt-get update failed"
		apt_updated=1
	fi
	say "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
		die "apt-get install $* failed"
}

# wait_until NAME CMD...: run CMD every half second until it succeeds, for at
# most WAIT_SECONDS.
wait_until() {
	local name=$1
	shift
	local tries=$((WAIT_SECONDS * 2))
	for ((i = 0; i < tries; i++)); do
		if "$@"; then
			return 0
		fi
		sleep 0.5
	done
	die "$name did not answer within ${WAIT_SECONDS}s"
}

redis_up() {
	[[ $(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

ensure_redis() {
	redis_up && return 0
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		apt_install redis-server
		redis_up && return 0 # the package may have started it
	fi
	say "starting redis-server on $REDIS_HOST:$REDIS_PORT"
	redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
		--save "" --appendonly no >/dev/null ||
		die "redis-server did not start"
	wait_until "Redis on $REDIS_HOST:$REDIS_PORT" redis_up
}

pg_up() {
	pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null
}

pg_version() {
	local v
	v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
	[[ -n $v ]] || die "no cluster under /etc/postgresql"
	echo "$v"
}

# trust_localhost makes a freshly installed cluster accept anyone from
# 127.0.0.1 without a password (first matching pg_hba.conf line wins).
trust_localhost() {
	local hba=/etc/postgresql/$1/main/pg_hba.conf
	[[ -f $hba ]] || die "$hba not found"
	if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		say "trusting connections from 127.0.0.1 in $hba"
		sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
	fi
}

ensure_postgres() {
	if ! pg_up; then
		local fresh=
		if ! command -v pg_ctlcluster >/dev/null || ! command -v pg_isready >/dev/null ||
			[[ -z $(ls /etc/postgresql 2>/dev/null) ]]; then
			apt_install postgresql
			fresh=1
		fi
		local version
		version=$(pg_version)
		if [[ -n $fresh ]]; then
			trust_localhost "$version"
			# The package may have started the cluster before trust was set.
			pg_up && { pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null ||
				die "could not reload PostgreSQL $version"; }
		fi
		if ! pg_up; then
			need_root "starting PostgreSQL"
			say "starting PostgreSQL $version"
			pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
				die "pg_ctlcluster $version main start failed"
		fi
		wait_until "PostgreSQL on $PG_HOST:$PG_PORT" pg_up
	fi

	# The database, even when the server was already up.
	local exists
	exists=$(as_superuser psql -X -q -tA -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ||
		die "cannot query PostgreSQL for database $PG_DB"
	if [[ $exists != 1 ]]; then
		say "creating database $PG_DB"
		as_superuser createdb "$PG_DB" || die "createdb $PG_DB failed"
	fi
	psql -X -q -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d "$PG_DB" -c 'SELECT 1' >/dev/null 2>&1 ||
		die "cannot connect to database $PG_DB as postgres from $PG_HOST:$PG_PORT without a password (is 127.0.0.1 trusted in pg_hba.conf?)"
}

# as_superuser CMD ARGS... runs a PostgreSQL client (psql, createdb) as the
# postgres superuser: over TCP when 127.0.0.1 is trusted, otherwise as the
# postgres system user on the local socket (which needs root).
as_superuser() {
	local cmd=$1
	shift
	if "$cmd" -w -h "$PG_HOST" -p "$PG_PORT" -U postgres "$@" 2>/dev/null; then
		return 0
	fi
	[[ $EUID -eq 0 ]] || return 1
	local line
	printf -v line '%q ' "$cmd" -p "$PG_PORT" "$@"
	su postgres -c "$line"
}

# ensure_chromium installs Debian's Chromium for the hotline's browser tests
# (hotline/browser_test.go), which fail without it under CI.
ensure_chromium() {
	if [[ -n ${CHROMIUM:-} ]]; then
		command -v "$CHROMIUM" >/dev/null || die "CHROMIUM=$CHROMIUM is not an executable"
		return 0
	fi
	[[ -x /usr/bin/chromium ]] && return 0
	command -v chromium >/dev/null && return 0
	apt_install chromium
	[[ -x /usr/bin/chromium ]] || command -v chromium >/dev/null ||
		die "chromium is installed but not found"
}

# ensure_tools installs the Debian packages whose commands the operations'
# tests run, each only when its command is missing (kubectl may come from
# elsewhere, such as the Google Cloud SDK, whose file Debian's package would
# overwrite).
ensure_tools() {
	local want=() cmd pkg
	for pair in podman:podman promtool:prometheus dot:graphviz kubectl:kubernetes-client systemd-analyze:systemd \
		docker-compose:docker-compose caddy:caddy; do
		cmd=${pair%%:*} pkg=${pair#*:}
		command -v "$cmd" >/dev/null || want+=("$pkg")
	done
	[[ ${#want[@]} -eq 0 ]] && return 0
	apt_install "${want[@]}"
	for pair in podman promtool dot kubectl systemd-analyze docker-compose caddy; do
		command -v "$pair" >/dev/null || die "$pair is still missing after installing ${want[*]}"
	done
}

# ensure_axe installs axe-core from npm into bin/npm (ignored by git): the
# web channel's browser test injects it into each kind of page.
ensure_axe() {
	local root
	root=$(cd "$(dirname "$0")/.." && pwd)
	[[ -f $root/bin/npm/node_modules/axe-core/axe.min.js ]] && return 0
	if ! command -v npm >/dev/null; then
		apt_install npm
	fi
	say "installing axe-core@4 into bin/npm"
	npm install --silent --no-audit --no-fund --prefix "$root/bin/npm" axe-core@4 >/dev/null ||
		die "npm install axe-core@4 failed"
	[[ -f $root/bin/npm/node_modules/axe-core/axe.min.js ]] || die "axe-core is installed but axe.min.js is missing"
}

ensure_redis
ensure_postgres
ensure_chromium
ensure_axe
ensure_tools
