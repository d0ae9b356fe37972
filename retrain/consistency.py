"""`make validate`'s cross-checks between the bot, the NLU data and the knowledge base.

    python -m retrain.consistency

`rasa data validate` checks Rasa's files among themselves and `python -m knowledge
check` the content; this checks what joins them (docs/contracts.md):

- every intent of the training data without a hand-written rule is a topic (its rule and
  domain entry come from bot/topic_importer.py): it has its knowledge entry (intent
  ``titre-sejour`` -> knowledge/content/titre-sejour.yml) and held-out examples, and
  every knowledge entry but ``incompris`` has its training examples;
- examples sit in the file named after their intent (data/nlu/<intent>.yml);
- every intent of the domain has training examples and a rule that reacts to it;
- every action a rule or story runs exists: a response of the domain, an action of the
  domain that the action server (actions/) implements, or one of Rasa's own; the
  policies' fallback action and the responses it sends exist too;
- every button payload of the domain's responses names an intent of the domain.

Prints one line per problem (file: what is wrong) and exits 1 if there is any. Then
prints a warning per gap of each language (a folder data/nlu/<code>/): what it lacks is
answered in French meanwhile (docs/maintainers.md, "Add a language").
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set

import yaml

import user_texts
from bot.topic_importer import ANSWER_ACTION, FALLBACK_INTENT, answered_topics
from knowledge.content import read_content
from project_paths import (
    CONFIG_FILE,
    CONTENT_DIR,
    DATA_DIR,
    DOMAIN_FILE,
    HELDOUT_DIR,
    NLU_DATA_DIR,
    REPO_ROOT,
    TRANSLATIONS_DIR,
)
from retrain.trainingdata import read_examples

FALLBACK_TOPIC = "incompris"  # the answer to nlu_fallback: a topic without an intent
LANGUAGE_NAMES = "noms_des_langues"  # actions/messages_fr.yml: each language in its own words
PAYLOAD_INTENT = re.compile(r"^/(?P<intent>[A-Za-z_-]+)")


@dataclass(frozen=True)
class Paths:
    domain: Path = DOMAIN_FILE
    config: Path = CONFIG_FILE
    bot_data: Path = DATA_DIR
    nlu_data: Path = NLU_DATA_DIR
    content: Path = CONTENT_DIR
    heldout: Optional[Path] = HELDOUT_DIR
    texts_dirs: tuple = (
        REPO_ROOT / "actions",
        REPO_ROOT / "bot" / "channels",
        REPO_ROOT / "bot" / "webchat",
        REPO_ROOT / "telegram_front",
    )
    actions_package: Optional[str] = "actions"
    translations: Optional[Path] = TRANSLATIONS_DIR
    # Texts of domain.yml's responses per language (bot/nlg.py); French is domain.yml.
    responses_dir: Optional[Path] = REPO_ROOT / "bot" / "responses"


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

    problems: List[str] = []
    domain_file = _rel(paths.domain)
    domain = _yaml(paths.domain)
    actions = set(_names(domain.get("actions")))
    responses = domain.get("responses") or {}

    # Rules and stories written by hand: who reacts to what, with which actions.
    written_intents = set(_names(domain.get("intents")))
    reacted: Set[str] = set()
    used_actions: Dict[str, str] = {}
    flows = []
    for path in sorted(Path(paths.bot_data).glob("*.yml")):
        data = _yaml(path)
        for flow in (data.get("rules") or []) + (data.get("stories") or []):
            steps = [step for step in (flow or {}).get("steps") or [] if isinstance(step, dict)]
            flows.append((path, flow, steps))
            for step in steps:
                if "intent" in step:
                    reacted.add(str(step["intent"]))
                if "action" in step:
                    used_actions.setdefault(str(step["action"]), _rel(path))

    # Every other intent of the training data is a topic answered from the knowledge
    # base (bot/topic_importer.py adds its domain entry and rule): its name is the topic id.
    examples = read_examples(paths.nlu_data)
    trained = {e.intent for e in examples}
    topics = set(answered_topics(trained, reacted))
    intents = written_intents | topics
    reacted |= topics
    used_actions.setdefault(ANSWER_ACTION, "bot/topic_importer.py")

    topic_entries, _ = read_content(paths.content)
    topic_ids = {t.id for t in topic_entries} | {p.stem for p in Path(paths.content).glob("*.yml")}
    for topic in sorted(topics - topic_ids):
        problems.append(
            f"{_rel(paths.nlu_data)}: topic intent {topic} has no knowledge entry "
            f"({_rel(Path(paths.content) / (topic + '.yml'))})"
        )
    for topic_id in sorted(topic_ids - intents - {FALLBACK_TOPIC}):
        problems.append(
            f"{_rel(Path(paths.content) / (topic_id + '.yml'))}: topic {topic_id} has no "
            f"training examples ({_rel(Path(paths.nlu_data) / (topic_id + '.yml'))})"
        )
    for example in examples:
        if example.path is not None and Path(example.path).stem != example.intent:
            problems.append(
                f"{_rel(example.path)}: intent {example.intent} belongs in "
                f"{_rel(Path(paths.nlu_data) / (example.intent + '.yml'))}"
            )
            break
    if paths.heldout is not None:
        folders = [Path(paths.heldout)] + [p for p in Path(paths.heldout).iterdir() if p.is_dir()]
        evaluated = {e.intent for folder in folders for e in read_examples(folder)}
        for topic in sorted(topics - evaluated):
            problems.append(f"{_rel(paths.heldout)}: topic {topic} has no held-out examples")

    for intent in sorted(written_intents - trained):
        problems.append(f"{_rel(paths.nlu_data)}: intent {intent} has no training example")
    for path, flow, steps in flows:
        for step in steps:
            if "intent" in step and step["intent"] not in intents and step["intent"] != FALLBACK_INTENT:
                problems.append(
                    f"{_rel(path)}: {flow.get('rule') or flow.get('story')}: "
                    f"intent {step['intent']} has no training example"
                )
    for intent in sorted(intents - reacted):
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
            problems.append(
                f"{domain_file}: action {action} is not implemented by the action "
                f"server ({paths.actions_package}/)"
            )

    # Buttons of the domain's responses.
    for name, variants in responses.items():
        for variant in variants or []:
            for button in (variant or {}).get("buttons") or []:
                match = PAYLOAD_INTENT.match(str((button or {}).get("payload", "")))
                if match and match.group("intent") not in intents:
                    problems.append(
                        f"{domain_file}: response {name}: button payload names "
                        f"unknown intent {match.group('intent')}"
                    )
    return problems


def language_problems(paths: Paths, french_intents: Set[str]) -> List[str]:
    """What each language (a folder of data/nlu/) still lacks: examples of an intent,
    held-out examples, texts of the actions, channels and Telegram front, a translated
    topic, the emergency responses, its name on the language buttons (French is used
    meanwhile; printed as warnings by `make validate`). Which topics a language has not
    translated yet is listed by `python -m knowledge check`."""
    problems: List[str] = []
    for folder in sorted(p for p in Path(paths.nlu_data).iterdir() if p.is_dir()):
        lang = folder.name
        for intent in sorted(french_intents - {e.intent for e in read_examples(folder)}):
            problems.append(f"{_rel(folder)}: language {lang} has no examples of intent {intent}")
        if paths.heldout is not None and not list((Path(paths.heldout) / lang).glob("*.yml")):
            problems.append(f"{_rel(Path(paths.heldout) / lang)}: language {lang} has no held-out set")
        for texts_dir in paths.texts_dirs:
            # Language names are not translated: messages_fr.yml's list serves every language.
            missing = [
                key
                for key in user_texts.missing_keys(texts_dir, lang)
                if not key.startswith(f"{LANGUAGE_NAMES}.")
            ]
            if missing:
                problems.append(
                    f"{_rel(Path(texts_dir) / f'messages_{lang}.yml')}: language {lang} "
                    f"lacks {', '.join(missing)}"
                )
        if paths.translations is not None and not list((Path(paths.translations) / lang).glob("*.yml")):
            problems.append(
                f"{_rel(Path(paths.translations) / lang)}: language {lang} has no translated "
                "topic (answers come in French)"
            )
        if (
            paths.responses_dir is not None
            and not (Path(paths.responses_dir) / f"messages_{lang}.yml").is_file()
        ):
            problems.append(
                f"{_rel(Path(paths.responses_dir) / f'messages_{lang}.yml')}: language {lang} "
                "has no emergency responses (they come in French)"
            )
        # The "choose your language" buttons name each language in its own words
        # (actions/language.py); a language without a name shows its code.
        for texts_dir in (Path(d) for d in paths.texts_dirs if Path(d).name == "actions"):
            if lang not in (user_texts.load(texts_dir).get(LANGUAGE_NAMES) or {}):
                problems.append(
                    f"{_rel(texts_dir / 'messages_fr.yml')}: {LANGUAGE_NAMES} has no name for language {lang}"
                )
    return problems


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m retrain.consistency", description=__doc__.splitlines()[0]
    )
    parser.parse_args(argv)
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    french = {e.intent for e in read_examples(Paths().nlu_data)}
    for gap in language_problems(Paths(), french):
        print(f"warning: {gap}", file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} consistency problem(s)", file=sys.stderr)
        return 1
    print("OK: intents, knowledge entries, rules, responses and actions are consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
