"""The page, its assets and the feedback endpoint, over HTTP."""

import json
import re
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

import pytest
import sqlalchemy as sa
import yaml

import user_texts
from bot import feedback
from bot.channels.webchat import ASSETS, BUNDLE, PAGE_DIR


def fetch(
    url: str,
    data: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    method: Optional[str] = None,
) -> Tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def post_feedback(server, body: Any, headers: Optional[Dict[str, str]] = None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return fetch(
        f"{server.url}/webchat/feedback",
        raw,
        {"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )


GOOD = {
    "topic": "titre-sejour",
    "intent": "titre-sejour",
    "confidence": 0.87,
    "question": "Est-ce que je peux avoir des papiers ?",
    "vote": "down",
    "comment": "Il manque le délai de réflexion.",
}


def test_the_page_is_french_and_loads_only_its_own_scripts(fake_webchat):
    status, headers, body = fetch(f"{fake_webchat.url}/webchat/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert '<html lang="fr" dir="ltr">' in page
    assert '<title data-text="page_title">Notes</title>' in page  # neutral in the browser's history (S16)
    scripts = re.findall(r"<script\b([^>]*)>", page)
    assert scripts and all('src="/webchat/static/' in attrs for attrs in scripts)
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handler
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_webchat_without_slash_redirects_to_the_page(fake_webchat):
    status, headers, _ = fetch(f"{fake_webchat.url}/webchat")
    assert status in (301, 302, 307, 308)
    assert headers["Location"].endswith("/webchat/")


def test_the_page_script_never_writes_html():
    script = (PAGE_DIR / "page.js").read_text(encoding="utf-8")
    assert "innerHTML" not in script and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script
    assert "eval(" not in script


@pytest.mark.parametrize("name", ["page.js", "page.css"])
def test_the_page_assets_are_served(fake_webchat, name):
    status, headers, body = fetch(f"{fake_webchat.url}/webchat/static/{name}")
    assert status == 200
    assert body == ASSETS[name][0].read_bytes()
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_rasa_webchat_bundle_is_served_from_our_origin(fake_webchat):
    assert BUNDLE.is_file(), "rasa-webchat is not installed: run the set-up (npm ci --prefix var/webchat)"
    package = json.loads((BUNDLE.parent.parent / "package.json").read_text())
    assert package["version"] == "1.0.1"
    status, headers, body = fetch(f"{fake_webchat.url}/webchat/static/rasa-webchat.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert body == BUNDLE.read_bytes()


@pytest.mark.parametrize("name", ["index.js", "..%2F..%2Fbot%2Ffeedback.py", "page.py", "index.html"])
def test_only_known_assets_are_served(fake_webchat, name):
    status, _, _ = fetch(f"{fake_webchat.url}/webchat/static/{name}")
    assert status == 404


def test_a_vote_is_stored_without_anything_that_identifies_a_person(fake_webchat):
    status, headers, body = post_feedback(
        fake_webchat, GOOD, {"Origin": fake_webchat.url, "User-Agent": "Navigateur-Test/1.0"}
    )
    assert status == 201, body
    feedback_id = json.loads(body)["id"]
    rows = [r for r in feedback.list_feedback(fake_webchat.tracker_db_url) if r["id"] == feedback_id]
    assert len(rows) == 1
    row = rows[0]
    assert {k: row[k] for k in GOOD} == GOOD
    assert row["created_at"].endswith("+00:00")
    columns = {
        c["name"] for c in sa.inspect(sa.create_engine(fake_webchat.tracker_db_url)).get_columns("feedback")
    }
    assert columns == {"id", "created_at", "topic", "intent", "confidence", "question", "vote", "comment"}
    everything = json.dumps(feedback.list_feedback(fake_webchat.tracker_db_url))
    assert "Navigateur-Test" not in everything and "127.0.0.1" not in everything


def test_a_vote_on_a_reply_of_the_channel_itself_is_accepted(fake_webchat):
    body = {"topic": "urgence", "intent": None, "confidence": None, "question": "boom", "vote": "up"}
    status, _, raw = post_feedback(fake_webchat, body)
    assert status == 201, raw


@pytest.mark.parametrize(
    "change",
    [
        {"vote": "meh"},
        {"vote": None},
        {"topic": "<script>alert(1)</script>"},
        {"topic": ""},
        {"intent": "titre sejour; DROP TABLE"},
        {"intent": 3},
        {"confidence": 1.5},
        {"confidence": -0.1},
        {"confidence": True},
        {"confidence": "0.9"},
        {"question": ""},
        {"question": "   "},
        {"question": "q" * 2001},
        {"question": ["liste"]},
        {"comment": "c" * 1001},
        {"comment": 12},
        {"sender_id": "abc"},
    ],
)
def test_bad_votes_are_refused(fake_webchat, change):
    body = dict(GOOD, **change)
    status, _, raw = post_feedback(fake_webchat, body)
    assert status == 400, raw
    assert json.loads(raw)["error"]


@pytest.mark.parametrize("missing", ["topic", "question", "vote"])
def test_votes_missing_a_field_are_refused(fake_webchat, missing):
    body = {k: v for k, v in GOOD.items() if k != missing}
    status, _, _ = post_feedback(fake_webchat, body)
    assert status == 400


def test_malformed_requests_are_refused(fake_webchat):
    assert post_feedback(fake_webchat, b"{pas du json")[0] == 400
    assert post_feedback(fake_webchat, [GOOD])[0] == 400
    assert post_feedback(fake_webchat, b"x" * (9 * 1024))[0] == 413
    text = fetch(
        f"{fake_webchat.url}/webchat/feedback",
        json.dumps(GOOD).encode(),
        {"Content-Type": "text/plain"},
        method="POST",
    )
    assert text[0] == 415
    assert fetch(f"{fake_webchat.url}/webchat/feedback")[0] in (404, 405)


def test_votes_from_another_origin_are_refused(fake_webchat):
    before = len(feedback.list_feedback(fake_webchat.tracker_db_url))
    assert post_feedback(fake_webchat, GOOD, {"Origin": "http://evil.example"})[0] == 403
    assert post_feedback(fake_webchat, GOOD, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    status, headers, _ = post_feedback(fake_webchat, GOOD, {"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
    assert len(feedback.list_feedback(fake_webchat.tracker_db_url)) == before


# --------------------------------------------------------------------------- the page's words
LANGUAGES = ["fr", "en", "ro", "bg", "ar"]  # in the order of the bot's language buttons


def _keys(data, prefix=""):
    out = set()
    for key, value in data.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_page_texts_are_served_in_each_language(fake_webchat, code):
    status, headers, body = fetch(f"{fake_webchat.url}/webchat/texts/{code}.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    data = json.loads(body)
    assert data["language"] == code
    french = yaml.safe_load((PAGE_DIR / "messages_fr.yml").read_text(encoding="utf-8"))
    assert _keys(data["texts"]) == _keys(french)
    assert [language["code"] for language in data["languages"]] == LANGUAGES
    names = {language["code"]: language["name"] for language in data["languages"]}
    assert names == {"fr": "Français", "en": "English", "ro": "Română", "bg": "Български", "ar": "العربية"}
    directions = {language["code"]: language["direction"] for language in data["languages"]}
    assert directions == {"fr": "ltr", "en": "ltr", "ro": "ltr", "bg": "ltr", "ar": "rtl"}
    if code != "fr":
        assert data["texts"]["title"] != french["title"]  # translated, not the fallback


@pytest.mark.parametrize(
    "name",
    [
        "xx.json",
        "FR.json",
        "fr",
        "fr.yml",
        "fr.json.bak",
        "..%2Ffr.json",
        "messages_fr.json",
        "frr.json",
        "%2e%2e.json",
        "fr%00.json",
    ],
)
def test_unknown_language_codes_get_404(fake_webchat, name):
    status, headers, body = fetch(f"{fake_webchat.url}/webchat/texts/{name}")
    assert status == 404
    assert "texts" not in body.decode("utf-8", "replace")


@pytest.mark.parametrize("code", LANGUAGES[1:])
def test_each_translation_of_the_page_has_every_text(code):
    assert user_texts.missing_keys(PAGE_DIR, code) == []


def test_every_text_the_page_uses_exists_and_none_is_left_in_the_script():
    french = _keys(yaml.safe_load((PAGE_DIR / "messages_fr.yml").read_text(encoding="utf-8")))
    html = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
    script = (PAGE_DIR / "page.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-(?:text|title|label)="([^"]+)"', html))
    used |= set(re.findall(r'\bt\("([a-z_.]+)"[,)]', script))
    used |= {"connection." + key for key in re.findall(r'setConnection\("\w+", "(\w+)"\)', script)}
    assert len(used) > 40
    assert used <= french, used - french
    for french_words in (
        "Réponse affichée",
        "Envoyer",
        "Connecté",
        "Sujet",
        "Appuie",
        "Écrivez",
        "Aucune source",
        "Vérifié le",
        "Merci",
    ):
        assert french_words not in script, french_words


def test_the_page_names_the_real_set_up_command(fake_webchat):
    page = fetch(f"{fake_webchat.url}/webchat/")[2].decode()
    assert "make run" in page and "make setup" not in page
    source = (PAGE_DIR.parent / "channels" / "webchat.py").read_text(encoding="utf-8")
    assert "make setup" not in source
