#!/usr/bin/env bash
# The local Debian PostgreSQL cluster for `make run-prod` and `make test-prod`.
#   deploy/local-postgres.sh start        creates the cluster when there is none, starts it
#                                         when stopped; prints "<version> <name>" only when
#                                         it started it (so that the caller can stop it)
#   deploy/local-postgres.sh stop V NAME  stops that cluster
set -euo pipefail
case "${1:-}" in
  start)
    cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
    if [ -z "$cluster" ]; then
      version=$(ls /usr/lib/postgresql | sort -V | tail -1)
      echo "Creating the PostgreSQL cluster $version main…" >&2
      pg_createcluster "$version" main >/dev/null
      cluster="$version main"
    fi
    if ! pg_lsclusters --no-header | awk '$4 == "online"' | grep -q .; then
      echo "Starting PostgreSQL ($cluster)…" >&2
      pg_ctlcluster $cluster start >&2
      echo "$cluster"
    fi ;;
  stop)
    echo "Stopping PostgreSQL ($2 $3), started for this run…" >&2
    pg_ctlcluster "$2" "$3" stop ;;
  *) echo "usage: $0 start | stop VERSION NAME" >&2; exit 2 ;;
esac
