# Production profile (deploy/, docs/deploy.md): PostgreSQL for conversations, feedback
# and knowledge, a Redis lock store, 2 Rasa replicas and 2 action servers behind nginx,
# all from Debian's packages.
#   make run-prod    set up what is missing, start the profile on this machine (Ctrl-C stops it)
#   make test-prod   the same profile under test (tests/prod/), as .ci/run does
#   make prod-build  what a server needs built in its copy of the repository (docs/deploy.md)
# Settings: PROD_PORT (8080), RASA_REPLICAS (2), ACTION_SERVERS (2), PROD_DATABASE_URL
# (default: a database `assistant_local` on the local cluster), REDIS_HOST/REDIS_PORT/REDIS_DB.
PROD_PACKAGES_CHECK := pg_lsclusters:postgresql redis-server:redis-server nginx:nginx

.PHONY: run-prod test-prod prod-build prod-packages prod-postgres

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
# database is given ($(1): the variable that names it).
define local_postgres
	@if [ -z "$$$(1)" ]; then \
		cluster=$$(pg_lsclusters --no-header | awk 'NR==1 {print $$1" "$$2}'); \
		if [ -z "$$cluster" ]; then \
			version=$$(ls /usr/lib/postgresql | sort -V | tail -1); \
			echo "Creating the PostgreSQL cluster $$version main…"; \
			pg_createcluster $$version main >/dev/null || exit 1; cluster="$$version main"; fi; \
		if ! pg_lsclusters --no-header | awk '$$4 == "online"' | grep -q .; then \
			echo "Starting PostgreSQL ($$cluster)…"; pg_ctlcluster $$cluster start || exit 1; fi; \
	fi
endef

prod-postgres: prod-packages
	$(call local_postgres,PROD_DATABASE_URL)

prod-build: $(STAMP) $(MODEL) $(WEBCHAT)

run-prod: prod-build prod-packages prod-postgres
	$(PY) -m deploy.run_prod

test-prod: prod-build prod-packages
	$(call local_postgres,TEST_POSTGRES_URL)
	$(PY) -m pytest tests/prod
