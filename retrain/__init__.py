"""The maintainers' retraining loop: review inbox, accepted examples, versioned models,
regression gate, consistency checks and model deployment (docs/maintainers.md).

One job per module:

- ``masking``: hides personal details in a message (phones, e-mails, ids, URLs, ...);
- ``inbox``: ``make inbox``, the messages to review, from the conversations and the
  staff's 👎, masked and deduplicated, into var/inbox.yml;
- ``accept``: ``make accept-inbox``, the annotated examples into data/nlu/;
- ``consistency``: ``make validate``'s cross-checks (intents, topics, rules, actions);
- ``models``: ``make train``, versioned models and their registry (models/registry.json);
- ``regression``: ``make evaluate``, the new model against the previous one;
- ``deploy``: ``make deploy-model``, loads a model into a running Rasa server.
"""
