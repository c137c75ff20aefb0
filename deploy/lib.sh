# shellcheck shell=bash
# Shell functions shared by deploy/local.sh, tests/conftest.py and the bench/ scripts:
# packages, builds, free ports, and private PostgreSQL 15 clusters run as an unprivileged user.
#
# Source it (`. deploy/lib.sh`); it changes no shell option. Every function returns non-zero on
# failure, so callers under `set -e` stop, and callers in an `if` can react. Paths given to these
# functions must be absolute: PostgreSQL commands run from / as another user.
# From another language: bash -c 'set -euo pipefail; . "$0"; "$@"' deploy/lib.sh FUNCTION ARGS...

HL_PG_BIN=${HL_PG_BIN:-/usr/lib/postgresql/15/bin}
HL_PYTHON=${HL_PYTHON:-/usr/bin/python3}

# The Debian packages a bare Debian 12 machine needs to build, run and test everything.
HL_PACKAGES=(cmake build-essential pkg-config libevent-dev libpq-dev libjson-c-dev libcmocka-dev libxml2-dev libcrypt-dev
	postgresql-15 postgresql-contrib python3 python3-pytest prometheus wrk valgrind clang libclang-rt-14-dev python3-jsonschema
	libcurl4-openssl-dev openssl
	patroni python3-etcd etcd-server etcd-client haproxy nginx
	chromium chromium-driver python3-selenium fonts-wqy-microhei)

hl_say() { printf '%s\n' "$*" >&2; }
hl_die() { printf 'error: %s\n' "$*" >&2; return 1; }

# Installs whatever of HL_PACKAGES is missing (apt-get update first, only then). Quiet when
# nothing is missing. As a non-root user it names the missing packages and fails.
hl_ensure_packages() {
	local missing=() p
	for p in "${HL_PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
			missing+=("$p")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if ((EUID != 0)); then
		hl_die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
		return 1
	fi
	hl_say "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null || return 1
}

# hl_build SRC DIR LOG [CMAKE_ARGS...]: configures and builds DIR from SRC with -j2. The output
# goes to LOG; on failure its tail is shown.
hl_build() {
	local src=$1 dir=$2 log=$3
	shift 3
	mkdir -p "$(dirname "$log")" || return 1
	if ! { cmake -S "$src" -B "$dir" "$@" && cmake --build "$dir" -j2; } >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		hl_die "build of $dir failed (full log: $log)"
		return 1
	fi
}

# hl_port_free PORT: true when nothing listens on 127.0.0.1:PORT and it can be bound.
hl_port_free() {
	"$HL_PYTHON" - "$1" <<-'EOF'
	import socket, sys
	s = socket.socket()
	# as servers do: a port held only by closed connections (TIME_WAIT) is free for a listener
	s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	try:
	    s.bind(("127.0.0.1", int(sys.argv[1])))
	except OSError:
	    sys.exit(1)
	EOF
}

# hl_free_port [PREFERRED]: prints PREFERRED when it is free, else a free port in 20000-29999,
# below the kernel's ephemeral range, so that outgoing connections do not take it later.
hl_free_port() {
	local port=${1:-}
	if [[ -n $port ]] && hl_port_free "$port"; then
		printf '%s\n' "$port"
		return 0
	fi
	for _ in $(seq 1 200); do
		port=$((20000 + RANDOM % 10000))
		if hl_port_free "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	hl_die "no free port found"
}

# hl_http_status URL [CAFILE]: prints the HTTP status of a GET (000 when nothing answers within
# 5 s); an https URL's certificate is checked against CAFILE.
hl_http_status() {
	"$HL_PYTHON" - "$1" "${2:-}" <<-'EOF'
	import ssl, sys, urllib.error, urllib.request
	ctx = ssl.create_default_context(cafile=sys.argv[2] or None)
	try:
	    with urllib.request.urlopen(sys.argv[1], timeout=5, context=ctx) as r:
	        print(r.status)
	except urllib.error.HTTPError as e:
	    print(e.code)
	except Exception:
	    print("000")
	EOF
}

# hl_random_hex BYTES: prints that many random bytes as hex (passwords, names).
hl_random_hex() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# --- TLS ---------------------------------------------------------------------------------------

# hl_tls_ca DIR: makes a private certificate authority, DIR/ca.pem (give it to clients as
# HOTLINE_CA) and DIR/ca.key (readable by its owner only), unless both exist. EC P-256, 10 years.
hl_tls_ca() {
	local dir=$1
	[[ -s $dir/ca.pem && -s $dir/ca.key ]] && return 0
	mkdir -p "$dir" || return 1
	if ! (umask 077 && openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 -subj "/CN=hotline private CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign") >/dev/null 2>&1; then
		hl_die "openssl could not make the CA in $dir"
		return 1
	fi
	chmod 644 "$dir/ca.pem"
}

# hl_tls_server_cert DIR: makes DIR/server.pem and DIR/server.key, a server certificate for
# 127.0.0.1 and localhost signed by the CA of DIR (hl_tls_ca), unless DIR's CA already signed the
# one there. 825 days, EC P-256.
hl_tls_server_cert() {
	local dir=$1
	if [[ -s $dir/server.key ]] &&
		openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null 2>&1; then
		return 0
	fi
	if ! (umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" &&
		openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-CAcreateserial -days 825 -out "$dir/server.pem" -extfile <(printf '%s\n' \
			"subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
			"basicConstraints=critical,CA:FALSE")) >/dev/null 2>&1; then
		hl_die "openssl could not make the server certificate in $dir"
		return 1
	fi
	rm -f "$dir/server.csr"
	chmod 644 "$dir/server.pem"
}

# --- PostgreSQL clusters ----------------------------------------------------------------------
# A cluster is a data directory. Its port and socket directory live in DATADIR/hotline.conf,
# rewritten by hl_pg_configure before each start. PostgreSQL refuses to run as root, so as root
# the commands run as the `postgres` system user; as anyone else they run as that user.
# The socket directory is mode 700 and local connections are trusted: only the cluster's owner
# and root can use the superuser `postgres`. TCP on 127.0.0.1 needs a password (scram-sha-256).

# hl_pg_as CMD...: runs CMD as the cluster owner, from /.
hl_pg_as() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# hl_pg_owner PATH...: gives PATHs to the cluster owner (a no-op unless root).
hl_pg_owner() {
	((EUID == 0)) || return 0
	chown postgres: "$@"
}

# hl_allow_traverse USER PATH: makes every directory from / down to PATH (or the directory of
# the file PATH) searchable by USER (adds o+x where missing, and says so), so that USER reaches
# its files under it. A no-op unless root.
hl_allow_traverse() {
	((EUID == 0)) || return 0
	local user=$1 path=$2 prefix="" part
	[[ -d $path ]] || path=$(dirname "$path")
	local IFS=/
	for part in $path; do
		[[ -z $part ]] && continue
		prefix="$prefix/$part"
		if ! (cd / && setpriv --reuid="$user" --regid="$user" --init-groups test -x "$prefix"); then
			hl_say "note: chmod o+x $prefix (the $user user must reach its files below it)"
			chmod o+x "$prefix" || return 1
		fi
	done
}

# hl_pg_allow_traverse DIR: lets the cluster owner reach its data under DIR (hl_allow_traverse).
hl_pg_allow_traverse() {
	hl_allow_traverse postgres "$1"
}

# hl_pg_sockdir PREFERRED PORT: prints PREFERRED, or a short directory under /tmp when the socket
# path PREFERRED/.s.PGSQL.PORT would pass the 107-byte limit of a unix socket address.
hl_pg_sockdir() {
	local dir=$1 port=$2 sock
	sock="$dir/.s.PGSQL.$port"
	if ((${#sock} > 100)); then
		dir="/tmp/hotline-pg-$(printf '%s' "$1" | sha256sum | cut -c1-12)"
	fi
	printf '%s\n' "$dir"
}

# hl_pg_create DATADIR [throwaway]: initdb DATADIR unless it already holds a cluster. A throwaway
# cluster (tests) trades durability for speed: fsync off.
hl_pg_create() {
	local data=$1 kind=${2:-}
	[[ -f $data/PG_VERSION ]] && return 0
	mkdir -p "$data" || return 1
	hl_pg_owner "$data" || return 1
	chmod 700 "$data" || return 1
	hl_pg_as "$HL_PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
		--auth-local=trust --auth-host=scram-sha-256 >/dev/null || return 1
	{
		printf '\n# hotline: listen on loopback only; port and socket directory in hotline.conf\n'
		printf "listen_addresses = '127.0.0.1'\n"
		printf 'unix_socket_permissions = 0700\n'
		printf "password_encryption = 'scram-sha-256'\n"
		if [[ $kind == throwaway ]]; then
			# tests start dozens of servers (pool + LISTEN connection each) on one cluster
			printf 'fsync = off\nfull_page_writes = off\nmax_connections = 1000\n'
		fi
		printf "include_if_exists = 'hotline.conf'\n"
	} >>"$data/postgresql.conf"
}

# hl_pg_configure DATADIR PORT SOCKDIR: sets where the cluster listens (takes effect at start).
hl_pg_configure() {
	local data=$1 port=$2 sock=$3
	mkdir -p "$sock" || return 1
	hl_pg_owner "$sock" || return 1
	chmod 700 "$sock" || return 1
	printf "port = %d\nunix_socket_directories = '%s'\n" "$port" "${sock//\'/\'\'}" \
		>"$data/hotline.conf"
}

# hl_pg_running DATADIR: true when the cluster's postmaster runs.
hl_pg_running() {
	[[ -f $1/PG_VERSION ]] && hl_pg_as "$HL_PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# hl_pg_start DATADIR LOGFILE: starts the cluster (a no-op when it runs) and waits until it
# accepts connections. LOGFILE is created for the owner; its tail is shown on failure.
hl_pg_start() {
	local data=$1 log=$2
	hl_pg_running "$data" && return 0
	mkdir -p "$(dirname "$log")" || return 1
	touch "$log" && hl_pg_owner "$log" || return 1
	if ! hl_pg_as "$HL_PG_BIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null; then
		tail -n 20 "$log" >&2
		hl_die "PostgreSQL in $data did not start (log: $log)"
		return 1
	fi
}

# hl_pg_stop DATADIR [fast|immediate|smart]: stops the cluster if it runs.
hl_pg_stop() {
	hl_pg_running "$1" || return 0
	hl_pg_as "$HL_PG_BIN/pg_ctl" -D "$1" -m "${2:-fast}" -w -t 60 stop >/dev/null
}

# hl_psql SOCKDIR PORT DB SQL: runs SQL as the superuser; prints tuples only, fields split by |.
hl_psql() {
	"$HL_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$1" -p "$2" -U postgres -d "$3" -c "$4"
}

# hl_pg_app_role SOCKDIR PORT ROLE PASSWORD: makes the login ROLE, or resets its PASSWORD so that
# the caller's copy always works. ROLE must be a plain identifier and PASSWORD hex: they are put
# in SQL as they are.
hl_pg_app_role() {
	hl_psql "$1" "$2" postgres "DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$3') THEN
			CREATE ROLE $3 LOGIN;
		END IF; END \$\$;
		ALTER ROLE $3 PASSWORD '$4';"
}

# hl_pg_app_db SOCKDIR PORT DB OWNER: makes the database DB (a plain identifier) owned by OWNER,
# unless it exists.
hl_pg_app_db() {
	if [[ -z $(hl_psql "$1" "$2" postgres "SELECT 1 FROM pg_database WHERE datname = '$3'") ]]; then
		hl_psql "$1" "$2" postgres "CREATE DATABASE $3 OWNER $4" || return 1
	fi
}

# --- the hotline server -----------------------------------------------------------------------

# hl_pid_alive PID: true while PID runs (a zombie waiting for its parent does not count).
hl_pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# hl_server_running PIDFILE: true when PIDFILE names a live hotline-server process.
hl_server_running() {
	local pid
	[[ -s $1 ]] || return 1
	pid=$(<"$1")
	[[ $pid =~ ^[0-9]+$ ]] && hl_pid_alive "$pid" &&
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == hotline-server ]]
}

# hl_server_start BIN PORT LOG PIDFILE [ARGS...]: starts `BIN --port=PORT ARGS... serve` in the
# background (configuration such as HOTLINE_DB comes from the caller's environment), appends its
# stderr to LOG, writes PIDFILE and waits up to 30 s for /readyz to answer 200.
hl_server_start() {
	local bin=$1 port=$2 log=$3 pidfile=$4 pid deadline=$((SECONDS + 30))
	shift 4
	mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")" || return 1
	nohup "$bin" --port="$port" "$@" serve </dev/null >>"$log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$pidfile"
	while ((SECONDS < deadline)); do
		if ! hl_pid_alive "$pid"; then
			tail -n 20 "$log" >&2
			hl_die "the server exited at start (log: $log)"
			return 1
		fi
		[[ $(hl_http_status "http://127.0.0.1:$port/readyz") == 200 ]] && return 0
		sleep 0.2
	done
	tail -n 20 "$log" >&2
	hl_die "the server did not become ready on port $port within 30 s (log: $log)"
}

# hl_server_stop PIDFILE: SIGTERM (the server drains), then SIGKILL after 20 s; removes PIDFILE.
hl_server_stop() {
	local pidfile=$1 pid deadline=$((SECONDS + 20))
	if hl_server_running "$pidfile"; then
		pid=$(<"$pidfile")
		kill -TERM "$pid" 2>/dev/null || true
		while hl_pid_alive "$pid" && ((SECONDS < deadline)); do
			sleep 0.1
		done
		if hl_pid_alive "$pid"; then
			hl_say "the server (pid $pid) ignored SIGTERM for 20 s: killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}
