"""Rasa importer: every topic of the training data is answered from the knowledge base.

Adding a topic is a data change: a content file (knowledge/content/<id>.yml) and an
examples file (data/nlu/<id>.yml, intent named by the topic id). This importer, named in
config.yml, gives Rasa's own commands (`rasa train`, `rasa data validate`, `rasa test`,
`rasa shell`) what a hand-written domain entry and rule per topic used to: each intent
of the NLU data that no hand-written rule or story handles is added to the domain's
intents, with the rule "intent -> action_answer_topic". Nothing is written to disk.

Danger first (ARCHITECTURE.md, Principles): when the danger detector (nlu/danger.py)
fires it adds the entity danger_<case>; for each topic, and for each control intent
answered by one action, this importer adds the rule "intent + danger_<case> ->
utter_danger_<case> -> the usual answer". The emergency response is a Rasa response, so
it is sent even when the action server is down. A cry for help and nothing else is the
intent urgence, whose rules are hand-written (data/rules.yml).
"""

from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Text

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.importers.utils import story_graph_from_paths
from rasa.shared.utils.common import cached_method

from knowledge.config import CONTROL_INTENTS, FALLBACK_INTENT
from nlu.danger_model import CASES, entity_name

ANSWER_ACTION = "action_answer_topic"


def danger_response(case: Text) -> Text:
    return f"utter_danger_{case}"


def handled_intents(stories: StoryGraph) -> Set[Text]:
    """Intents that a hand-written rule or story already reacts to."""
    return {
        event.intent_name
        for step in stories.story_steps
        for event in step.events
        if isinstance(event, UserUttered) and event.intent_name
    }


def answered_topics(nlu_intents: Iterable[Text], handled: Set[Text]) -> List[Text]:
    """The intents answered by action_answer_topic: all but those with their own rule."""
    return sorted(set(nlu_intents) - set(handled) - {FALLBACK_INTENT})


def topic_rules(topics: Iterable[Text], domain: Domain) -> StoryGraph:
    rules = [
        {"rule": f"answer {topic}", "steps": [{"intent": topic}, {"action": ANSWER_ACTION}]}
        for topic in topics
    ]
    steps = YAMLStoryReader(domain).read_from_parsed_yaml({"rules": rules})
    return StoryGraph(steps)


def control_actions(stories: StoryGraph) -> Dict[Text, Text]:
    """The action a hand-written rule gives each control intent right after it."""
    found: Dict[Text, Text] = {}
    for step in stories.story_steps:
        events = [
            e
            for e in step.events
            if isinstance(e, (UserUttered, ActionExecuted))
            and not (isinstance(e, ActionExecuted) and e.action_name == "...")
        ]
        for first, second in zip(events, events[1:]):
            if (
                isinstance(first, UserUttered)
                and first.intent_name in CONTROL_INTENTS
                and isinstance(second, ActionExecuted)
                and not first.entities
            ):
                found.setdefault(first.intent_name, second.action_name)
    return found


def danger_rules(answers: Dict[Text, Text], domain: Domain) -> StoryGraph:
    """intent + danger_<case> -> utter_danger_<case> -> the intent's usual answer."""
    rules = [
        {
            "rule": f"danger first ({case}), then {intent}",
            "steps": [
                {"intent": intent, "entities": [entity_name(case)]},
                {"action": danger_response(case)},
                {"action": action},
            ],
        }
        for intent, action in sorted(answers.items())
        for case in CASES
    ]
    return StoryGraph(YAMLStoryReader(domain).read_from_parsed_yaml({"rules": rules}))


class TopicImporter(RasaFileImporter):
    """Rasa's file importer, plus one domain intent and one rule per answer topic."""

    @cached_method
    def _topics(self) -> List[Text]:
        # The hand-written rules, read against the hand-written domain.
        written = story_graph_from_paths(self._story_files, super().get_domain())
        return answered_topics(self.get_nlu_data().intents, handled_intents(written))

    @cached_method
    def get_domain(self) -> Domain:
        domain = super().get_domain()
        return domain.merge(Domain.from_dict({"intents": self._topics()}))

    def get_stories(self, exclusion_percentage: Optional[int] = None) -> StoryGraph:
        stories = super().get_stories(exclusion_percentage)
        answers = {topic: ANSWER_ACTION for topic in self._topics()}
        answers.update(control_actions(stories))
        stories = stories.merge(topic_rules(self._topics(), self.get_domain()))
        return stories.merge(danger_rules(answers, self.get_domain()))
