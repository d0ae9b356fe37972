"""make validate's cross-checks: topic intents <-> knowledge entries, rules, actions,
responses."""

import shutil
from pathlib import Path

import pytest

from project_paths import CONFIG_FILE, DOMAIN_FILE, HELDOUT_DIR, REPO_ROOT
from retrain.consistency import Paths, check


@pytest.fixture
def copy(tmp_path):
    """The project's bot, NLU and knowledge files, to break one at a time."""
    shutil.copy(DOMAIN_FILE, tmp_path / "domain.yml")
    shutil.copy(CONFIG_FILE, tmp_path / "config.yml")
    for name, source in (("bot_data", "data"), ("nlu_data", "data/nlu"), ("content", "knowledge/content")):
        shutil.copytree(REPO_ROOT / source, tmp_path / name)
    return Paths(
        domain=tmp_path / "domain.yml",
        config=tmp_path / "config.yml",
        bot_data=tmp_path / "bot_data",
        nlu_data=tmp_path / "nlu_data",
        content=tmp_path / "content",
    )


def edit(path, old, new):
    text = Path(path).read_text(encoding="utf-8")
    assert old in text
    Path(path).write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_project_is_consistent():
    assert check() == []


def test_a_topic_intent_without_knowledge_entry(copy):
    (copy.content / "asile.yml").unlink()
    assert any("topic intent asile has no knowledge entry" in p for p in check(copy))


def test_a_knowledge_entry_without_intent(copy):
    shutil.copy(copy.content / "asile.yml", copy.content / "travail-saisonnier.yml")
    assert any("topic travail-saisonnier has no training examples" in p for p in check(copy))


def test_incompris_needs_no_intent(copy):
    assert (copy.content / "incompris.yml").exists() and check(copy) == []


def test_an_intent_without_rule_or_examples(copy):
    edit(copy.domain, "  - menu\n", "  - menu\n  - travail_saisonnier\n")
    shutil.copy(copy.content / "asile.yml", copy.content / "travail-saisonnier.yml")
    problems = check(copy)
    assert any("intent travail_saisonnier has no training example" in p for p in problems)
    assert any("no rule or story reacts to intent travail_saisonnier" in p for p in problems)


def test_a_topic_is_data_only_but_needs_content_and_heldout_examples(copy, tmp_path):
    """A new examples file is a new topic: no domain entry or rule to write, but its
    knowledge entry and held-out examples are named when missing."""
    heldout = tmp_path / "heldout"
    shutil.copytree(HELDOUT_DIR, heldout)
    copy = Paths(**{**copy.__dict__, "heldout": heldout})
    (copy.nlu_data / "travail-saisonnier.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: travail-saisonnier\n  examples: |\n    - vendanges sans contrat\n',
        encoding="utf-8",
    )
    problems = check(copy)
    assert any("topic intent travail-saisonnier has no knowledge entry" in p for p in problems)
    assert any("topic travail-saisonnier has no held-out examples" in p for p in problems)
    assert not any("no rule or story" in p or "not in" in p for p in problems), problems


def test_examples_in_a_file_named_after_another_intent(copy):
    shutil.move(copy.nlu_data / "asile.yml", copy.nlu_data / "refugie.yml")
    assert any("intent asile belongs in" in p for p in check(copy))


def test_unknown_actions_and_responses_used_by_rules(copy):
    edit(copy.bot_data / "rules.yml", "  - action: action_menu\n", "  - action: action_sommaire\n")
    edit(copy.bot_data / "rules.yml", "  - action: utter_urgence\n", "  - action: utter_danger\n")
    problems = check(copy)
    assert any("action action_sommaire is not in" in p for p in problems)
    assert any("response utter_danger is not in" in p for p in problems)


def test_a_declared_action_the_action_server_lacks(copy):
    edit(copy.domain, "  - action_menu\n", "  - action_menu\n  - action_appeler\n")
    assert any("action action_appeler is not implemented" in p for p in check(copy))


def test_a_button_to_an_unknown_intent(copy):
    edit(copy.domain, 'payload: "/contacts-aide"', 'payload: "/contacts"')
    assert any("unknown intent contacts" in p for p in check(copy))


def test_a_new_language_is_told_what_it_lacks(copy):
    """Warnings name each file a language still needs; the existing languages need none
    (language names are not translated: the French list serves every language)."""
    from retrain.consistency import language_problems
    from retrain.trainingdata import read_examples

    (copy.nlu_data / "xx").mkdir()
    shutil.copy(copy.nlu_data / "en" / "asile.yml", copy.nlu_data / "xx" / "asile.yml")
    gaps = language_problems(copy, {e.intent for e in read_examples(copy.nlu_data)})
    text = "\n".join(gaps)
    for expected in (
        "language xx has no examples of intent titre-sejour",
        "heldout/xx: language xx has no held-out set",
        "knowledge/translations/xx: language xx has no translated topic",
        "bot/responses/messages_xx.yml: language xx has no emergency responses",
        "actions/messages_xx.yml: language xx lacks",
        "actions/messages_fr.yml: noms_des_langues has no name for language xx",
    ):
        assert expected in text
    assert [gap for gap in gaps if "language xx" not in gap] == []
