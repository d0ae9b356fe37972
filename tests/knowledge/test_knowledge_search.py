"""Search: text normalisation and sanity on our own questions (not the held-out set)."""

from __future__ import annotations

import asyncio

import pytest

from knowledge.content import load_content
from knowledge.loader import load_database
from knowledge.search import index_rows
from knowledge.store import KnowledgeBase
from knowledge.text import fold, terms
from lab import evaluate_search


def test_fold_lowercases_and_drops_accents():
    assert fold("Séjour À L’ÉTAT œuvre") == "sejour a l’etat oeuvre"


def test_terms_split_apostrophes_and_drop_stop_words():
    assert terms("J'ai peur de la police") == terms("j’ai peur de la police") == ["peur", "polic"]


def test_terms_match_with_or_without_accents_and_plurals():
    assert terms("protégée") == terms("protegee") == terms("protégés")
    assert terms("les plaintes") == terms("plainte")
    assert terms("carte de séjour") == terms("CARTE DE SEJOUR")


def test_index_weights_are_integers_and_skip_conversation(content_dir):
    rows = index_rows(load_content(content_dir))
    assert rows and all(isinstance(r["weight"], int) and r["weight"] > 0 for r in rows)
    assert "salutation" not in {r["topic_id"] for r in rows}


@pytest.fixture
def kb(db_url, content_dir):
    load_database(db_url, content_dir)
    base = KnowledgeBase(db_url)
    yield base
    base.close()


@pytest.mark.parametrize(
    "question, expected",
    [
        ("comment obtenir une carte de séjour", "titre-sejour"),
        ("est ce que je peux travailler avec la carte", "titre-sejour"),
        ("ou aller pour deposer une plainte", "porter-plainte"),
        ("le commissariat refuse ma plainte", "porter-plainte"),
        ("il me frappe je suis en danger", "urgence"),
        ("quel numero appeler vite", "urgence"),
        ("je suis malade et je n ai pas de papiers, je peux voir un medecin ?", "sante"),
        ("HOPITAL sans argent", "sante"),
    ],
)
def test_right_topic_comes_first(kb, question, expected):
    assert asyncio.run(kb.search(question))[0].id == expected


def test_ambiguous_question_keeps_the_right_topic_in_the_top_3(kb):
    found = [t.id for t in asyncio.run(kb.search("comment avoir des papiers"))]
    assert "titre-sejour" in found and "sante" in found  # both speak of papiers


def test_conversation_topics_are_never_suggested(kb):
    found = asyncio.run(kb.search("bonjour salut papiers"))
    assert found and "salutation" not in [t.id for t in found]


def test_nothing_in_common_gives_nothing(kb):
    assert asyncio.run(kb.search("xylophone zebre")) == []
    assert asyncio.run(kb.search("le la les de")) == []


def test_at_most_limit_results(kb):
    question = "papiers plainte danger hopital carte police"
    assert len(asyncio.run(kb.search(question))) == 3
    assert len(asyncio.run(kb.search(question, limit=1))) == 1


def test_evaluate_search_reports_rates(tmp_path, content_dir, capsys):
    heldout = tmp_path / "heldout.yml"
    heldout.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: porter-plainte\n  examples: |\n    - aller au commissariat\n"
        "    - ecrire au procureur\n"
        "- intent: sante\n  examples: |\n    - voir un medecin\n    - xylophone\n"
        "- intent: salutation\n  examples: |\n    - bonjour\n"
        "- intent: menu\n  examples: |\n    - menu\n",
        encoding="utf-8",
    )
    assert evaluate_search.main(["--heldout", str(heldout), "--content", str(content_dir)]) == 0
    out = capsys.readouterr().out
    assert "questions: 4" in out and "top-1: 3/4 = 75.0%" in out and "top-3: 3/4" in out
