#!/usr/bin/env bash
# Restarts the Rasa replicas one at a time, each once the previous one answers again:
# nginx sends the messages to the replicas that are up, so nobody waits for a model to
# load. Used to put a new model in service (docs/deploy.md, "Replacing the model").
# Readiness is the REST channel answering on the replica's port: no Rasa API needed.
#
#   deploy/rolling-restart.sh            every assistant-rasa@<port> systemd unit
#   deploy/rolling-restart.sh 5005 5006  these ports only
#   SUPERVISOR_CONF=var/prod/supervisord.conf deploy/rolling-restart.sh
#                                        the replicas of `make run-prod` (supervisord)
#
# Stops at the first replica that does not come back (within READY_TIMEOUT seconds,
# default 300): the other replicas keep answering with the model they have. Waits
# SETTLE_SECONDS (default 5) between replicas, a margin for the one just restarted.
set -euo pipefail

ready_timeout="${READY_TIMEOUT:-300}"
settle="${SETTLE_SECONDS:-5}"
conf="${SUPERVISOR_CONF:-}"
ports=("$@")
if [ ${#ports[@]} -eq 0 ]; then
  if [ -n "$conf" ]; then
    mapfile -t ports < <(supervisorctl -c "$conf" status 'rasa:*' | awk '{print $1}' \
      | sed -E 's/^rasa:rasa-([0-9]+)$/\1/' | sort -n)
  else
    mapfile -t ports < <(systemctl list-units --all --plain --no-legend 'assistant-rasa@*.service' \
      | awk '{print $1}' | sed -E 's/^assistant-rasa@([0-9]+)\.service$/\1/' | sort -n)
  fi
fi
[ ${#ports[@]} -gt 0 ] || { echo "No Rasa replica found." >&2; exit 1; }
[ ${#ports[@]} -gt 1 ] || echo "Only one replica: the assistant is unavailable while it restarts." >&2

for port in "${ports[@]}"; do
  echo "Restarting the replica on port $port…"
  if [ -n "$conf" ]; then
    supervisorctl -c "$conf" restart "rasa:rasa-$port" >/dev/null
    logs="supervisorctl -c $conf tail rasa:rasa-$port"
  else
    systemctl restart "assistant-rasa@$port.service"
    logs="journalctl -u assistant-rasa@$port -n 50"
  fi
  deadline=$(( $(date +%s) + ready_timeout ))
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/webhooks/rest/"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "The replica on port $port is not ready after ${ready_timeout} s:" >&2
      echo "  $logs   (the other replicas still answer)" >&2
      exit 1
    fi
    sleep 2
  done
  echo "  port $port answers again."
  [ "$port" = "${ports[-1]}" ] || sleep "$settle"
done
echo "All replicas restarted."
