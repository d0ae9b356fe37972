"""bot/feedback.py: validation and storage of the staff's votes."""

import datetime as dt

import pytest
import sqlalchemy as sa

from bot import feedback
from bot.feedback import FeedbackIn, InvalidFeedback, parse_feedback

GOOD = {
    "topic": "titre-sejour",
    "intent": "titre-sejour",
    "confidence": 0.93,
    "question": "papiers si je porte plainte ?",
    "vote": "up",
}


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tracker.db'}"


def test_parse_keeps_a_good_vote():
    vote = parse_feedback(dict(GOOD, comment="  Très clair.  "))
    assert vote == FeedbackIn(
        "titre-sejour", "titre-sejour", 0.93, "papiers si je porte plainte ?", "up", "Très clair."
    )


def test_parse_cleans_the_question_like_the_channels_do():
    vote = parse_feedback(dict(GOOD, question='  /titre-sejour{"x": 1}\u200b ', comment="   "))
    assert vote.question == 'titre-sejour{"x": 1}'
    assert vote.comment is None


def test_parse_accepts_integer_confidence_and_null_intent():
    vote = parse_feedback(dict(GOOD, confidence=1, intent=None))
    assert vote.confidence == 1.0 and vote.intent is None


@pytest.mark.parametrize(
    "bad",
    [None, [], "texte", dict(GOOD, vote="UP"), dict(GOOD, confidence=float("nan")), dict(GOOD, ip="1.2.3.4")],
)
def test_parse_refuses_bad_votes(bad):
    with pytest.raises(InvalidFeedback):
        parse_feedback(bad)


def test_the_table_is_created_when_missing_and_votes_listed_newest_first(db_url):
    t0 = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
    first = feedback.add_feedback(parse_feedback(GOOD), db_url, now=t0)
    second = feedback.add_feedback(
        parse_feedback(dict(GOOD, vote="down", comment="faux")), db_url, now=t0 + dt.timedelta(hours=1)
    )
    assert sa.inspect(sa.create_engine(db_url)).has_table("feedback")
    rows = feedback.list_feedback(db_url)
    assert [r["id"] for r in rows] == [second, first]
    assert rows[0]["created_at"] == "2025-01-01T13:00:00+00:00"
    assert rows[0]["comment"] == "faux" and rows[1]["comment"] is None
    assert [r["id"] for r in feedback.list_feedback(db_url, vote="down")] == [second]
    assert [r["id"] for r in feedback.list_feedback(db_url, since=t0 + dt.timedelta(minutes=30))] == [second]
    assert len(feedback.list_feedback(db_url, limit=1)) == 1


def test_old_votes_can_be_deleted_by_the_retention_job(db_url):
    now = dt.datetime.now(dt.timezone.utc)
    feedback.add_feedback(parse_feedback(GOOD), db_url, now=now - dt.timedelta(days=40))
    kept = feedback.add_feedback(parse_feedback(GOOD), db_url, now=now)
    assert feedback.delete_older_than(now - dt.timedelta(days=30), db_url) == 1
    assert [r["id"] for r in feedback.list_feedback(db_url)] == [kept]


def test_the_cli_prints_json_lines(db_url, capsys):
    feedback.add_feedback(parse_feedback(dict(GOOD, vote="down")), db_url)
    feedback.add_feedback(parse_feedback(GOOD), db_url)
    assert feedback.main(["--db-url", db_url, "--down"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and '"vote": "down"' in lines[0]


def test_the_default_database_is_the_conversation_store(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'conversations.db'}"
    monkeypatch.setenv("TRACKER_DB_URL", url)
    feedback.add_feedback(parse_feedback(GOOD))
    assert sa.inspect(sa.create_engine(url)).has_table("feedback")
