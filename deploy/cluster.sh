#!/usr/bin/env bash
# The production topology on one machine, from Debian packages (docs: README, "Production").
#
#   deploy/cluster.sh up              start (or heal) etcd, two PostgreSQL 15 nodes under Patroni,
#                                     HAProxy, two hotline servers and nginx with TLS; writes
#                                     var/cluster.env (HOTLINE_URL, HOTLINE_TOKEN, HOTLINE_CA)
#   deploy/cluster.sh down            stop everything; the data stays in var/cluster/
#   deploy/cluster.sh status [--json] what runs; exit 0 when everything does, 3 otherwise
#   deploy/cluster.sh test            a throwaway cluster under load: failover, switchover, faults
#
# Runs as root (each component runs as its own service user) on loopback addresses only. The
# configuration files are the templates of deploy/cluster/, with their @...@ fields filled into
# var/cluster/etc/. HOTLINE_CLUSTER_DIR (default var/cluster) moves the whole cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$ROOT/deploy/lib.sh"

CL=${HOTLINE_CLUSTER_DIR:-$ROOT/var/cluster}
ENV_FILE=${HOTLINE_CLUSTER_ENV:-$(dirname "$CL")/$(basename "$CL").env}
TEMPLATES="$ROOT/deploy/cluster"
SERVER_BIN="$ROOT/build/server/hotline-server"
NODES=(pg1 pg2)
SERVERS=(server1 server2)
SERVER_USER=hotline

usage() {
	sed -n '4,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# --- processes ---------------------------------------------------------------------------------

# start_as USER NAME CMD...: runs CMD as USER, from /, in a session of its own (a signal to this
# script does not reach it), with a clean environment; its output is appended to log/NAME.log
# and its pid written to run/NAME.pid.
start_as() {
	local user=$1 name=$2
	shift 2
	set -- "$(command -v "$1")" "${@:2}" # the service user's PATH lacks /usr/sbin
	(cd / && exec setsid setpriv --reuid="$user" --regid="$user" --init-groups --reset-env -- "$@") \
		</dev/null >>"$CL/log/$name.log" 2>&1 &
	printf '%s\n' "$!" >"$CL/run/$name.pid"
}

# pid_of NAME: prints the pid of run/NAME.pid when that process still runs.
pid_of() {
	local pid
	[[ -s $CL/run/$1.pid ]] || return 1
	pid=$(<"$CL/run/$1.pid")
	[[ $pid =~ ^[0-9]+$ ]] && hl_pid_alive "$pid" && printf '%s\n' "$pid"
}

# stop_pid NAME [SIGNAL]: signals NAME (TERM by default), waits up to 30 s, then kills it.
stop_pid() {
	local name=$1 pid deadline=$((SECONDS + 30))
	pid=$(pid_of "$name") || { rm -f "$CL/run/$name.pid"; return 0; }
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	while hl_pid_alive "$pid" && ((SECONDS < deadline)); do
		sleep 0.2
	done
	hl_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	rm -f "$CL/run/$name.pid"
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.3 s until it succeeds ("WHAT did not happen").
wait_for() {
	local what=$1 deadline=$((SECONDS + $2))
	shift 2
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			hl_die "$what did not happen in time (logs: $CL/log/)"
			return 1
		fi
		sleep 0.3
	done
}

# http_ok URL [CAFILE]: true when URL answers 200.
http_ok() {
	[[ $(hl_http_status "$@") == 200 ]]
}

# --- state: ports, secrets, configuration files ------------------------------------------------

# Each port and the component that listens on it.
PORT_OWNERS=(ETCD_PORT:etcd ETCD_PEER_PORT:etcd PG1_PORT:pg1 PG1_REST_PORT:pg1 PG2_PORT:pg2
	PG2_REST_PORT:pg2 PRIMARY_PORT:haproxy REPLICA_PORT:haproxy SERVER1_PORT:server1
	SERVER2_PORT:server2 NGINX_PORT:nginx)

# Ports are chosen once (free ones) and kept in ports.env, so that the cluster comes back on the
# same addresses: its members find each other by them. A port that another program took while
# its component was down is replaced by a free one (the configurations are rendered after).
load_ports() {
	local pair key
	if [[ -f $CL/ports.env ]]; then
		# shellcheck source=/dev/null
		. "$CL/ports.env"
	fi
	for pair in "${PORT_OWNERS[@]}"; do
		key=${pair%%:*}
		if [[ -z ${!key:-} ]] ||
			{ ! component_running "${pair#*:}" && ! hl_port_free "${!key}"; }; then
			[[ -n ${!key:-} ]] && hl_say "port ${!key} ($key) is taken by another program: moving"
			printf -v "$key" '%s' "$(hl_free_port)"
		fi
	done
	for pair in "${PORT_OWNERS[@]}"; do
		printf '%s=%s\n' "${pair%%:*}" "$(port_of "${pair%%:*}")"
	done >"$CL/ports.env"
}

# component_running NAME: true while NAME (etcd, pg1, haproxy, server1, nginx ...) runs; a node
# runs while its Patroni or its postmaster does.
component_running() {
	case $1 in
	pg*) pid_of "patroni-$1" >/dev/null || postmaster_pid "$1" >/dev/null ;;
	*) pid_of "$1" >/dev/null ;;
	esac
}

# secret NAME: prints var/cluster/secrets/NAME, made once from random bytes.
secret() {
	local file="$CL/secrets/$1"
	if [[ ! -s $file ]]; then
		(umask 077 && hl_random_hex 24 >"$file.new") && mv "$file.new" "$file"
	fi
	cat "$file"
}

# render TEMPLATE OUT OWNER MODE KEY=VALUE...: fills the @KEY@ fields of deploy/cluster/TEMPLATE
# into etc/OUT, which OWNER may read (MODE), and notes OUT in CHANGED when that changed it.
# Every field must be given.
render() {
	local template=$1 out="$CL/etc/$2" owner=$3 mode=$4 text pair
	shift 4
	shopt -u patsub_replacement 2>/dev/null || true # an '&' in a value stays an '&' 
	text=$(<"$TEMPLATES/$template")
	for pair in "$@"; do
		text=${text//@${pair%%=*}@/${pair#*=}}
	done
	if [[ $text =~ @[A-Z0-9_]+@ ]]; then
		hl_die "$template: no value for ${BASH_REMATCH[0]}"
		return 1
	fi
	(umask 077 && printf '%s\n' "$text" >"$out.new")
	if cmp -s "$out.new" "$out"; then
		rm -f "$out.new"
		return 0
	fi
	CHANGED+=("${out##*/}")
	chown "$owner:" "$out.new" && chmod "$mode" "$out.new" && mv "$out.new" "$out"
}

# changed OUT: true when this run's render rewrote etc/OUT (a running component must reload).
changed() {
	[[ " ${CHANGED[*]} " == *" $1 "* ]]
}
CHANGED=()

# The service users: the Debian packages make etcd, haproxy, www-data and postgres; the hotline
# servers get their own.
ensure_users() {
	if ! id -u "$SERVER_USER" >/dev/null 2>&1; then
		useradd --system --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
			"$SERVER_USER"
	fi
}

# owned_dir DIR USER [MODE]: DIR exists, belongs to USER, mode MODE (700).
owned_dir() {
	mkdir -p "$1" && chown "$2:" "$1" && chmod "${3:-700}" "$1"
}

prepare() {
	local node user
	((EUID == 0)) || hl_die "deploy/cluster.sh runs as root (each component then runs as its own user)"
	ensure_users
	mkdir -p "$CL"/{etc,run,log,secrets}
	chmod 711 "$CL" "$CL/etc" "$CL/run"
	chmod 755 "$CL/log"
	chmod 700 "$CL/secrets"
	# every service user must reach its files under $CL, and the hotline user the build and sql/
	for user in postgres etcd www-data "$SERVER_USER"; do
		hl_allow_traverse "$user" "$CL/run"
	done
	hl_allow_traverse "$SERVER_USER" "$SERVER_BIN"
	hl_allow_traverse "$SERVER_USER" "$ROOT/sql"
	owned_dir "$CL/etcd" etcd
	owned_dir "$CL/pg" postgres
	owned_dir "$CL/pg/run" postgres
	owned_dir "$CL/nginx" www-data
	reap_nginx_workers
	load_ports
	hl_tls_ca "$CL/tls"
	hl_tls_server_cert "$CL/tls"
	chmod 711 "$CL/tls"
	chown www-data: "$CL/tls/server.key"
	touch "$CL/log/nginx-error.log" "$CL/log/nginx-access.log"
	chown www-data: "$CL/log/nginx-error.log" "$CL/log/nginx-access.log"

	render etcd.yml etcd.yml etcd 644 ETCD_NAME=etcd1 ETCD_DATA="$CL/etcd/data" \
		ETCD_PORT="$ETCD_PORT" ETCD_PEER_PORT="$ETCD_PEER_PORT"
	for node in "${NODES[@]}"; do
		render patroni.yml "$node.yml" postgres 600 NAME="$node" \
			REST_PORT="$(port_of "${node^^}_REST_PORT")" ETCD_PORT="$ETCD_PORT" \
			PG_PORT="$(port_of "${node^^}_PORT")" DATA="$CL/pg/$node" \
			PGPASS="$CL/pg/run/$node.pgpass" SOCKDIR="$CL/pg/run" \
			SUPERUSER_PASSWORD="$(secret postgres)" REPLICATION_PASSWORD="$(secret replicator)" \
			REWIND_PASSWORD="$(secret rewinder)"
	done
	render haproxy.cfg haproxy.cfg haproxy 644 PRIMARY_PORT="$PRIMARY_PORT" \
		REPLICA_PORT="$REPLICA_PORT" PG1_NAME=pg1 PG2_NAME=pg2 PG1_PORT="$PG1_PORT" \
		PG2_PORT="$PG2_PORT" PG1_REST_PORT="$PG1_REST_PORT" PG2_REST_PORT="$PG2_REST_PORT"
	render nginx.conf nginx.conf www-data 644 RUN="$CL/nginx" LOG="$CL/log" TLS="$CL/tls" \
		NGINX_PORT="$NGINX_PORT" SERVER1_PORT="$SERVER1_PORT" SERVER2_PORT="$SERVER2_PORT"
	render hotline.conf hotline.conf "$SERVER_USER" 600 PRIMARY_PORT="$PRIMARY_PORT" \
		REPLICA_PORT="$REPLICA_PORT" DB_PASSWORD="$(secret hotline)"
}

# An nginx master killed with SIGKILL leaves its workers holding the port: they are still in its
# process group (start_as made the master a group leader), which goes now.
reap_nginx_workers() {
	local group deadline=$((SECONDS + 5))
	[[ -s $CL/run/nginx.pid ]] && ! pid_of nginx >/dev/null || return 0
	group=$(<"$CL/run/nginx.pid")
	kill -KILL -- "-$group" 2>/dev/null || return 0
	while kill -0 -- "-$group" 2>/dev/null && ((SECONDS < deadline)); do
		sleep 0.1
	done
}

# port_of KEY: the value of the port variable KEY.
port_of() {
	printf '%s\n' "${!1}"
}

# --- components ----------------------------------------------------------------------------------

start_etcd() {
	if pid_of etcd >/dev/null; then
		return 0
	fi
	hl_say "starting etcd"
	start_as etcd etcd etcd --config-file "$CL/etc/etcd.yml"
	wait_for "etcd being healthy" 30 http_ok "http://127.0.0.1:$ETCD_PORT/health"
}

# rest NODE PATH: the HTTP status of Patroni's REST API of NODE at PATH.
rest() {
	local port
	port=$(port_of "${1^^}_REST_PORT")
	hl_http_status "http://127.0.0.1:$port$2"
}

# primary_node: prints the node that is primary now.
primary_node() {
	local node
	for node in "${NODES[@]}"; do
		if [[ $(rest "$node" /primary) == 200 ]]; then
			printf '%s\n' "$node"
			return 0
		fi
	done
	return 1
}

start_patroni() {
	local node=$1
	pid_of "patroni-$node" >/dev/null && return 0
	hl_say "starting Patroni and PostgreSQL $node"
	start_as postgres "patroni-$node" patroni "$CL/etc/$node.yml"
}

# PostgreSQL up: both nodes' Patroni running, a primary elected, the other streaming from it.
start_postgres() {
	local node
	start_patroni "${NODES[0]}"
	if [[ ! -f $CL/pg/${NODES[1]}/PG_VERSION && ! -f $CL/pg/${NODES[0]}/PG_VERSION ]]; then
		# a new cluster: the first node bootstraps it alone, the second then copies it
		wait_for "the first primary being elected" 90 primary_node
	fi
	for node in "${NODES[@]}"; do
		start_patroni "$node"
	done
	wait_for "a primary being elected" 90 primary_node
	wait_for "both nodes running (a primary and a streaming replica)" 120 all_nodes_running
}

# all_nodes_running: the primary and a streaming replica.
all_nodes_running() {
	local primary=0 replica=0 node
	for node in "${NODES[@]}"; do
		[[ $(rest "$node" /primary) == 200 ]] && primary=$((primary + 1))
		[[ $(rest "$node" /replica) == 200 ]] && replica=$((replica + 1))
	done
	((primary == 1 && replica == ${#NODES[@]} - 1))
}

start_haproxy() {
	if pid_of haproxy >/dev/null && changed haproxy.cfg; then
		hl_say "HAProxy's configuration changed: restarting it"
		stop_pid haproxy
	fi
	pid_of haproxy >/dev/null && return 0
	hl_say "starting HAProxy"
	start_as haproxy haproxy haproxy -f "$CL/etc/haproxy.cfg"
	wait_for "a connection through HAProxy's primary port" 30 primary_port_works
}

# primary_port_works: the superuser reaches a read-write PostgreSQL through HAProxy.
primary_port_works() {
	[[ $(as_superuser "SELECT pg_is_in_recovery()") == f ]]
}

# as_superuser SQL: SQL run as postgres through HAProxy's primary port.
as_superuser() {
	PGPASSWORD=$(secret postgres) PGCONNECT_TIMEOUT=3 hl_psql 127.0.0.1 "$PRIMARY_PORT" postgres "$1"
}

# The database, its owner role, the schema and the first admin.
prepare_database() {
	local password
	password=$(secret hotline)
	PGPASSWORD=$(secret postgres) hl_pg_app_role 127.0.0.1 "$PRIMARY_PORT" hotline "$password"
	PGPASSWORD=$(secret postgres) hl_pg_app_db 127.0.0.1 "$PRIMARY_PORT" hotline hotline
	server_cmd migrate >>"$CL/log/migrate.log" 2>&1 || {
		tail -n 20 "$CL/log/migrate.log" >&2
		hl_die "migrations failed"
	}
	if [[ ! -s $CL/secrets/admin.token ]]; then
		(umask 077 && server_cmd create-admin admin >"$CL/secrets/admin.token.new") &&
			mv "$CL/secrets/admin.token.new" "$CL/secrets/admin.token"
	fi
}

# server_cmd ARGS...: runs the hotline server binary with the cluster's configuration.
server_cmd() {
	setpriv --reuid="$SERVER_USER" --regid="$SERVER_USER" --init-groups --reset-env -- \
		"$SERVER_BIN" --config "$CL/etc/hotline.conf" "$@"
}

server_port() {
	port_of "${1^^}_PORT"
}

start_servers() {
	local name port
	for name in "${SERVERS[@]}"; do
		# a build newer than a running server replaces it, one server at a time (drained)
		if pid_of "$name" >/dev/null && [[ $SERVER_BIN -nt $CL/run/$name.pid ]]; then
			hl_say "a new build: restarting $name"
			stop_pid "$name"
		fi
		pid_of "$name" >/dev/null && continue
		port=$(server_port "$name")
		hl_say "starting the hotline server $name on port $port"
		start_as "$SERVER_USER" "$name" "$SERVER_BIN" --config "$CL/etc/hotline.conf" \
			--port="$port" serve
	done
	for name in "${SERVERS[@]}"; do
		wait_for "$name answering /readyz" 30 http_ok "http://127.0.0.1:$(server_port "$name")/readyz"
	done
}

start_nginx() {
	if pid_of nginx >/dev/null && changed nginx.conf; then
		hl_say "nginx's configuration changed: reloading it"
		kill -HUP "$(pid_of nginx)"
	fi
	if ! pid_of nginx >/dev/null; then
		hl_say "starting nginx"
		start_as www-data nginx nginx -c "$CL/etc/nginx.conf" -e "$CL/log/nginx-error.log" \
			-g "daemon off;"
	fi
	wait_for "nginx answering over TLS" 30 http_ok "https://127.0.0.1:$NGINX_PORT/readyz" "$CL/tls/ca.pem"
}

write_env() {
	(
		umask 077
		printf 'HOTLINE_URL=https://127.0.0.1:%s\nHOTLINE_TOKEN=%s\nHOTLINE_CA=%s\n' \
			"$NGINX_PORT" "$(<"$CL/secrets/admin.token")" "$CL/tls/ca.pem" >"$ENV_FILE.new"
	)
	mv "$ENV_FILE.new" "$ENV_FILE"
}

cmd_up() {
	hl_ensure_packages
	mkdir -p "$CL/log"
	hl_build "$ROOT" "$ROOT/build" "$CL/log/build.log" -DCMAKE_BUILD_TYPE=RelWithDebInfo
	prepare
	start_etcd
	start_postgres
	start_haproxy
	prepare_database
	start_servers
	start_nginx
	write_env
	cmd_status
	echo "client settings: $ENV_FILE (. it; export HOTLINE_URL HOTLINE_TOKEN HOTLINE_CA)"
}

cmd_down() {
	local name
	[[ -d $CL/run ]] || return 0
	stop_pid nginx QUIT
	for name in "${SERVERS[@]}"; do
		stop_pid "$name"
	done
	stop_pid haproxy
	# the replica first, so that the primary's last commits need no failover
	for name in $(replicas_first); do
		stop_pid "patroni-$name"
	done
	stop_pid etcd
	echo "cluster stopped (data kept in $CL)"
}

# replicas_first: the nodes, the primary last.
replicas_first() {
	local primary node
	primary=$(primary_node 2>/dev/null || true)
	for node in "${NODES[@]}"; do
		[[ $node != "$primary" ]] && printf '%s\n' "$node"
	done
	[[ -n $primary ]] && printf '%s\n' "$primary"
	return 0
}

# --- status --------------------------------------------------------------------------------------

# postmaster_pid NODE: the pid of NODE's postmaster when it runs.
postmaster_pid() {
	local pid
	pid=$(head -n 1 "$CL/pg/$1/postmaster.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && hl_pid_alive "$pid" && printf '%s\n' "$pid"
}

cmd_status() {
	local json=${1:-} node name rows=() ok=0 role pid
	[[ -f $CL/ports.env ]] || { [[ $json ]] && echo '{}'; echo "no cluster in $CL" >&2; return 3; }
	# shellcheck source=/dev/null
	. "$CL/ports.env"
	for node in "${NODES[@]}"; do
		role=down
		[[ $(rest "$node" /replica) == 200 ]] && role=replica
		[[ $(rest "$node" /primary) == 200 ]] && role=primary
		pid=$(postmaster_pid "$node" || true)
		[[ $role == down || -z $pid ]] && ok=3
		rows+=("postgres $node $role ${pid:-null} $(port_of "${node^^}_PORT")")
	done
	for name in "${SERVERS[@]}"; do
		pid=$(pid_of "$name" || true)
		[[ -z $pid ]] && ok=3
		rows+=("server $name - ${pid:-null} $(server_port "$name")")
	done
	pid=$(pid_of nginx || true)
	[[ -z $pid ]] && ok=3
	rows+=("nginx nginx - ${pid:-null} $NGINX_PORT")
	pid=$(pid_of etcd || true)
	[[ -z $pid ]] && ok=3
	rows+=("etcd etcd - ${pid:-null} $ETCD_PORT")
	pid=$(pid_of haproxy || true)
	[[ -z $pid ]] && ok=3
	rows+=("haproxy haproxy - ${pid:-null} $PRIMARY_PORT")
	printf '%s\n' "${rows[@]}" | "$HL_PYTHON" -c '
import json, sys
as_json = sys.argv[1] == "--json"
doc = {"postgres": [], "servers": [], "nginx": None, "etcd": None, "haproxy": None}
for line in sys.stdin:
    kind, name, role, pid, port = line.split()
    pid = None if pid == "null" else int(pid)
    if kind == "postgres":
        doc["postgres"].append({"name": name, "role": role, "pid": pid, "port": int(port)})
    elif kind == "server":
        doc["servers"].append({"name": name, "pid": pid, "port": int(port)})
    else:
        doc[kind] = {"pid": pid, "port": int(port)}
if as_json:
    print(json.dumps(doc))
else:
    for p in doc["postgres"]:
        print("postgres %-4s %-8s pid %-8s port %d" % (p["name"], p["role"], p["pid"], p["port"]))
    for s in doc["servers"]:
        print("hotline  %-8s pid %-8s port %d" % (s["name"], s["pid"], s["port"]))
    for k in ("haproxy", "nginx", "etcd"):
        print("%-8s pid %-8s port %d" % (k, doc[k]["pid"], doc[k]["port"]))
' "$json"
	return "$ok"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status)
	[[ ${2:-} == "" || ${2:-} == --json ]] || usage
	cmd_status "${2:-}"
	;;
test) exec "$HL_PYTHON" "$ROOT/tests/cluster/failover.py" "$ROOT" ;;
*) usage ;;
esac
