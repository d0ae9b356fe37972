# Production profile (deploy/, docs/deploy.md): PostgreSQL for conversations, feedback
# and knowledge, a Redis lock store, 2 Rasa replicas and 2 action servers behind nginx,
# optionally the Telegram front; all from Debian's packages, run by supervisord.
#   make run-prod    set up what is missing, start the profile on this machine (Ctrl-C stops it)
#   make prod-status what supervisord runs (state, pid, uptime of each program)
#   make test-prod   the same profile under test (tests/prod/), as .ci/run does
#   make prod-build  what a server needs built in its copy of the repository (docs/deploy.md)
# Settings: PROD_PORT (8080), PROD_REST_PORT (8081), RASA_REPLICAS (2), ACTION_SERVERS (2),
# PROD_DATABASE_URL (default: a database `assistant_local` on the local cluster), PUBLIC_WIDGET=1.
PROD_PACKAGES_CHECK := pg_lsclusters:postgresql redis-server:redis-server nginx:nginx supervisord:supervisor

.PHONY: run-prod prod-status test-prod prod-build prod-packages prod-postgres

# Debian's packages, installed (as root) only when missing.
prod-packages:
	@missing=""; for pair in $(PROD_PACKAGES_CHECK); do \
		command -v $${pair%%:*} >/dev/null || [ -x /usr/sbin/$${pair%%:*} ] || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "Missing Debian packages:$$missing. Install them as root: apt-get install$$missing"; exit 1; fi; \
		echo "Installing$$missing with apt-get…"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null || exit 1; \
	fi

# The local PostgreSQL cluster, created and started when needed, unless an external
# database is given. It keeps running after `make run-prod` (a service of this machine).
prod-postgres: prod-packages
	@[ -n "$$PROD_DATABASE_URL" ] || deploy/local-postgres.sh start >/dev/null

prod-build: $(STAMP) $(MODEL) $(WEBCHAT)

# deploy/local_profile.py: database (role, tables, knowledge), configuration files under
# var/prod/, then supervisord in the foreground.
run-prod: prod-build prod-packages prod-postgres
	$(PY) -m deploy.local_profile run

prod-status:
	@/usr/bin/supervisorctl -c var/prod/supervisord.conf status

# Stops what it started: the profile (tests/prod/conftest.py), and the local PostgreSQL
# cluster when it was stopped before (CI passes its own in TEST_POSTGRES_URL).
test-prod: prod-build prod-packages
	@started=""; \
	if [ -z "$$TEST_POSTGRES_URL" ]; then started=$$(deploy/local-postgres.sh start) || exit 1; fi; \
	$(PY) -m pytest tests/prod; status=$$?; \
	[ -z "$$started" ] || deploy/local-postgres.sh stop $$started; \
	exit $$status
