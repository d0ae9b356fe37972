"""`make validate`'s cross-checks between the bot, the NLU data and the knowledge base.

    python -m retrain.consistency

`rasa data validate` checks Rasa's files among themselves and `python -m knowledge
check` the content; this checks what joins them (docs/contracts.md):

- every topic intent of the domain has its knowledge entry (intent ``titre_sejour`` ->
  knowledge/content/titre-sejour.yml), and every knowledge entry but ``incompris`` has
  its intent in the domain;
- every intent of the domain has training examples and a rule that reacts to it;
- every action a rule or story runs exists: a response of the domain, an action of the
  domain that the action server (actions/) implements, or one of Rasa's own; the
  policies' fallback action and the responses it sends exist too;
- every button payload of the domain's responses names an intent of the domain.

Prints one line per problem (file: what is wrong) and exits 1 if there is any.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

import yaml
from project_paths import REPO_ROOT, CONFIG_FILE, DOMAIN_FILE, DATA_DIR, NLU_DATA_DIR

CONTROL_INTENTS = {"en_savoir_plus", "menu", "effacer_conversation"}
FALLBACK_TOPIC = "incompris"  # the answer to nlu_fallback: a topic without an intent
PAYLOAD_INTENT = re.compile(r"^/(?P<intent>[A-Za-z_]+)")


@dataclass(frozen=True)
class Paths:
    domain: Path = DOMAIN_FILE
    config: Path = CONFIG_FILE
    bot_data: Path = DATA_DIR
    nlu_data: Path = NLU_DATA_DIR
    content: Path = REPO_ROOT / "knowledge" / "content"
    actions_package: Optional[str] = "actions"


def _rel(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _yaml(path: Path) -> Dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return data if isinstance(data, dict) else {}


def _names(items: Iterable[Any]) -> List[str]:
    """Domain list entries are names or {name: {options}}."""
    names = []
    for item in items or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict) and len(item) == 1:
            names.append(str(next(iter(item))))
    return names


def implemented_actions(package: str) -> Set[str]:
    """The custom actions the action server registers (rasa_sdk, as `rasa_sdk --actions`)."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package(package)
    return set(executor.actions)


def check(paths: Paths = Paths()) -> List[str]:
    from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

    from knowledge.content import read_content
    from retrain.trainingdata import read_examples

    problems: List[str] = []
    domain_file = _rel(paths.domain)
    domain = _yaml(paths.domain)
    intents = _names(domain.get("intents"))
    actions = set(_names(domain.get("actions")))
    responses = domain.get("responses") or {}

    # Topic intents <-> knowledge entries.
    topics, _ = read_content(paths.content)
    topic_ids = {t.id for t in topics} | {p.stem for p in Path(paths.content).glob("*.yml")}
    for intent in intents:
        if intent not in CONTROL_INTENTS and intent.replace("_", "-") not in topic_ids:
            problems.append(f"{domain_file}: topic intent {intent} has no knowledge entry "
                            f"({_rel(Path(paths.content) / (intent.replace('_', '-') + '.yml'))})")
    for topic_id in sorted(topic_ids - {FALLBACK_TOPIC}):
        if topic_id.replace("-", "_") not in intents:
            problems.append(f"{_rel(Path(paths.content) / (topic_id + '.yml'))}: topic {topic_id} has no "
                            f"intent {topic_id.replace('-', '_')} in {domain_file}")

    # Intents <-> training examples.
    trained = {e.intent for e in read_examples(paths.nlu_data)}
    for intent in intents:
        if intent not in trained:
            problems.append(f"{_rel(paths.nlu_data)}: intent {intent} has no training example")
    for intent in sorted(trained - set(intents)):
        problems.append(f"{_rel(paths.nlu_data)}: intent {intent} is not in {domain_file}")

    # Rules and stories: who reacts to what, with which actions.
    reacted: Set[str] = set()
    used_actions: Dict[str, str] = {}
    for path in sorted(Path(paths.bot_data).glob("*.yml")):
        data = _yaml(path)
        for flow in (data.get("rules") or []) + (data.get("stories") or []):
            steps = (flow or {}).get("steps") or []
            for index, step in enumerate(steps):
                if not isinstance(step, dict):
                    continue
                if "intent" in step:
                    reacted.add(str(step["intent"]))
                    if step["intent"] not in intents and step["intent"] != "nlu_fallback":
                        problems.append(f"{_rel(path)}: {flow.get('rule') or flow.get('story')}: "
                                        f"intent {step['intent']} is not in {domain_file}")
                if "action" in step:
                    used_actions.setdefault(str(step["action"]), _rel(path))
    for intent in intents:
        if intent not in reacted:
            problems.append(f"{_rel(paths.bot_data)}: no rule or story reacts to intent {intent}")

    config = _yaml(paths.config)
    for policy in config.get("policies") or []:
        name = (policy or {}).get("core_fallback_action_name")
        if name:
            used_actions.setdefault(str(name), _rel(paths.config))
    if "action_default_fallback" in used_actions and "utter_default" not in responses:
        problems.append(f"{domain_file}: action_default_fallback sends utter_default, which is missing")

    implemented = implemented_actions(paths.actions_package) if paths.actions_package else None
    for action, where in sorted(used_actions.items()):
        if action.startswith("utter_"):
            if action not in responses:
                problems.append(f"{where}: response {action} is not in {domain_file}")
        elif action not in actions and action not in DEFAULT_ACTION_NAMES:
            problems.append(f"{where}: action {action} is not in {domain_file}")
    if implemented is not None:
        for action in sorted(actions - implemented):
            problems.append(f"{domain_file}: action {action} is not implemented by the action "
                            f"server ({paths.actions_package}/)")

    # Buttons of the domain's responses.
    for name, variants in responses.items():
        for variant in variants or []:
            for button in (variant or {}).get("buttons") or []:
                match = PAYLOAD_INTENT.match(str((button or {}).get("payload", "")))
                if match and match.group("intent") not in intents:
                    problems.append(f"{domain_file}: response {name}: button payload names "
                                    f"unknown intent {match.group('intent')}")
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrain.consistency", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} consistency problem(s)", file=sys.stderr)
        return 1
    print("OK: intents, knowledge entries, rules, responses and actions are consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
