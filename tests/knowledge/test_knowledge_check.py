"""`python -m knowledge check`: one clear message per problem, naming file and field."""

from __future__ import annotations

import subprocess
import sys

import pytest
from kb_fixtures import TOPICS, run_knowledge_check, topic_yaml

from knowledge.__main__ import main
from project_paths import REPO_ROOT


@pytest.fixture
def project(tmp_path, content_dir):
    """Content plus NLU data, a domain and a required list that all agree."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    for topic_id in TOPICS:
        intent = topic_id
        (nlu / f"{intent}.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n    - une question\n', encoding="utf-8"
        )
    (nlu / "controle.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: en_savoir_plus\n  examples: |\n    - plus\n'
        "- intent: menu\n  examples: |\n    - menu\n"
        "- intent: effacer_conversation\n  examples: |\n    - efface\n",
        encoding="utf-8",
    )
    domain = tmp_path / "domain.yml"
    domain.write_text(
        'version: "3.1"\nintents:\n  - titre-sejour\n  - urgence:\n      use_entities: []\n'
        "  - menu\n  - nlu_fallback\n",
        encoding="utf-8",
    )
    required = tmp_path / "required.txt"
    required.write_text("titre-sejour\nporter-plainte\nurgence\n", encoding="utf-8")
    return {"content": content_dir, "nlu": nlu, "domain": domain, "required": required}


SOURCE_LINES = 6  # "sources:", title, reference, url, supports, verified_on


def test_clean_content_prints_ok(project, capsys):
    code, problems, out = run_knowledge_check(project, capsys)
    assert (code, problems, out.strip()) == (0, [], f"OK: {len(TOPICS)} topics")


def test_missing_domain_file_is_skipped(project, capsys):
    project["domain"].unlink()
    assert run_knowledge_check(project, capsys)[0] == 0


def _edit(project, topic_id, old, new):
    path = project["content"] / f"{topic_id}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(project, topic_id, text) -> int:
    lines = (project["content"] / f"{topic_id}.yml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _single_problem(project, capsys) -> str:
    code, problems, _ = run_knowledge_check(project, capsys)
    assert code == 1
    assert len(problems) == 1, problems
    return problems[0]


def test_missing_sources(project, capsys):
    path = project["content"] / "sante.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("sources:")
    path.write_text("\n".join(lines[:start] + lines[start + SOURCE_LINES :]) + "\n", encoding="utf-8")
    problem = _single_problem(project, capsys)
    assert "sante.yml: sources: missing or empty" in problem


def test_empty_sources(project, capsys):
    path = project["content"] / "sante.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("sources:")
    lines[start : start + SOURCE_LINES] = ["sources: []"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = _single_problem(project, capsys)
    assert f"sante.yml:{start + 1}: sources: missing or empty" in problem


@pytest.mark.parametrize("key", ["title", "reference", "url", "supports"])
def test_source_without_required_key(project, capsys, key):
    path = project["content"] / "sante.yml"
    lines = [
        l
        for l in path.read_text(encoding="utf-8").splitlines()
        if not l.lstrip(" -").startswith(f"{key}:") or not l.startswith("  ")
    ]
    if key == "title":  # the item now starts at reference: keep it a list item
        lines = [l.replace("    reference", "  - reference") for l in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = _single_problem(project, capsys)
    assert "sante.yml:" in problem and f"sources[0].{key}: missing or empty" in problem


def test_source_with_empty_url(project, capsys):
    _edit(project, "sante", 'url: "https://example.org/sante"', 'url: ""')
    line = _line_of(project, "sante", 'url: ""')
    assert f"sante.yml:{line}: sources[0].url: missing or empty" in _single_problem(project, capsys)


def test_unknown_related_topic(project, capsys):
    _edit(project, "titre-sejour", "related: [porter-plainte]", "related: [porter-plainte, logement]")
    problem = _single_problem(project, capsys)
    assert "titre-sejour.yml:" in problem and "related[1]: unknown topic 'logement'" in problem


def test_duplicate_id_in_two_files(project, capsys):
    (project["content"] / "sante-bis.yml").write_text(topic_yaml("sante"), encoding="utf-8")
    code, problems, _ = run_knowledge_check(project, capsys)
    assert code == 1
    duplicate = [p for p in problems if "duplicate id 'sante'" in p]
    assert len(duplicate) == 1, problems
    assert "sante.yml:1: id: duplicate id 'sante', also in" in duplicate[0]
    assert "sante-bis.yml" in duplicate[0]
    assert any("sante-bis.yml:1: id: 'sante' does not match the file name" in p for p in problems)


def test_id_not_matching_file_name(project, capsys):
    _edit(project, "sante", "id: sante", "id: soins")
    problem = _single_problem(project, capsys)
    assert "sante.yml:1: id: 'soins' does not match the file name 'sante.yml'" in problem


def test_answer_longer_than_500_characters(project, capsys):
    _edit(project, "sante", "answer: |\n", "answer: |\n  " + "très long " * 50 + "\n")
    problem = _single_problem(project, capsys)
    assert "sante.yml:6: answer:" in problem and "at most 500" in problem


def test_missing_required_topic(project, capsys):
    project["required"].write_text("titre-sejour\nasile\n", encoding="utf-8")
    problem = _single_problem(project, capsys)
    assert "required.txt" in problem and "no topic 'asile'" in problem


def test_nlu_intent_without_topic(project, capsys):
    (project["nlu"] / "asile.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: asile\n  examples: |\n    - asile ?\n', encoding="utf-8"
    )
    problem = _single_problem(project, capsys)
    assert "asile.yml: intent asile: no topic 'asile'" in problem


def test_domain_intent_without_topic(project, capsys):
    with project["domain"].open("a", encoding="utf-8") as domain:
        domain.write("  - retour-pays\n")
    problem = _single_problem(project, capsys)
    assert "domain.yml: intents: retour-pays: no topic 'retour-pays'" in problem


def test_broken_file_is_reported_once(project, capsys):
    (project["content"] / "urgence.yml").write_text("id: urgence\ntitle: [\n", encoding="utf-8")
    problem = _single_problem(project, capsys)  # not also "no topic 'urgence'" nor related
    assert "urgence.yml:" in problem and "invalid YAML" in problem


def test_every_problem_gets_its_own_message(project, capsys):
    _edit(project, "sante", "id: sante", "id: soins")
    _edit(project, "titre-sejour", "related: [porter-plainte]", "related: [logement]")
    project["required"].write_text("asile\n", encoding="utf-8")
    code, problems, _ = run_knowledge_check(project, capsys)
    assert code == 1 and len(problems) == 3


def test_list_prints_sorted_ids(content_dir, capsys):
    assert main(["list", "--content", str(content_dir)]) == 0
    assert capsys.readouterr().out.split() == sorted(TOPICS)


def test_repository_content_passes_check():
    """The real content, NLU data and domain (fails until the content is complete)."""
    result = subprocess.run(
        [sys.executable, "-m", "knowledge", "check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")
