# The maintainers' retraining loop (docs/maintainers.md). `make train`, `make evaluate`
# and `make validate` (Makefile) train versioned models, apply the regression gate and
# check consistency; these targets feed the training data and deploy the result.
#   make inbox [SINCE=days] [INBOX_THRESHOLD=0.7]   messages to review -> $(INBOX)
#   make accept-inbox                              annotated entries -> data/nlu/
#   make deploy-model [FORCE=1]                    current model -> running Rasa server
#   make rollback-model                            previous model becomes current again
INBOX           ?= var/inbox.yml
INBOX_THRESHOLD ?= 0.7

.PHONY: inbox accept-inbox deploy-model rollback-model models-status

inbox: $(STAMP)
	$(PY) -m retrain.inbox --out $(INBOX) --threshold $(INBOX_THRESHOLD) $(if $(SINCE),--since $(SINCE))

accept-inbox: $(STAMP)
	$(PY) -m retrain.accept --inbox $(INBOX)

# Deploys what `make train` made current (and `make evaluate` checked); never trains.
deploy-model: $(STAMP)
	$(PY) -m retrain.deploy $(if $(FORCE),--force)

rollback-model: $(STAMP)
	$(PY) -m retrain.models rollback

models-status: $(STAMP)
	$(PY) -m retrain.models status
