"""docs/maintainers.md "Add a topic" and "Add a language", done on a copy of the project.

The copy (git's tracked and untracked-but-not-ignored files) gets a new topic
(`travail-saisonnier`: a content file, French and English examples, held-out examples)
and a new language (`xx`: made mechanically from the English data with ROT13, so that
the language detector can tell it apart; every other file of the language is the English
one). `make validate`'s three commands first name what is missing, then pass; one model
is trained in the copy, the copy's own stack starts on free ports, and the REST channel
answers the new topic, and answers a message in the new language in that language.
"""

from __future__ import annotations

import codecs
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from rest_client import ask, payloads

from bot.launcher import free_port, url_ok
from project_paths import REPO_ROOT

TOPIC = "travail-saisonnier"
LANG = "xx"

CONTENT = """\
# One topic of the knowledge base. Edit the French text freely; keep the keys.
id: travail-saisonnier
title: "Travail saisonnier"
audience: victime
version: 1
updated_on: 2026-11-30
answer: |
  Vendanges, cueillette, récoltes : un saisonnier a les droits des autres salariés.
  Même sans papiers, le travail fait doit être payé.
  L'inspection du travail contrôle les employeurs. Elle ne doit pas dire qui s'est plaint.
  Pour être orienté(e) : France Victimes au 116 006, gratuit, 7 jours sur 7, en journée.
details: |
  - Sans papiers, pour les heures, le repos, les congés, la santé et la sécurité, la loi vous traite comme un salarié déclaré.
  - Si c'est sans danger pour vous, gardez ce qui montre votre travail : messages, photos, noms, horaires.
  - Si on vous force à travailler (menaces, papiers confisqués, dette), c'est peut-être de la traite. Voir « Qu'est-ce que la traite ? ».
sources:
  - title: "Article L8252-1 du Code du travail (copie de Légifrance sur Doctrine)"
    reference: "Code du travail art. L8252-1"
    url: "https://www.doctrine.fr/l/texts/codes/LEGITEXT000006072050/articles/LEGIARTI000006904852?version=LEGIARTI000022265919&sourcePage=Legislation&source=next_article"
    supports: "Le salarié étranger sans autorisation est traité comme un salarié régulier pour la durée du travail, le repos, les congés, la santé et la sécurité."
  - title: "Les sanctions liées au travail illégal (ministère du Travail)"
    reference: "Travail illégal : droits du salarié non déclaré ou étranger sans autorisation"
    url: "http://travail-emploi.gouv.fr/droit-du-travail/lutte-contre-le-travail-illegal/article/les-sanctions-liees-au-travail-illegal"
    supports: "Même non déclaré ou étranger sans autorisation, le salarié peut réclamer ses droits à l'inspection du travail ou au conseil de prud'hommes."
related: [salaires-travail, definition-traite, contacts-aide]
keywords:
  - "saisonnier"
  - "vendanges"
  - "cueillette"
  - "récolte"
"""

FRENCH_EXAMPLES = """\
je suis saisonnier pour les vendanges, j'ai des droits ?
travailleur saisonnier sans papiers, on peut me faire quoi
je fais la cueillette des fraises cet ete, c'est legal sans contrat ?
les vendanges c'est 12h par jour, c'est normal pour un saisonnier ?
contrat saisonnier agricole, le patron veut pas me le donner
on m'a promis un travail de saison dans les champs, la ca se passe mal
je ramasse les pommes pour la saison, on dort dans un hangar
saisonnier dans les serres de tomates, est ce que j'ai droit au repos
la recolte des melons se termine, il dit qu'il paye a la fin de la saison
vendangeur etranger, mes droits en france ?
travail saisonnier en agriculture, quelles regles ?
jsuis venu pour la saison des asperges, le chef garde mon passeport
cueilleur de fruits sans titre de sejour, je risque quoi si je me plains
c'est quoi les droits d'un ouvrier agricole saisonnier
je travaille aux vendanges en Champagne et on nous traite mal
saison des abricots, 7 jours sur 7 sans pause
saisonnier logé par l'exploitant dans un container, c'est permis ?
le chef d'equipe de la cueillette nous prend une partie de la paye
on est une dizaine de saisonniers dans une caravane
pour la recolte il faut payer le transport et le logement au patron ?
j'ai signe un contrat de vendanges que je comprends pas
travail de saison a la ferme, pas de jour de repos
droits des saisonniers etrangers dans l'agriculture
emploi saisonnier recolte, est ce que j'ai une assurance si je me blesse
ramassage des olives pour la saison, il veut pas declarer
cueillette de framboises, on est payes au kilo, c'est legal ?
saisonnier recrute par une agence a l'etranger, ils gardent mes papiers
apres les vendanges ils veulent plus me payer
je suis ouvrier saisonnier dans les vergers, qui peut m'aider
les saisonniers ont ils droit aux memes regles que les autres
"""

ENGLISH_EXAMPLES = """\
i am a seasonal worker for the grape harvest, what are my rights
seasonal farm work with no contract, is it legal
fruit picking season, the boss keeps our passports
we pick strawberries 12 hours a day for the season
seasonal worker without papers, can i complain
harvest work on a farm, we sleep in a container
the season ended and the farmer did not pay us
rights of foreign seasonal farm workers in france
"""

HELDOUT_EXAMPLES = """\
bonjour je viens pour les vendanges et on me dit que j'ai aucun droit c vrai ?
saisonier agricole sans papier je peux reclamer quelque chose
ils nous font cueillir des peches du matin au soir, c'est permis pour un saisonnier
quand la saison de recolte est finie on a le droit a quoi
le patron de la ferme dit que les saisonniers ont pas de jours de repos
je bosse dans les vignes pour la saison, contrat jamais signe
travailleuse saisonniere dans le maraichage, on me traite comme une esclave
saison des pommes de terre, on est loges dans une grange
c'est quoi la loi pour les saisonniers etrangers
recrute au pays pour la recolte, une fois arrive tout est different
vendanges payees en liquide et moins que promis, que faire
saisonnier dans une exploitation agricole, qui contacter pour mes droits
"""

# Messages of the REST check; written for the test, not in any training file.
NEW_TOPIC_QUESTION = "je fais la saison des vendanges, quels sont mes droits de saisonnier ?"
NEW_LANGUAGE_QUESTION = codecs.encode("can trafficking victims get a residence permit in france", "rot13")


def nlu_file(intent: str, examples: str, header: str = "") -> str:
    lines = "".join(f"    - {line}\n" for line in examples.strip().splitlines())
    return f'{header}version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n{lines}'


def rot13_nlu(source: Path, target: Path) -> None:
    """The examples of one NLU YAML file with ROT13 letters: the language `xx`."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    blocks = []
    for item in data.get("nlu") or []:
        examples = [
            line.strip()[2:]
            for line in str(item.get("examples") or "").splitlines()
            if line.strip().startswith("- ")
        ]
        text = "".join(f"    - {codecs.encode(e, 'rot13')}\n" for e in examples)
        blocks.append(f"- intent: {item['intent']}\n  examples: |\n{text}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f'version: "3.1"\nnlu:\n{"".join(blocks)}', encoding="utf-8")


def copy_project(target: Path) -> None:
    """The files a clone would have, plus new files not yet committed."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if name == ".venv" or source.is_symlink() or not source.is_file():
            continue  # the shared virtualenv link, and tracked files deleted in the worktree
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def env_for(copy: Path, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DB_URL")}
    env.update(PYTHONPATH=str(copy), TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false", **extra)
    return env


@dataclass
class Run:
    code: int
    output: str


def validate(copy: Path) -> Dict[str, Run]:
    """`make validate`'s three commands, each run in the copy (as the Makefile does)."""
    commands = {
        "rasa": [str(Path(sys.executable).parent / "rasa"), "data", "validate", "--fail-on-warnings"],
        "knowledge": [sys.executable, "-m", "knowledge", "check"],
        "consistency": [sys.executable, "-m", "retrain.consistency"],
    }
    runs = {}
    for name, command in commands.items():
        done = subprocess.run(
            command, cwd=copy, env=env_for(copy), capture_output=True, text=True, timeout=900
        )
        runs[name] = Run(done.returncode, done.stdout + done.stderr)
    return runs


def add_topic_examples(copy: Path) -> None:
    """Step 2 of "Add a topic": the examples files (French, and English)."""
    (copy / "data/nlu" / f"{TOPIC}.yml").write_text(nlu_file(TOPIC, FRENCH_EXAMPLES), encoding="utf-8")
    (copy / "data/nlu/en" / f"{TOPIC}.yml").write_text(nlu_file(TOPIC, ENGLISH_EXAMPLES), encoding="utf-8")


def add_topic_rest(copy: Path) -> None:
    """Steps 1 and 3 of "Add a topic": the content file and the held-out examples."""
    (copy / "knowledge/content" / f"{TOPIC}.yml").write_text(CONTENT, encoding="utf-8")
    heldout = copy / "heldout/topics.yml"
    block = "".join(f"    - {line}\n" for line in HELDOUT_EXAMPLES.strip().splitlines())
    with heldout.open("a", encoding="utf-8") as f:
        f.write(f"- intent: {TOPIC}\n  examples: |\n{block}")


def add_language_examples(copy: Path) -> None:
    """Step 1 of "Add a language": data/nlu/xx/, one file per intent."""
    for source in sorted((copy / "data/nlu/en").glob("*.yml")):
        rot13_nlu(source, copy / "data/nlu" / LANG / source.name)


def add_language_rest(copy: Path) -> None:
    """Steps 2-5 of "Add a language": held-out set, translations, texts, name."""
    for source in sorted((copy / "heldout/en").glob("*.yml")):
        rot13_nlu(source, copy / "heldout" / LANG / source.name)
    (copy / "knowledge/translations" / LANG).mkdir()
    for source in sorted((copy / "knowledge/translations/en").glob("*.yml")):
        text = source.read_text(encoding="utf-8").replace("\nlanguage: en\n", f"\nlanguage: {LANG}\n")
        (copy / "knowledge/translations" / LANG / source.name).write_text(text, encoding="utf-8")
    for folder in ("actions", "bot/channels", "bot/webchat", "telegram_front", "bot/responses"):
        shutil.copy(copy / folder / "messages_en.yml", copy / folder / f"messages_{LANG}.yml")
    names = copy / "actions/messages_fr.yml"
    text = names.read_text(encoding="utf-8")
    assert '  ar: "العربية"\n' in text
    names.write_text(
        text.replace('  ar: "العربية"\n', f'  ar: "العربية"\n  {LANG}: "Xx"\n', 1), encoding="utf-8"
    )


def warnings_about(run: Run, language: str) -> List[str]:
    return [
        line
        for line in run.output.splitlines()
        if line.startswith("warning:") and f"language {language}" in line
    ]


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    """The copy, validated half-way (examples only) and complete."""
    copy = tmp_path_factory.mktemp("house")
    copy_project(copy)
    add_topic_examples(copy)
    add_language_examples(copy)
    partial = validate(copy)
    add_topic_rest(copy)
    add_language_rest(copy)
    complete = validate(copy)
    return copy, partial, complete


def test_validation_names_what_a_new_topic_lacks(house):
    _, partial, _ = house
    assert partial["knowledge"].code != 0
    assert f"add knowledge/content/{TOPIC}.yml" in partial["knowledge"].output
    assert partial["consistency"].code != 0
    assert f"topic intent {TOPIC} has no knowledge entry" in partial["consistency"].output
    assert f"topic {TOPIC} has no held-out examples" in partial["consistency"].output


def test_validation_names_what_a_new_language_lacks(house):
    _, partial, _ = house
    lacking = "\n".join(warnings_about(partial["consistency"], LANG))
    for expected in (
        f"heldout/{LANG}: language {LANG} has no held-out set",
        f"knowledge/translations/{LANG}: language {LANG} has no translated topic",
        f"bot/responses/messages_{LANG}.yml: language {LANG} has no emergency responses",
        f"actions/messages_{LANG}.yml: language {LANG} lacks",
        f"bot/channels/messages_{LANG}.yml: language {LANG} lacks",
        f"telegram_front/messages_{LANG}.yml: language {LANG} lacks",
        f"noms_des_langues has no name for language {LANG}",
    ):
        assert expected in lacking


def test_validation_passes_once_the_files_are_there(house):
    _, _, complete = house
    for name, run in complete.items():
        assert run.code == 0, f"{name}:\n{run.output[-3000:]}"
    assert warnings_about(complete["consistency"], LANG) == []


@pytest.fixture(scope="module")
def copy_stack(house, tmp_path_factory):
    """One model trained in the copy, and the copy's own servers on free ports."""
    copy, _, complete = house
    databases = tmp_path_factory.mktemp("house-databases")
    assert all(run.code == 0 for run in complete.values()), "the copy does not validate"
    env = env_for(copy)
    trained = subprocess.run(
        [sys.executable, "-m", "retrain.models", "train"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-4000:]
    knowledge_url = f"sqlite:///{databases / 'knowledge.db'}"
    loaded = subprocess.run(
        [sys.executable, "-m", "knowledge", "load", "--db", knowledge_url],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]

    rasa_port, actions_port = free_port(), free_port()
    log = open(copy / "servers.log", "ab")
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.launcher",
            "--rasa-port",
            str(rasa_port),
            "--actions-port",
            str(actions_port),
        ],
        cwd=copy,
        env=env_for(
            copy, KNOWLEDGE_DB_URL=knowledge_url, TRACKER_DB_URL=f"sqlite:///{databases / 'tracker.db'}"
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    @dataclass
    class CopyStack:
        rasa_url: str

    stack = CopyStack(f"http://127.0.0.1:{rasa_port}")
    try:
        deadline = time.monotonic() + 300
        while not url_ok(f"{stack.rasa_url}/webhooks/rest/"):
            if launcher.poll() is not None or time.monotonic() > deadline:
                tail = (copy / "servers.log").read_text(errors="replace")[-4000:]
                pytest.fail(f"the copy's stack did not start\n{tail}")
            time.sleep(1)
        yield stack
    finally:
        # SIGTERM makes the launcher stop the servers it started (bot/launcher.py).
        launcher.send_signal(signal.SIGTERM)
        try:
            launcher.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        log.close()


def test_the_new_topic_is_answered_over_rest(copy_stack):
    [payload] = payloads(ask(copy_stack, "house-topic", NEW_TOPIC_QUESTION))
    assert payload["topic"] == TOPIC
    assert payload["intent"] == TOPIC


def test_a_message_in_the_new_language_is_answered_in_it(copy_stack):
    [payload] = payloads(ask(copy_stack, "house-language", NEW_LANGUAGE_QUESTION))
    assert payload["language"] == LANG
    assert payload["topic"] == "titre-sejour"
