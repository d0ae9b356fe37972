"""make inbox: flagged messages from the conversation store and the 👎 votes, masked,
deduplicated, in a review file that keeps the maintainer's annotations."""

import datetime as dt
import logging
import os
import stat

import yaml

from bot import feedback
from retrain import inbox
from retrain.inbox import export_inbox, flag_sources, read_inbox
from tests.retrain.helpers import save_conversation, turn

PHONE_TEXT = "mon passeport est chez le patron, rappelez moi au 06 12 34 56 78"
FALLBACK_RANKING = [("nlu_fallback", 0.5), ("sante", 0.31), ("hors-sujet", 0.2)]


def fill(db):
    # Two people send the same unclear message (one with other spacing/case).
    save_conversation(
        db,
        "a",
        turn("bonjour", "salutation", 0.99, "salutation"),
        turn("j'ai pas de mutuelle pour le dentiste", "nlu_fallback", 0.5, "incompris", FALLBACK_RANKING),
    )
    save_conversation(
        db,
        "b",
        turn("J'ai pas de mutuelle  pour le dentiste", "nlu_fallback", 0.5, "incompris", FALLBACK_RANKING),
        turn("quelle est la météo demain", "hors-sujet", 0.9, "hors-sujet"),
        turn(PHONE_TEXT, "titre-sejour", 0.41, "titre-sejour"),
        # A button click is not typed text: never reviewed.
        turn('/en_savoir_plus{"topic":"titre-sejour"}', "en_savoir_plus", 0.3, "titre-sejour"),
        # Understood with confidence: not reviewed.
        turn("comment porter plainte ?", "porter-plainte", 0.97, "porter-plainte"),
    )
    vote = feedback.parse_feedback(
        {
            "topic": "asile",
            "intent": "asile",
            "confidence": 0.88,
            "question": "écrivez moi à joy@example.org pour l'OFPRA",
            "vote": "down",
        }
    )
    feedback.add_feedback(vote, db)
    feedback.add_feedback(
        feedback.parse_feedback(
            {
                "topic": "asile",
                "intent": "asile",
                "confidence": 0.9,
                "question": "merci c'est clair",
                "vote": "up",
            }
        ),
        db,
    )


def by_text(entries):
    return {e["text"]: e for e in entries}


def test_sources_of_a_turn():
    assert flag_sources("nlu_fallback", 0.5, "incompris", 0.7) == {"fallback"}
    assert flag_sources("sante", 0.3, "contacts-aide", 0.7) == {"low_confidence"}
    assert flag_sources("hors-sujet", 0.95, "hors-sujet", 0.7) == {"hors-sujet"}
    assert flag_sources("hors-sujet", 0.5, "hors-sujet", 0.7) == {"hors-sujet", "low_confidence"}
    assert flag_sources("titre-sejour", 0.95, "titre-sejour", 0.7) == set()


def test_export_flags_masks_and_deduplicates(tmp_path, tracker_db, data_copy, caplog, capsys):
    fill(tracker_db)
    out = tmp_path / "var" / "inbox.yml"
    with caplog.at_level(logging.DEBUG):
        summary = export_inbox(tracker_db, out, threshold=0.7, data_dir=data_copy)
    entries = read_inbox(out)
    assert summary["entries"] == len(entries) == 4

    found = by_text(entries)
    unclear = found["J'ai pas de mutuelle pour le dentiste"]  # the latest spelling, spaces squeezed
    assert unclear["count"] == 2
    assert unclear["sources"] == ["fallback"]
    assert unclear["predicted_intent"] == "sante"  # the classifier's best guess, not nlu_fallback
    assert unclear["confidence"] == 0.31
    assert unclear["intent"] == ""
    assert set(unclear) == {
        "id",
        "text",
        "predicted_intent",
        "confidence",
        "count",
        "sources",
        "intent",
        "rewrite",
        "approved",
    }
    assert unclear["rewrite"] == "" and unclear["approved"] is False

    assert found["quelle est la météo demain"]["sources"] == ["hors-sujet"]
    masked = "mon passeport est chez le patron, rappelez moi au <PHONE>"
    assert found[masked]["sources"] == ["low_confidence"]
    assert found[masked]["predicted_intent"] == "titre-sejour"
    voted = found["écrivez moi à <EMAIL> pour l'OFPRA"]
    assert voted["sources"] == ["feedback_down"] and voted["predicted_intent"] == "asile"

    raw = out.read_text(encoding="utf-8")
    assert "06 12" not in raw and "joy@" not in raw
    assert raw.startswith("#")  # the instructions
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    # Counts only: no message text in the logs.
    assert "dentiste" not in caplog.text and "dentiste" not in capsys.readouterr().out
    # Most frequent first.
    assert entries[0]["count"] == 2


def test_training_and_heldout_examples_are_left_out(tmp_path, tracker_db, data_copy):
    heldout = tmp_path / "heldout"
    heldout.mkdir()
    (heldout / "topics.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: hors-sujet\n  examples: |\n    - quelle est la météo demain\n',
        encoding="utf-8",
    )
    (data_copy / "sante.yml").write_text(
        (data_copy / "sante.yml").read_text(encoding="utf-8").rstrip("\n")
        + "\n    - j'ai pas de mutuelle pour le dentiste\n",
        encoding="utf-8",
    )
    fill(tracker_db)
    out = tmp_path / "inbox.yml"
    export_inbox(tracker_db, out, data_dir=data_copy, heldout_dir=heldout)
    texts = {e["text"] for e in read_inbox(out)}
    assert not any("dentiste" in t for t in texts)
    assert "quelle est la météo demain" not in texts
    assert len(texts) == 2


def test_refresh_keeps_annotations_and_text_fixes_and_drops_ignored(tmp_path, tracker_db, data_copy):
    fill(tracker_db)
    out = tmp_path / "inbox.yml"
    export_inbox(tracker_db, out, data_dir=data_copy)
    entries = read_inbox(out)
    found = by_text(entries)
    found["J'ai pas de mutuelle pour le dentiste"]["intent"] = "sante"
    found["quelle est la météo demain"]["intent"] = "hors-sujet"
    found["quelle est la météo demain"]["text"] = "quelle est la météo demain à Lagos"
    out.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    inbox.ignored_path(out).write_text(found["écrivez moi à <EMAIL> pour l'OFPRA"]["id"] + "\n")

    # One more person sends the unclear message.
    save_conversation(
        tracker_db,
        "c",
        turn("j'ai pas de mutuelle pour le dentiste", "nlu_fallback", 0.5, "incompris", FALLBACK_RANKING),
    )
    summary = export_inbox(tracker_db, out, data_dir=data_copy)
    again = by_text(read_inbox(out))
    assert again["J'ai pas de mutuelle pour le dentiste"]["intent"] == "sante"
    assert again["J'ai pas de mutuelle pour le dentiste"]["count"] == 3
    assert again["quelle est la météo demain à Lagos"]["intent"] == "hors-sujet"
    assert "écrivez moi à <EMAIL> pour l'OFPRA" not in again
    assert summary["annotated"] == 2 and summary["new"] == 0


def test_entries_disappear_with_their_conversation_even_annotated(tmp_path, data_copy):
    """Review S1: an erased or expired conversation leaves nothing in the inbox."""
    db = f"sqlite:///{tmp_path / 'first.db'}"
    fill(db)
    out = tmp_path / "inbox.yml"
    export_inbox(db, out, data_dir=data_copy)
    entries = read_inbox(out)
    by_text(entries)["quelle est la météo demain"]["intent"] = "hors-sujet"
    by_text(entries)["quelle est la météo demain"]["approved"] = True
    out.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")

    empty = f"sqlite:///{tmp_path / 'erased.db'}"  # every conversation erased since
    export_inbox(empty, out, data_dir=data_copy)
    assert read_inbox(out) == []


def test_prune_drops_the_entries_of_an_erased_conversation_only(tmp_path, tracker_db, data_copy):
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import ErasableSQLTrackerStore

    fill(tracker_db)
    out = tmp_path / "inbox.yml"
    export_inbox(tracker_db, out, data_dir=data_copy)
    texts = set(by_text(read_inbox(out)))
    assert "quelle est la météo demain" in texts
    ErasableSQLTrackerStore(Domain.empty(), url=tracker_db).delete_conversation("b")  # /oubli
    assert inbox.prune_inbox(out, tracker_db) == 2  # the weather and the phone messages
    left = set(by_text(read_inbox(out)))
    assert "quelle est la météo demain" not in left
    assert "J'ai pas de mutuelle pour le dentiste" in left or "j'ai pas de mutuelle pour le dentiste" in left
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_since_limits_to_recent_turns(tmp_path, tracker_db, data_copy):
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10)).timestamp()
    save_conversation(
        tracker_db,
        "old",
        turn(
            "un vieux message pas compris", "nlu_fallback", 0.5, "incompris", FALLBACK_RANKING, timestamp=old
        ),
    )
    save_conversation(
        tracker_db,
        "new",
        turn("un message récent pas compris", "nlu_fallback", 0.5, "incompris", FALLBACK_RANKING),
    )
    out = tmp_path / "inbox.yml"
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)).timestamp()
    export_inbox(tracker_db, out, since=since, data_dir=data_copy)
    assert [e["text"] for e in read_inbox(out)] == ["un message récent pas compris"]


def test_an_empty_database_gives_an_empty_inbox(tmp_path, data_copy):
    out = tmp_path / "inbox.yml"
    summary = export_inbox(f"sqlite:///{tmp_path / 'none.db'}", out, data_dir=data_copy)
    assert summary["entries"] == 0 and read_inbox(out) == []
