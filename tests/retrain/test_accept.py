"""make accept-inbox: annotated entries go to the right training file, once, in the
file's own layout; they leave the inbox; a wrong entry changes nothing."""

import difflib
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from project_paths import DOMAIN_FILE, HELDOUT_DIR
from retrain.accept import InboxError, accept_inbox
from retrain.inbox import ignored_path, read_ignored, read_inbox, write_inbox
from retrain.trainingdata import add_examples, read_examples

DOMAIN = DOMAIN_FILE
HELDOUT = HELDOUT_DIR


def entry(id_, text, intent="", predicted="hors-sujet", confidence=0.4, approved=True, rewrite=""):
    return {
        "id": id_,
        "text": text,
        "predicted_intent": predicted,
        "confidence": confidence,
        "count": 1,
        "sources": ["fallback"],
        "intent": intent,
        "rewrite": rewrite,
        "approved": approved,
    }


def snapshot(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.yml"))}


def accept(tmp_path, data_copy, entries, domain=DOMAIN, heldout=HELDOUT):
    inbox = tmp_path / "var" / "inbox.yml"
    write_inbox(inbox, entries)
    return inbox, accept_inbox(inbox, data_copy, domain, heldout)


def test_examples_go_to_their_intent_file_in_its_layout(tmp_path, data_copy):
    before = snapshot(data_copy)
    inbox, result = accept(
        tmp_path,
        data_copy,
        [
            entry("a1", "j'ai pas de mutuelle pour le dentiste", "sante"),
            entry("a2", "la PMI peut vacciner mon bébé gratuitement ?", "sante"),
            entry("b1", "quel temps fait-il demain", "hors-sujet"),
            entry("c1", "un message à décider plus tard"),
            entry("d1", "n'importe quoi", "ignore"),
        ],
    )
    after = snapshot(data_copy)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"sante.yml", "hors-sujet.yml"}
    diff = list(
        difflib.unified_diff(
            before["sante.yml"].splitlines(), after["sante.yml"].splitlines(), lineterm="", n=0
        )
    )
    added = [line for line in diff if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in diff if line.startswith("-") and not line.startswith("---")]
    assert removed == []
    assert added == [
        "+    - j'ai pas de mutuelle pour le dentiste",
        "+    - la PMI peut vacciner mon bébé gratuitement ?",
    ]
    assert after["sante.yml"].endswith("gratuitement ?\n")

    # Rasa reads the files, with the new examples under the right intent.
    texts = {m.get("text"): m.get("intent") for m in load_data(str(data_copy / "sante.yml")).intent_examples}
    assert texts["j'ai pas de mutuelle pour le dentiste"] == "sante"

    assert result.added_count == 3 and result.ignored == 1 and result.remaining == 1
    assert [e["id"] for e in read_inbox(inbox)] == ["c1"]
    assert read_ignored(ignored_path(inbox)) == {"d1"}

    # Accepting again changes nothing.
    again = accept_inbox(inbox, data_copy, DOMAIN, HELDOUT)
    assert again.added_count == 0 and snapshot(data_copy) == after


def test_no_duplicates(tmp_path, data_copy):
    existing = next(e for e in read_examples(data_copy) if e.intent == "asile")
    before = snapshot(data_copy)
    inbox, result = accept(
        tmp_path,
        data_copy,
        [
            entry("a", existing.text.upper() + "  ", "asile"),  # already an example (case, spaces aside)
            entry("b", "Puis-je demander l'asile si je suis nigériane ?", "asile"),
            entry("c", "puis-je demander l’asile si je suis nigériane ?", "asile"),  # same text twice
        ],
    )
    assert result.already_present == 1 and result.added_count == 1
    assert (
        snapshot(data_copy)["asile.yml"].count("nigériane ?") == before["asile.yml"].count("nigériane ?") + 1
    )
    assert read_inbox(inbox) == []


def test_text_is_masked_again_and_made_safe_for_rasa(tmp_path, data_copy):
    accept(
        tmp_path,
        data_copy,
        [
            entry("a", "/appelez [moi] au 06 12 34 56 78 {vite}\nsvp", "contacts-aide"),
        ],
    )
    texts = [e.text for e in read_examples(data_copy) if e.intent == "contacts-aide"]
    assert texts[-1] == "appelez (moi) au <PHONE> (vite) svp"


def _other_intents_example(data):
    return next(e for e in read_examples(data) if e.intent == "titre-sejour").text


@pytest.mark.parametrize(
    "make_bad, message",
    [
        (lambda data: entry("x", "un texte", "santé"), "not in domain.yml"),
        (lambda data: entry("x", "un texte", "nlu_fallback"), "not in domain.yml"),
        (lambda data: entry("x", "", "sante"), "empty text"),
        (
            lambda data: entry("x", _other_intents_example(data), "sante"),
            "already an example of intent titre-sejour",
        ),
    ],
)
def test_a_wrong_entry_changes_nothing(tmp_path, data_copy, make_bad, message):
    bad = make_bad(data_copy)
    before = snapshot(data_copy)
    entries = [entry("ok", "j'ai pas de mutuelle pour le dentiste", "sante"), bad]
    inbox = tmp_path / "inbox.yml"
    write_inbox(inbox, entries)
    inbox_before = inbox.read_text(encoding="utf-8")
    with pytest.raises(InboxError) as error:
        accept_inbox(inbox, data_copy, DOMAIN, HELDOUT)
    assert message in str(error.value) and "entry 2 (id x)" in str(error.value)
    assert snapshot(data_copy) == before
    assert inbox.read_text(encoding="utf-8") == inbox_before


def test_a_heldout_example_is_refused(tmp_path, data_copy):
    heldout = next(e for e in read_examples(HELDOUT) if e.intent == "sante")
    with pytest.raises(InboxError, match="held-out"):
        accept(tmp_path, data_copy, [entry("h", heldout.text, "sante")])


def test_a_new_intent_of_the_domain_gets_its_own_file(tmp_path, data_copy):
    domain = tmp_path / "domain.yml"
    domain.write_text(
        DOMAIN.read_text(encoding="utf-8").replace("  - menu\n", "  - menu\n  - travail_saisonnier\n", 1),
        encoding="utf-8",
    )
    accept(
        tmp_path,
        data_copy,
        [entry("n", "je fais les vendanges sans contrat", "travail_saisonnier")],
        domain=domain,
    )
    new = data_copy / "travail_saisonnier.yml"
    assert new.read_text(encoding="utf-8") == (
        'version: "3.1"\nnlu:\n- intent: travail_saisonnier\n  examples: |\n'
        "    - je fais les vendanges sans contrat\n"
    )
    assert [m.get("intent") for m in load_data(str(new)).intent_examples] == ["travail_saisonnier"]


def test_insertion_in_a_file_of_several_intents(tmp_path):
    path = tmp_path / "several.yml"
    path.write_text(
        'version: "3.1"\n\nnlu:\n'
        "- intent: menu\n  examples: |\n    - menu\n    - les sujets\n\n"
        "# comment kept\n"
        "- intent: sante\n  examples: |\n    - je suis malade\n",
        encoding="utf-8",
    )
    add_examples(path, "menu", ["montre les thèmes"])
    add_examples(path, "sante", ["j'ai mal aux dents"])
    add_examples(path, "au-revoir", ["à plus"])
    assert path.read_text(encoding="utf-8") == (
        'version: "3.1"\n\nnlu:\n'
        "- intent: menu\n  examples: |\n    - menu\n    - les sujets\n    - montre les thèmes\n\n"
        "# comment kept\n"
        "- intent: sante\n  examples: |\n    - je suis malade\n    - j'ai mal aux dents\n"
        "- intent: au-revoir\n  examples: |\n    - à plus\n"
    )


def test_a_broken_inbox_file_is_reported_not_overwritten(tmp_path, data_copy, capsys):
    from retrain import accept
    from retrain import inbox as inbox_module

    broken = tmp_path / "inbox.yml"
    broken.write_text("- id: a\n  text: 'oups\n  intent: sante\n", encoding="utf-8")
    assert accept.main(["--inbox", str(broken), "--data", str(data_copy)]) == 1
    assert "not valid YAML" in capsys.readouterr().err
    assert (
        inbox_module.main(
            [
                "--db-url",
                f"sqlite:///{tmp_path / 'db.sqlite'}",
                "--out",
                str(broken),
                "--data",
                str(data_copy),
            ]
        )
        == 1
    )
    assert broken.read_text(encoding="utf-8").startswith("- id: a")


def test_an_entry_needs_a_rewrite_or_an_approval(tmp_path, data_copy):
    before = snapshot(data_copy)
    with pytest.raises(InboxError, match=r"entry 1 \(id u\): write the question in your own words"):
        accept(
            tmp_path,
            data_copy,
            [entry("u", "j'ai pas de mutuelle pour le dentiste", "sante", approved=False)],
        )
    assert snapshot(data_copy) == before
    inbox, result = accept(
        tmp_path,
        data_copy,
        [
            entry(
                "r",
                "ma patronne Mme Okafor garde mon passeport",
                "titre-sejour",
                approved=False,
                rewrite="ma patronne garde mon passeport, je peux avoir un titre ?",
            )
        ],
    )
    assert result.added_count == 1
    added = [e.text for e in read_examples(data_copy) if e.intent == "titre-sejour"][-1]
    assert added == "ma patronne garde mon passeport, je peux avoir un titre ?"
    assert "Okafor" not in snapshot(data_copy)["titre-sejour.yml"]


@pytest.mark.parametrize(
    "text",
    [
        "mon patron s'appelle Jean Dupont, il garde mes papiers",
        "née le 3 mars 2004 à Benin City, je veux un titre de séjour",
        "je dors au foyer Emmaüs de Montreuil",
        "rappelez moi au zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "ma numesc Ionela si am nevoie de ajutor",
    ],
)
def test_an_approved_text_that_still_holds_personal_data_is_refused(tmp_path, data_copy, text):
    before = snapshot(data_copy)
    with pytest.raises(InboxError, match="personal data still in the text") as error:
        accept(tmp_path, data_copy, [entry("p", text, "titre-sejour")])
    assert text not in str(error.value)
    assert snapshot(data_copy) == before


def test_entries_whose_conversation_is_gone_are_dropped_before_accepting(tmp_path, data_copy):
    from tests.retrain.helpers import save_conversation, turn

    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    save_conversation(
        db, "still-here", turn("j'ai pas de mutuelle pour le dentiste", "nlu_fallback", 0.5, "incompris")
    )
    from retrain.inbox import entry_id
    from retrain.trainingdata import example_key

    alive = entry_id(example_key("j'ai pas de mutuelle pour le dentiste"))
    gone = entry_id(example_key("la PMI peut vacciner mon bébé gratuitement ?"))
    inbox = tmp_path / "var" / "inbox.yml"
    write_inbox(
        inbox,
        [
            entry(alive, "j'ai pas de mutuelle pour le dentiste", "sante"),
            entry(gone, "la PMI peut vacciner mon bébé gratuitement ?", "sante"),
        ],
    )
    result = accept_inbox(inbox, data_copy, DOMAIN, HELDOUT, db_url=db)
    assert result.expired == 1 and result.added_count == 1
    texts = [e.text for e in read_examples(data_copy) if e.intent == "sante"]
    assert "j'ai pas de mutuelle pour le dentiste" in texts
    assert "la PMI peut vacciner mon bébé gratuitement ?" not in texts


def test_the_training_files_refuse_personal_data_from_any_writer(tmp_path):
    from retrain.trainingdata import TrainingDataError

    path = tmp_path / "x.yml"
    with pytest.raises(TrainingDataError, match="personal data"):
        add_examples(path, "sante", ["je m'appelle Fatou Diallo"])
    assert not path.exists()
