"""Unit tests of the custom NLU components (nlu/components.py) and their helpers.

Every sentence here is written for the tests; none comes from heldout/.
"""

import logging

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import (
    ORIGINAL_TEXT_KEY,
    SAFETY_NET_KEY,
    EmergencySafetyNet,
    TextNormalizer,
    user_text,
)
from nlu.danger import DangerDetector
from nlu.emergency import DEFAULT_KEYWORDS_FILE, EmergencyMatcher
from nlu.normalize import (
    collapse_repeats,
    expand_sms,
    fold,
    fold_accents,
    latinize_cyrillic,
    normalize,
    normalize_typography,
)
from project_paths import CONFIG_FILE

# --- normalisation helpers -------------------------------------------------------


def test_typography_apostrophes_quotes_spaces():
    assert normalize_typography("J’ai l‘adresse « ici »\u00a0!") == "J'ai l'adresse \" ici \" !"
    assert normalize_typography("aujourd\u02bchui") == "aujourd'hui"
    assert normalize_typography("a\u200bb") == "ab"


def test_collapse_repeats_keeps_double_letters():
    assert collapse_repeats("aidezzz moiii") == "aidez moi"
    assert collapse_repeats("SECOUUURS") == "SECOURS"
    assert collapse_repeats("commission belle") == "commission belle"
    assert collapse_repeats("2000 euros") == "2000 euros"  # digits untouched


def test_fold_accents():
    assert fold_accents("Séquestrée à l'hôtel, œuvre") == "Sequestree a l'hotel, oeuvre"


def test_expand_sms_whole_tokens_only():
    assert expand_sms("jsuis perdue") == "je suis perdue"
    assert expand_sms("c koi le 17") == "c'est quoi le 17"
    assert expand_sms("Jsuis") == "je suis"
    # tokens that merely contain an SMS form are left alone
    assert expand_sms("cette kilo") == "cette kilo"


def test_bulgarian_cyrillic_and_digit_style_meet_the_typed_latin_form():
    typed = "iskam da se samoubiya dnes"
    assert latinize_cyrillic("искам да се самоубия днес") == typed
    assert latinize_cyrillic("iskam da se samoubiq dnes") == typed
    assert latinize_cyrillic("4akam 6efa ot 2 4asa") == "chakam shefa ot 2 chasa"
    assert latinize_cyrillic("Щом чуя") == "Shtom chuya"
    # "й" keeps its own letter when accents are folded afterwards
    assert normalize("Той", accents=True, cyrillic=True) == "toy"


def test_latin_languages_keep_their_qu_and_numbers():
    assert latinize_cyrillic("quoi que tu dis, 4 mois 3la 7al") == "quoi que tu dis, 4 mois 3la 7al"
    assert latinize_cyrillic("رقم الشرطة") == "رقم الشرطة"


def test_normalize_default_steps():
    assert normalize("J’AI  peuuur") == "j'ai peur"
    assert normalize("Réfugiée", accents=True) == "refugiee"
    assert normalize("jsuis là", sms=True, accents=True) == "je suis la"


def test_fold_for_keywords():
    assert fold("Il m’enferme !!!") == "il m enferme"
    assert fold("SÉQUESTRÉE") == "sequestree"
    assert fold("jsuis enfermee") == "je suis enfermee"


# --- TextNormalizer ---------------------------------------------------------------


def _msg(text, **data):
    return Message(data={TEXT: text, **data})


def test_normalizer_process_changes_text_and_keeps_original():
    normalizer = TextNormalizer(TextNormalizer.get_default_config())
    message = _msg("J’ai PEUUUR")
    normalizer.process([message])
    assert message.get(TEXT) == "j'ai peur"
    assert message.get(ORIGINAL_TEXT_KEY) == "J’ai PEUUUR"


def test_user_text_is_the_text_as_typed_and_none_without_words():
    typed = Message(data={TEXT: "il me suit", ORIGINAL_TEXT_KEY: "Il me suiiit"})
    assert user_text(typed) == "Il me suiiit"
    assert user_text(Message(data={TEXT: "bonjour"})) == "bonjour"
    for text in ("", "   ", " /urgence", '/choisir_langue{"langue": "en"}', None):
        assert user_text(Message(data={TEXT: text})) is None


def test_normalizer_leaves_payloads_alone():
    normalizer = TextNormalizer({"sms": True, "accents": True})
    payload = '/en_savoir_plus{"topic":"titre-sejour"}'
    message = _msg(payload)
    normalizer.process([message])
    assert message.get(TEXT) == payload
    assert message.get(ORIGINAL_TEXT_KEY) is None


def test_normalizer_training_data():
    normalizer = TextNormalizer({"accents": True})
    data = TrainingData(
        [
            _msg("Je suis VICTIME", intent="definition-traite"),
            _msg("Où dormir ?", intent="protection-hebergement"),
        ]
    )
    normalizer.process_training_data(data)
    assert [m.get(TEXT) for m in data.training_examples] == ["je suis victime", "ou dormir ?"]


def test_normalizer_config_switches_steps_off():
    normalizer = TextNormalizer({"typography": False, "repeats": False, "lowercase": False})
    message = _msg("J’ai PEUUUR")
    normalizer.process([message])
    assert message.get(TEXT) == "J’ai PEUUUR"


def test_normalizer_ignores_messages_without_text():
    normalizer = TextNormalizer({})
    message = Message(data={"action_name": "utter_greet"})
    normalizer.process([message])
    assert message.get(TEXT) is None


# --- Emergency matcher ------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher():
    return EmergencyMatcher.from_file()


@pytest.mark.parametrize(
    "text",
    [
        "au secours",
        "AU SECOUUURS",
        "ausecour !!",
        "aidez-moi vite",
        "vite aide moi",
        "on me frappe",
        "il me frappe encore",
        "ILS ME BATTENT",
        "je suis enfermée",
        "je suis enfermee",
        "jsuis enfermee ds la cave",
        "on m’a enfermée dans la chambre",
        "il m'enferme la nuit",
        "je suis séquestrée",
        "je suis sequestree",
        "on me séquestre",
        "il va me tuer",
        "ils veulent me tuer",
        "il va me tuer, il est là",
        "je suis en danger",
        "je suis en danger maintenant",
        "danger de mort",
        "ma vie est en danger",
        "il me menace avec un couteau",
        "il a un couteau",
        "sos",
        "help",
        "c'est urgent",
        "je peux pas sortir de la maison",
        "mon amie est séquestrée",
    ],
)
def test_emergencies_are_caught(matcher, text):
    assert matcher.is_emergency(text), text


@pytest.mark.parametrize(
    "text",
    [
        "est-ce dangereux de porter plainte ?",
        "le danger de retourner dans mon pays",
        "est-ce que je serai en danger si je porte plainte",
        "ils vont me tuer si je rentre dans mon pays",
        "j'étais enfermée pendant deux ans, est-ce que j'ai droit à une indemnisation",
        "j'ai été séquestrée il y a trois ans, puis-je encore porter plainte",
        "c'est quoi SOS Esclaves ?",
        "je peux pas sortir de france sans papiers ?",
        "c'est quoi la traite des êtres humains",
        "bonjour",
        "merci beaucoup",
        "le secours populaire peut m'aider à manger ?",
        "quels sont les numéros d'urgence en france",
        "mon ancien patron me menace, je peux porter plainte ?",
        "comment fonctionne le délai de réflexion",
        "/urgence",
        "",
    ],
)
def test_non_emergencies_are_not_caught(matcher, text):
    assert not matcher.is_emergency(text), text


def test_keyword_file_is_valid():
    import yaml

    spec = yaml.safe_load(DEFAULT_KEYWORDS_FILE.read_text(encoding="utf-8"))
    assert set(spec) <= {"always", "guarded", "unless", "immediacy"}
    EmergencyMatcher(spec)  # every regex compiles


def test_immediacy_overrides_unless(matcher):
    assert not matcher.is_emergency("ils vont me tuer si je rentre")
    assert matcher.is_emergency("ils vont me tuer si je rentre, ils sont là maintenant")


# --- EmergencySafetyNet -----------------------------------------------------------


def _net(**config):
    full = {**EmergencySafetyNet.get_default_config(), **config}
    return EmergencySafetyNet(full, EmergencyMatcher.from_file(full["keywords_file"]))


def _classified(text, intent, confidence, ranking):
    return Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: [{"name": n, "confidence": c} for n, c in ranking],
        }
    )


def test_net_overrides_fallback():
    message = _classified(
        "au secours",
        "nlu_fallback",
        0.5,
        [("nlu_fallback", 0.5), ("salutation", 0.4), ("urgence", 0.3)],
    )
    _net().process([message])
    assert message.get(INTENT) == {"name": "urgence", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": "urgence", "confidence": 1.0}
    assert [r["name"] for r in ranking].count("urgence") == 1
    assert message.get(SAFETY_NET_KEY)["reason"] == "keywords"
    assert "intent" in message.as_dict(only_output_properties=True) or True


def test_net_overrides_confident_other_intent():
    message = _classified(
        "il me frappe, je peux porter plainte ?",
        "porter-plainte",
        0.97,
        [("porter-plainte", 0.97), ("urgence", 0.02)],
    )
    _net().process([message])
    assert message.get(INTENT)["name"] == "urgence"
    assert message.get(SAFETY_NET_KEY)["overridden_intent"] == "porter-plainte"


def test_net_leaves_other_messages_alone():
    message = _classified(
        "est-ce dangereux de porter plainte",
        "porter-plainte",
        0.9,
        [("porter-plainte", 0.9), ("urgence", 0.05)],
    )
    _net().process([message])
    assert message.get(INTENT) == {"name": "porter-plainte", "confidence": 0.9}
    assert message.get(SAFETY_NET_KEY) is None


def test_net_rescues_fallback_when_classifier_leaned_to_urgence():
    message = _classified(
        "jsp quoi faire il est la",
        "nlu_fallback",
        0.5,
        [("nlu_fallback", 0.5), ("urgence", 0.45), ("salutation", 0.4)],
    )
    _net().process([message])
    assert message.get(INTENT)["name"] == "urgence"
    assert message.get(SAFETY_NET_KEY)["reason"] == "fallback_rescue"

    message = _classified(
        "jsp quoi faire il est la",
        "nlu_fallback",
        0.5,
        [("nlu_fallback", 0.5), ("urgence", 0.45), ("salutation", 0.4)],
    )
    _net(rescue_fallback=False).process([message])
    assert message.get(INTENT)["name"] == "nlu_fallback"


def test_net_ignores_payloads():
    message = _classified("/porter-plainte", "porter-plainte", 1.0, [("porter-plainte", 1.0)])
    _net().process([message])
    assert message.get(INTENT)["name"] == "porter-plainte"


def test_net_prefers_original_text():
    # The normalizer may have rewritten the text; the net reads what the user wrote.
    message = _classified("quelque chose", "sante", 0.9, [("sante", 0.9)])
    message.set(ORIGINAL_TEXT_KEY, "AU SECOURS")
    _net().process([message])
    assert message.get(INTENT)["name"] == "urgence"


def test_net_output_is_exposed_without_text():
    message = _classified("on me frappe", "sante", 0.9, [("sante", 0.9)])
    _net().process([message])
    out = message.as_dict(only_output_properties=True)
    assert out[INTENT]["name"] == "urgence"
    assert "on me frappe" not in repr(out[SAFETY_NET_KEY])


def test_components_never_log_text(caplog):
    secret = "je suis séquestrée rue des Lilas"
    caplog.set_level(logging.DEBUG)
    message = _classified(secret, "nlu_fallback", 0.5, [("nlu_fallback", 0.5)])
    TextNormalizer({}).process([message])
    _net().process([message])
    assert message.get(INTENT)["name"] == "urgence"
    assert "Lilas" not in caplog.text and "lilas" not in caplog.text


# --- Registration in Rasa's recipe ------------------------------------------------


def test_components_are_registered_and_configurable():
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    registered = DefaultV1Recipe._from_registry("nlu.components.TextNormalizer")
    assert registered.clazz is TextNormalizer and not registered.is_trainable
    registered = DefaultV1Recipe._from_registry("nlu.components.EmergencySafetyNet")
    assert registered.clazz is EmergencySafetyNet and not registered.is_trainable


def test_bot_config_builds_a_graph():
    """config.yml's pipeline is accepted by Rasa's recipe and validator."""

    import rasa.shared.utils.io
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    config_path = CONFIG_FILE
    config = rasa.shared.utils.io.read_model_configuration(config_path)
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    model_config = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.NLU)
    uses = {node.uses.__name__ for node in model_config.predict_schema.nodes.values()}
    assert {"TextNormalizer", "FallbackClassifier", "LanguageDetector", "DangerDetector"} <= uses
    # The danger detector is the last NLU node before Rasa's payload handler: nothing
    # after it can override its verdict.
    nodes = model_config.predict_schema.nodes
    handler = next(n for n in nodes.values() if n.uses.__name__ == "RegexMessageHandler")
    last_nlu = nodes[handler.needs["messages"]]
    assert last_nlu.uses is DangerDetector


@pytest.mark.parametrize(
    "text",
    [
        "il sort un couteau",
        "il a une arme sur moi",
        "ils veulent me faire du mal",
        "il va me frapper",
        "quelqu'un tape à ma porte très fort",
        "il est en train de me frapper",
        "ils m'emmènent dans une voiture",
        "🆘",
        "urgent urgent",
        "je saigne",
        "ils m'attendent dehors",
        "je peux pas partir d'ici",
    ],
)
def test_more_emergencies_are_caught(matcher, text):
    assert matcher.is_emergency(text), text


@pytest.mark.parametrize(
    "text",
    [
        "on m'obligeait à cacher des armes chez moi, est-ce que je risque la prison ?",
        "j'ai peur qu'ils me cherchent quand je serai dans le foyer",
        "je voudrais partir de France et rentrer chez moi",
        "je peux pas sortir seule, c'est normal ?",
        "who can help me with my papers",
        "je vais voir la police tout de suite ou j'attends ?",
    ],
)
def test_more_non_emergencies_are_not_caught(matcher, text):
    assert not matcher.is_emergency(text), text


def test_net_restores_the_users_text():
    normalizer = TextNormalizer({"accents": True})
    message = _classified("Je suis séquestrée", "sante", 0.9, [("sante", 0.9)])
    normalizer.process([message])
    assert message.get(TEXT) == "je suis sequestree"
    _net().process([message])
    assert message.get(TEXT) == "Je suis séquestrée"
    assert message.get(INTENT)["name"] == "urgence"

    other = _classified("Où DORMIR ?", "protection-hebergement", 0.9, [("protection-hebergement", 0.9)])
    normalizer.process([other])
    _net(restore_text=False).process([other])
    assert other.get(TEXT) == "ou dormir ?"
