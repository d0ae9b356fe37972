"""Rasa importer: every topic of the training data is answered from the knowledge base.

Adding a topic is a data change: a content file (knowledge/content/<id>.yml) and an
examples file (data/nlu/<id>.yml, intent named by the topic id). This importer, named in
config.yml, gives Rasa's own commands (`rasa train`, `rasa data validate`, `rasa test`,
`rasa shell`) what a hand-written domain entry and rule per topic used to: each intent
of the NLU data that no hand-written rule or story handles is added to the domain's
intents, with the rule "intent -> action_answer_topic". Nothing is written to disk.
"""
from __future__ import annotations

from typing import Iterable, List, Optional, Set, Text

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.importers.utils import story_graph_from_paths
from rasa.shared.utils.common import cached_method
from knowledge.config import FALLBACK_INTENT

ANSWER_ACTION = "action_answer_topic"


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
        return stories.merge(topic_rules(self._topics(), self.get_domain()))
