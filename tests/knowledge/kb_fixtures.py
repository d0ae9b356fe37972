"""Small content of our own for the knowledge tests (never the real, changing content)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from knowledge.__main__ import main

TOPICS = {
    "titre-sejour": dict(
        title="Titre de séjour pour les victimes",
        audience="victime",
        answer="Si vous portez plainte ou témoignez, vous pouvez demander une carte de séjour "
        "temporaire d'un an qui permet de travailler. Avant d'aller à la police, parlez "
        "à une association ou à un avocat : 116 006 (France Victimes).",
        details="La carte est renouvelée pendant la procédure pénale. Après une condamnation, "
        "une carte de résident de dix ans est possible.",
        related=["porter-plainte"],
        keywords=["papiers", "carte de séjour", "régularisation"],
    ),
    "porter-plainte": dict(
        title="Porter plainte",
        audience="victime",
        answer="Vous pouvez porter plainte au commissariat, à la gendarmerie ou écrire au "
        "procureur de la République. La police ne peut pas refuser votre plainte. Sans "
        "titre de séjour, parlez d'abord à une association ou à un avocat. Pour être "
        "conseillé(e) : 116 006 (France Victimes).",
        details="Si vous avez peur des représailles, vous pouvez demander à être entendu(e) "
        "de façon anonyme.",
        related=["titre-sejour", "urgence"],
        keywords=["plainte", "police", "commissariat", "procureur"],
    ),
    "urgence": dict(
        title="Urgence : danger immédiat",
        audience="victime",
        answer="En danger immédiat, appelez le 17 ou le 112. Si vous ne pouvez pas parler, "
        "envoyez un SMS au 114.",
        details="Ces numéros sont gratuits et fonctionnent sans crédit.",
        related=[],
        keywords=["danger", "secours", "enfermé", "frappé"],
    ),
    "sante": dict(
        title="Se soigner sans papiers",
        audience="victime",
        answer="Même sans papiers, vous pouvez être soigné(e). Il existe l'aide médicale de "
        "l'État (AME) et les permanences d'accès aux soins de santé (PASS) à l'hôpital. "
        "Pour être orienté(e) : 116 006 (France Victimes).",
        details="Un soutien psychologique est aussi possible auprès des associations.",
        related=[],
        keywords=["médecin", "hôpital", "soins", "malade"],
    ),
    "salutation": dict(
        title="Bonjour",
        audience="conversation",
        answer="Bonjour, je réponds à vos questions sur vos droits de victime de la traite.",
        details="",
        related=[],
        keywords=["bonjour", "salut", "papiers"],
    ),
}


def topic_yaml(topic_id: str, **changes) -> str:
    """The YAML text of one fixture topic (changes override its keys)."""
    spec = {**TOPICS.get(topic_id, TOPICS["sante"]), **changes}
    lines = [
        f"id: {spec.get('id', topic_id)}",
        'title: "%s"' % spec["title"],
        f"audience: {spec['audience']}",
        f"version: {spec.get('version', 1)}",
        f"updated_on: {spec.get('updated_on', '2026-11-26')}",
        "answer: |",  # one sentence a line, as in the real content (rules read lines)
        textwrap.indent(spec["answer"].replace(". ", ".\n"), "  "),
        "details: |\n" + textwrap.indent(textwrap.fill(spec["details"], 80), "  ")
        if spec["details"]
        else 'details: ""',
        "sources:",
        f'  - title: "Source sur {topic_id}"',
        '    reference: "Code, art. 1"',
        f'    url: "https://example.org/{topic_id}"',
        f'    supports: "Ce que dit la fiche {topic_id}"',
        "    verified_on: 2026-11-20",
        f"related: [{', '.join(spec['related'])}]",
        f"keywords: [{', '.join(spec['keywords'])}]",
    ]
    return "\n".join(lines) + "\n"


def write_content(folder: Path, topic_ids=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for topic_id in topic_ids or TOPICS:
        (folder / f"{topic_id}.yml").write_text(topic_yaml(topic_id), encoding="utf-8")
    return folder


def run_knowledge_check(project, capsys) -> tuple[int, list[str], str]:
    """`python -m knowledge check` on a small project (paths: content, nlu, domain,
    required): its exit code, the problems it printed, and its standard output."""
    code = main(
        [
            "check",
            "--content",
            str(project["content"]),
            "--nlu",
            str(project["nlu"]),
            "--domain",
            str(project["domain"]),
            "--required",
            str(project["required"]),
        ]
    )
    out, err = capsys.readouterr()
    problems = [line for line in err.splitlines() if not line.startswith("FAILED")]
    return code, problems, out
