#!/bin/sh
# A throwaway PostgreSQL server for the tests, run as a non-root user in a
# temporary directory, listening on loopback and a socket in that directory.
#   tests/pg.sh start DIR PORT   prints the database URL on stdout
#   tests/pg.sh stop DIR [fast|immediate]
#   tests/pg.sh restart DIR [fast|immediate]
set -eu
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "PostgreSQL is not installed; run scripts/deps.sh test" >&2; exit 1; }
cmd=$1 dir=$2

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		su postgres -s /bin/sh -c "$*"
	else
		sh -c "$*"
	fi
}

case $cmd in
start)
	port=$3
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	as_pg "'$bindir/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --no-locale >'$dir/initdb.log' 2>&1"
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 300
fsync = on
synchronous_commit = on
shared_buffers = 128MB
log_min_messages = warning
CONF
	as_pg "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 start >/dev/null"
	echo "postgres://postgres@127.0.0.1:$port/postgres"
	;;
stop)
	as_pg "'$bindir/pg_ctl' -D '$dir/data' -m ${3:-fast} -w stop >/dev/null" || true
	;;
restart)
	as_pg "'$bindir/pg_ctl' -D '$dir/data' -m ${3:-fast} -w stop >/dev/null" || true
	as_pg "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -t 60 start >/dev/null"
	;;
*)
	echo "usage: tests/pg.sh start DIR PORT | stop DIR [mode] | restart DIR [mode]" >&2
	exit 2
	;;
esac
