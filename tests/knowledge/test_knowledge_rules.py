"""The content rules of issue #16: honest sources (supports, no home pages, stale list)
and plain, safe words for people in distress (knowledge/style.py). Each rule has a bad
fixture that must fail; the real content is checked last."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from kb_fixtures import TOPICS, run_knowledge_check, topic_yaml

from knowledge.__main__ import main, months_before
from knowledge.content import ContentError, parse_topic_file, read_entries, url_problem
from knowledge.style import default_rules, style_problems
from project_paths import REPO_ROOT


@pytest.fixture
def project(tmp_path, content_dir):
    """The fixture content with NLU data, a domain and a required list that agree."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    for topic_id in TOPICS:
        intent = topic_id
        (nlu / f"{intent}.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - une question\n', encoding="utf-8"
        )
    domain = tmp_path / "domain.yml"
    domain.write_text('version: "3.1"\nintents:\n  - titre-sejour\n', encoding="utf-8")
    required = tmp_path / "required.txt"
    required.write_text("titre-sejour\n", encoding="utf-8")
    return {"content": content_dir, "nlu": nlu, "domain": domain, "required": required}


def check_problems(project, capsys) -> list[str]:
    code, problems, _ = run_knowledge_check(project, capsys)
    assert (code == 0) == (not problems)
    return problems


def write(project, topic_id, **changes):
    (project["content"] / f"{topic_id}.yml").write_text(topic_yaml(topic_id, **changes), encoding="utf-8")


def only_problem(project, capsys) -> str:
    problems = check_problems(project, capsys)
    assert len(problems) == 1, problems
    return problems[0]


def test_fixture_content_follows_every_rule(project, capsys):
    assert check_problems(project, capsys) == []


# ---------------------------------------------------------------- honest sources


@pytest.mark.parametrize(
    "url",
    [
        "https://www.service-public.fr",
        "https://www.legifrance.gouv.fr/",
        "https://www.coe.int/fr/",
        "https://www.coe.int/en",
        "http://example.org/fr-fr/",
    ],
)
def test_home_page_urls_are_refused(url):
    assert "home page" in url_problem(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.service-public.fr/particuliers/vosdroits/F32257",
        "https://www.gisti.org/spip.php?article7049",
        "https://example.org/?p=12",
        "repo:README.md",
    ],
)
def test_page_urls_and_repository_files_are_accepted(url):
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url, words",
    [
        ("repo:pas/de/fichier.md", "no such file"),
        ("repo:../etc/passwd", "no such file"),
        ("ftp://example.org/fiche", "must start with"),
    ],
)
def test_other_urls_are_refused(url, words):
    assert words in url_problem(url)


def test_home_page_source_names_file_line_and_field(project, capsys):
    path = project["content"] / "sante.yml"
    path.write_text(
        topic_yaml("sante").replace("https://example.org/sante", "https://www.service-public.fr"),
        encoding="utf-8",
    )
    problem = only_problem(project, capsys)
    assert "sante.yml:" in problem and "sources[0].url:" in problem and "home page" in problem


def test_supports_is_required_and_verified_on_optional(content_dir):
    path = content_dir / "sante.yml"
    text = topic_yaml("sante")
    path.write_text(text.replace("    verified_on: 2026-11-20\n", ""), encoding="utf-8")
    topic = parse_topic_file(path)
    assert topic.sources[0].verified_on is None
    assert topic.sources[0].supports == "Ce que dit la fiche sante"
    path.write_text("\n".join(l for l in text.splitlines() if "supports:" not in l) + "\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"sources\[0\]\.supports: missing or empty"):
        parse_topic_file(path)


def test_months_before_keeps_the_day_or_the_end_of_a_short_month():
    assert months_before(date(2026, 11, 30), 12) == date(2025, 11, 30)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 2) == date(2025, 11, 15)


def test_stale_lists_sources_never_verified_or_too_old(content_dir, capsys):
    (content_dir / "sante.yml").write_text(
        topic_yaml("sante").replace("    verified_on: 2026-11-20\n", ""), encoding="utf-8"
    )
    (content_dir / "urgence.yml").write_text(
        topic_yaml("urgence").replace("verified_on: 2026-11-20", "verified_on: 2025-06-01"), encoding="utf-8"
    )
    code = main(["stale", "--content", str(content_dir), "--months", "12", "--today", "2026-11-30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sante.yml:" in out and "never verified" in out
    assert "urgence.yml:" in out and "verified 2025-06-01" in out
    assert "supports: Ce que dit la fiche sante" in out
    assert "titre-sejour.yml" not in out  # verified 2026-11-20: recent enough
    assert out.strip().splitlines()[-1].startswith(f"2 of {len(TOPICS)} source(s) to check")


# ---------------------------------------------------------------- plain words, victim answers


def test_sentence_longer_than_20_words(project, capsys):
    write(
        project,
        "urgence",
        answer="En danger immédiat, si quelqu'un vous frappe ou vous menace chez vous ou dans "
        "la rue, la nuit comme le jour, appelez le 17 ou le 112.",
    )
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "answer: sentence of 27 words" in problem


@pytest.mark.parametrize("words", ["article L425-1 du code", "l'article 706-3", "le 225-4-1", "R. 425-2"])
def test_article_number_in_a_victim_answer(project, capsys, words):
    write(project, "urgence", answer=f"C'est prévu par {words}. En danger immédiat, appelez le 17 ou le 112.")
    problems = check_problems(project, capsys)
    assert problems and all("urgence.yml:" in p and "article number" in p for p in problems)


def test_article_numbers_are_fine_in_details_and_professional_answers(project, capsys):
    write(
        project, "urgence", details="Voir l'article L425-1 et l'article 706-57 du Code de procédure pénale."
    )
    write(project, "salutation", audience="professionnel", answer="La carte de l'article L425-1 du CESEDA.")
    assert check_problems(project, capsys) == []


def test_acronym_not_explained(project, capsys):
    write(
        project, "urgence", answer="L'OFPRA étudie la demande. En danger immédiat, appelez le 17 ou le 112."
    )
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "acronym OFPRA not explained" in problem


@pytest.mark.parametrize(
    "text",
    [
        "L'OFPRA (Office français de protection des réfugiés et apatrides) étudie la demande.",
        "L'OFPRA – l'office de protection des réfugiés – étudie la demande.",
        "L'office de protection des réfugiés (OFPRA) étudie la demande. Puis l'OFPRA décide.",
    ],
)
def test_explained_acronyms_pass(project, capsys, text):
    write(project, "urgence", answer=f"{text} En danger immédiat, appelez le 17 ou le 112.")
    assert check_problems(project, capsys) == []


def test_last_line_without_a_concrete_next_step(project, capsys):
    write(
        project,
        "urgence",
        answer="En danger immédiat, appelez le 17 ou le 112. Faites-vous aider par une association.",
    )
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "last line must give one concrete next step" in problem


def test_a_number_inside_another_number_is_no_contact(project, capsys):
    write(project, "urgence", answer="Appelez vite. Le plan date de 2017.")
    assert "last line" in only_problem(project, capsys)


# ---------------------------------------------------------------- safety, every text


@pytest.mark.parametrize(
    "promise",
    [
        "Si vous portez plainte, vous obtiendrez une carte de séjour.",
        "Vous aurez droit à une carte de séjour.",
        "Vous recevrez un récépissé.",
        "Porter plainte vous ouvre le droit à une carte.",
    ],
)
def test_promises_are_refused_even_in_details_and_professional_texts(project, capsys, promise):
    write(project, "salutation", audience="professionnel", details=promise)
    problem = only_problem(project, capsys)
    assert "salutation.yml:" in problem and "details: promises an outcome" in problem


def test_possibilities_are_fine(project, capsys):
    write(project, "salutation", details="Vous pouvez demander une carte. Le préfet peut la délivrer.")
    assert check_problems(project, capsys) == []


def test_evidence_advice_without_safety(project, capsys):
    write(project, "urgence", details="Gardez les messages et les photos qui montrent les faits.")
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "si c'est sans danger pour vous" in problem


def test_evidence_advice_with_safety_passes(project, capsys):
    write(project, "urgence", details="Si c'est sans danger pour vous, gardez les messages et les photos.")
    assert check_problems(project, capsys) == []


def test_going_to_the_police_without_talking_to_an_association_first(project, capsys):
    write(project, "urgence", answer="Vous pouvez porter plainte au commissariat. Pour en parler : 116 006.")
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "answer: speaks of going to the police" in problem


def test_going_to_the_police_in_the_details_needs_the_advice_too(project, capsys):
    write(project, "urgence", details="Vous pouvez aussi porter plainte à la gendarmerie.")
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "details: speaks of going to the police" in problem


def test_a_topic_title_in_quotes_is_no_police_advice(project, capsys):
    write(project, "urgence", details="Voir aussi « Porter plainte ».")
    assert check_problems(project, capsys) == []


def test_arrest_without_lawyer_and_interpreter(project, capsys):
    write(
        project,
        "urgence",
        details="Si vous êtes arrêté(e), dites que vous avez été forcé(e) et parlez-en à un avocat.",
    )
    problem = only_problem(project, capsys)
    assert "urgence.yml:" in problem and "lawyer and an interpreter" in problem


def test_arrest_with_lawyer_and_interpreter_passes(project, capsys):
    write(project, "urgence", details="Si vous êtes arrêté(e), demandez d'abord un avocat et un interprète.")
    assert check_problems(project, capsys) == []


# ---------------------------------------------------------------- the real content


def test_every_real_topic_follows_the_content_rules():
    """Lists every answer or text of knowledge/content/ that breaks a rule (all files,
    including topics being written elsewhere)."""
    entries, problems = read_entries()
    rules = default_rules()
    found = [str(p) for p in problems]
    for entry in entries:
        found.extend(str(p) for p in style_problems(entry, rules))
    assert not found, "content breaking the rules:\n" + "\n".join(found)


def test_stale_runs_on_the_real_content():
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "stale", "--months", "12"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "source(s) to check" in result.stdout.splitlines()[-1]
