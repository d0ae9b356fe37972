"""retrain/masking.py: personal details never reach the review file."""

import pytest

from retrain.masking import mask_personal_data as mask


@pytest.mark.parametrize(
    "text, expected",
    [
        # French phone numbers, every usual way of writing them.
        ("appelez moi au 06 12 34 56 78 svp", "appelez moi au <PHONE> svp"),
        ("mon num 0612345678.", "mon num <PHONE>."),
        ("06.12.34.56.78", "<PHONE>"),
        ("06-12-34-56-78", "<PHONE>"),
        ("06 1234 5678", "<PHONE>"),
        # International formats.
        ("+33 6 12 34 56 78", "<PHONE>"),
        ("+33 (0)6 12 34 56 78", "<PHONE>"),
        ("0033612345678", "<PHONE>"),
        ("whatsapp +234 803 123 4567 ok", "whatsapp <PHONE> ok"),
        ("+44 20 7946 0958", "<PHONE>"),
        ("+40721234567", "<PHONE>"),
        # E-mails, URLs, handles.
        ("écris à fatou.diallo@gmail.com", "écris à <EMAIL>"),
        ("mail: joy_2000+x@yahoo.co.uk.", "mail: <EMAIL>."),
        ("sur https://t.me/fatou_d.", "sur <URL>."),
        ("va sur www.exemple.fr/page?x=1, merci", "va sur <URL>, merci"),
        ("mon profil facebook.com/joy.okafor", "mon profil <URL>"),
        ("wa.me/33612345678", "<URL>"),
        ("mon insta @fatou.d2 stp", "mon insta <USERNAME> stp"),
        ("contacte @Joy_Lagos", "contacte <USERNAME>"),
        # Identifiers: passports, file and card numbers, IBANs.
        ("passeport 12AB34567", "passeport <NUMBER>"),
        ("numéro étranger 7512345678", "numéro étranger <NUMBER>"),
        ("carte 1234 5678 9012 3456", "carte <NUMBER>"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189", "IBAN <NUMBER>"),
        ("dossier A1234567", "dossier <NUMBER>"),
        # Dates of birth, names after an introduction, street addresses.
        ("né le 12/05/1990 à Lagos", "né le <DATE> à Lagos"),
        ("je m'appelle Fatou Diallo et j'ai 17 ans", "je m'appelle <NAME> et j'ai 17 ans"),
        ("je m’appelle joy, aide moi", "je m’appelle <NAME>, aide moi"),
        ("mon prénom c'est Blessing", "mon prénom c'est <NAME>"),
        ("je suis madame Okafor", "je suis madame <NAME>"),
        ("j'habite au 12 rue de la Paix à Paris", "j'habite au <ADDRESS> à Paris"),
    ],
)
def test_personal_details_are_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "appelle le 17 ou le 112 ou envoie un SMS au 114",
        "le 115 pour dormir, le 119 pour les enfants, le 3919 et le 116 006",
        "article L425-1 du CESEDA (avant 2021 : L316-1)",
        "j'habite dans le 93, à 75018 Paris",
        "il me doit 2 500 000 nairas depuis 2019",
        "je travaille 14h par jour, 7 jours sur 7, pour 300 euros",
        "moi c'est pareil, je suis venue en 2022",
        "c'est quoi l'OFPRA et la CNDA ?",
        "je suis sans papiers",
    ],
)
def test_ordinary_messages_are_kept(text):
    assert mask(text) == text


def test_several_details_in_one_message_and_one_line():
    text = "Bonjour\nje m'appelle Amina, mon tel 07 88 99 00 11\net mon mail amina@mail.fr"
    assert mask(text) == "Bonjour je m'appelle <NAME>, mon tel <PHONE> et mon mail <EMAIL>"


def test_masking_is_idempotent():
    once = mask("06 12 34 56 78 / joy@x.fr / passeport 12AB34567 / https://x.org")
    assert mask(once) == once
