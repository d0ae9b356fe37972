"""The personal-data check: may this text enter a tracked file (data/, heldout/)?

    personal_data("je m'appelle Fatou") == ["name"]
    personal_data("comment avoir un titre de séjour ?") == []

It refuses what could point to a person, in French and in the assistant's other
languages (English and Nigerian Pidgin, Romanian with or without diacritics, Bulgarian in
Cyrillic or Latin letters, Arabic and Darija in Latin letters):

- ``name``       after an introduction ("je m'appelle", "moi c'est", "my name na",
                 "ma numesc", "казвам се", "اسمي", "smiti", ...), after a title (M., Mme,
                 madam, doamna, г-жа), a first name or surname of a built-in list, or a
                 capitalised word that is not a common word (below);
- ``place``      after "né à / born in / născut în / роден в / ولد في / tzad f", "j'habite",
                 "I live in", "stau în", "живея в", "ساكن في", "foyer / hôtel / quartier X";
- ``workplace``  after "je travaille chez / I work for / lucrez la / работя в / nkhdem f";
- ``address``    a street ("12 rue de la Paix", "rue Ordener"), a postal code, a room number;
- ``birthdate``  a full date (12/05/1990, 3 mars 2004, 3 martie 2004, 3 март 2004);
- ``phone``      a phone number, in digits or spelled out ("zéro six douze ...",
                 "zero eight zero three ...", "zero sapte", "нула осем", "صفر ستة");
- ``handle``     an e-mail, a URL, ``@pseudo``, "snap / insta / tiktok / telegram: pseudo";
- ``id_number``  a passport, residence-permit or file number, an IBAN.

A "common word" is one of the words of the project's own texts (training examples,
held-out NLU sets, knowledge content, bot messages), spaCy's stop words of the five
languages, and the countries, nationalities and institutions below: a capitalised word
outside this vocabulary, not at the start of a sentence, is taken for a name or a place.
The masking placeholders (<NAME>, <PHONE>, ...) are allowed: they are what a maintainer
writes instead. The check never returns or logs the text, only the kinds found.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Iterable, List, Sequence, Set

import yaml

from project_paths import CONTENT_DIR, HELDOUT_DIR, NLU_DATA_DIR, REPO_ROOT
from retrain import masking

KINDS = ("name", "place", "workplace", "address", "birthdate", "phone", "handle", "id_number")
# Held-out files whose texts are not common words: this check's own evaluation set, and
# the danger sets (written by outsiders, added one by one: a new set must not turn a
# restaurant's name into a common word).
NOT_VOCABULARY = ("pii.yml", "danger*.yml")


class PersonalDataError(ValueError):
    """A text holds personal data; the message names the kinds, never the text."""

    def __init__(self, where: str, kinds: Sequence[str]) -> None:
        super().__init__(
            f"{where}: personal data ({', '.join(kinds)}): rewrite it with "
            "placeholders (<NAME>, <PLACE>, <PHONE>, ...) or drop it"
        )
        self.kinds = list(kinds)


def fold(text: str) -> str:
    """Lower case, no diacritics, one kind of apostrophe (for matching, not for display)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _words(text: str) -> str:
    return " ".join(text.split())


def _alternatives(phrases: Iterable[str]) -> str:
    """A regex alternative of folded phrases, tokens separated by anything non-word
    ("je m'appelle" matches "JE M APPELLE", "je m´appelle", "je m’appelle")."""
    parts = []
    for phrase in sorted({fold(p) for p in phrases}, key=len, reverse=True):
        tokens = re.findall(r"[^\W_]+|[:.]", phrase)
        parts.append(r"[\W_]*".join(re.escape(t) for t in tokens))
    return "(?:" + "|".join(parts) + ")"


# ---------------------------------------------------------------- word lists
# Introductions after which the next word is a name, whatever it looks like.
NAME_TRIGGERS = [
    # French
    "je m'appelle",
    "j'm'appelle",
    "jm'appelle",
    "je mappelle",
    "m'appelle",
    "s'appelle",
    "il s'appelle",
    "elle s'appelle",
    "mon nom est",
    "mon nom c'est",
    "mon nom :",
    "mon nom",
    "mon prénom est",
    "mon prénom c'est",
    "mon prénom :",
    "mon prénom",
    "nom :",
    "prénom :",
    "nom de famille",
    "on m'appelle",
    "appelez-moi",
    "elle se nomme",
    "il se nomme",
    "je me nomme",
    "moi c'est",
    "c'est moi",
    "signé",
    # English, Pidgin
    "my name is",
    "my name na",
    "my name",
    "name na",
    "name is",
    "i am called",
    "i'm called",
    "call me",
    "dem call me",
    "they call me",
    "people call me",
    "her name is",
    "his name is",
    "her name na",
    "his name na",
    "surname is",
    "first name is",
    "na me be",
    "this is",
    # Romanian
    "ma numesc",
    "numele meu este",
    "numele meu e",
    "numele meu",
    "ma cheama",
    "il cheama",
    "o cheama",
    "se numeste",
    "prenumele meu",
    "numele lui",
    "numele ei",
    # Bulgarian (Cyrillic and Latin)
    "казвам се",
    "казва се",
    "името ми е",
    "името ми",
    "името му е",
    "името ѝ е",
    "викат ми",
    "наричат ме",
    "kazvam se",
    "kazva se",
    "imeto mi e",
    "imeto mi",
    "vikat mi",
    # Arabic, Darija
    "اسمي",
    "إسمي",
    "أسمي",
    "انا اسمي",
    "اسمه",
    "اسمها",
    "يسمى",
    "تسمى",
    "يدعى",
    "تدعى",
    "كنسمى",
    "smiti",
    "smiyti",
    "smiya dyali",
    "smya dyali",
    "ana smiti",
    "smito",
    "smitou",
    "smitha",
    "smiyto",
    "ismi",
    "esmi",
    "kaysmiwni",
    "kayglou li",
    "kanssma",
    "kansmaa",
]
# Introductions after which a capitalised, uncommon word is a name.
WEAK_NAME_TRIGGERS = [
    "je suis",
    "moi",
    "i am",
    "i'm",
    "im",
    "na",
    "sunt",
    "eu sunt",
    "аз съм",
    "az sum",
    "ana",
    "انا",
    "أنا",
    "avec",
    "with",
    "cu",
    "с",
    "مع",
    "m3a",
    "chez",
    "pour",
    "de",
    "by",
    "la",
    "par",
    "contre",
    "against",
    "boss",
    "patron",
    "patronne",
    "mari",
    "husband",
    "sotul",
    "съпругът",
]
TITLES = [
    "m.",
    "mr",
    "mr.",
    "mme",
    "mrs",
    "mrs.",
    "ms",
    "mlle",
    "madame",
    "monsieur",
    "mademoiselle",
    "madam",
    "mama",
    "oga",
    "aunty",
    "auntie",
    "uncle",
    "chief",
    "doamna",
    "domnul",
    "dna",
    "dl",
    "г-жа",
    "г-н",
    "госпожа",
    "господин",
    "gospozha",
    "gospodin",
    "السيد",
    "السيدة",
    "الحاج",
    "lalla",
    "si",
    "hajj",
    "l7aj",
    "dr",
    "docteur",
    "maître",
    "me",
]
PLACE_TRIGGERS = [
    "né à",
    "née à",
    "né a",
    "née a",
    "nés à",
    "je suis né à",
    "je viens de",
    "originaire de",
    "j'habite",
    "j'habite à",
    "j'habite au",
    "j'habite en",
    "j'habite dans",
    "j'habite chez",
    "je vis à",
    "je vis au",
    "je vis chez",
    "je loge à",
    "je loge au",
    "je dors à",
    "je dors au",
    "je suis à",
    "je suis au",
    "on est à",
    "je suis hébergée à",
    "hébergé à",
    "hébergée à",
    "foyer",
    "hôtel",
    "hotel",
    "quartier",
    "cité",
    "résidence",
    "centre",
    "camp",
    "squat",
    "village",
    "born in",
    "born for",
    "born at",
    "i live in",
    "i live for",
    "i live at",
    "i dey live for",
    "i dey for",
    "i stay in",
    "i stay for",
    "i stay at",
    "i dey stay for",
    "we dey for",
    "nascut in",
    "nascuta in",
    "nascut la",
    "nascuta la",
    "stau in",
    "stau la",
    "locuiesc in",
    "locuiesc la",
    "traiesc in",
    "sunt din",
    "sunt in",
    "роден в",
    "родена в",
    "роден съм в",
    "родена съм в",
    "живея в",
    "живея във",
    "живея на",
    "в квартал",
    "rodena v",
    "roden v",
    "zhiveya v",
    "jiveya v",
    "ولد في",
    "ولدت في",
    "مولود في",
    "مولودة في",
    "ساكن في",
    "ساكنة في",
    "أسكن في",
    "اسكن في",
    "نسكن في",
    "tzadt f",
    "tzadit f",
    "tzad f",
    "zdt f",
    "zedt f",
    "ana mn",
    "saken f",
    "sakna f",
    "sakn f",
    "kanskon f",
    "kansken f",
    "kn3ich f",
    "mqim f",
]
WORKPLACE_TRIGGERS = [
    "je travaille chez",
    "je travaille à",
    "je travaille au",
    "je travaille dans",
    "je bosse chez",
    "je bosse au",
    "travaille pour",
    "employée chez",
    "employé chez",
    "le salon",
    "le restaurant",
    "le bar",
    "la boutique",
    "l'usine",
    "la ferme",
    "l'entreprise",
    "la société",
    "le magasin",
    "i work for",
    "i work at",
    "i work in",
    "i dey work for",
    "i dey work",
    "work for",
    "the salon",
    "the restaurant",
    "the shop",
    "the company",
    "the farm",
    "lucrez la",
    "lucrez in",
    "lucrez pentru",
    "salonul",
    "restaurantul",
    "firma",
    "ferma",
    "работя в",
    "работя във",
    "работя при",
    "работя за",
    "фирма",
    "ресторант",
    "rabotya v",
    "rabotya vav",
    "أعمل في",
    "اعمل في",
    "أعمل عند",
    "اعمل عند",
    "نخدم في",
    "nkhdem f",
    "kankhdem f",
    "kankhdem 3nd",
    "khdama f",
    "khdam f",
    "kankhdam f",
    "مطعم",
    "معمل",
]
STREETS = [
    "rue",
    "avenue",
    "av",
    "boulevard",
    "bd",
    "place",
    "chemin",
    "allée",
    "allee",
    "impasse",
    "quai",
    "route",
    "cours",
    "square",
    "passage",
    "street",
    "st",
    "road",
    "rd",
    "close",
    "strada",
    "str",
    "bulevardul",
    "calea",
    "aleea",
    "soseaua",
    "улица",
    "ул",
    "булевард",
    "бул",
    "ulitsa",
    "ulica",
    "شارع",
    "زنقة",
    "derb",
    "zanqa",
    "zenqa",
    "charia",
    "hay",
    "حي",
]
ROOMS = [
    "chambre",
    "appartement",
    "appart",
    "apt",
    "bâtiment",
    "bat",
    "étage",
    "room",
    "flat",
    "apartment",
    "camera",
    "apartamentul",
    "apartament",
    "bloc",
    "scara",
    "стая",
    "апартамент",
    "блок",
    "вход",
    "غرفة",
    "شقة",
    "chambra",
    "bit",
]
HANDLE_TRIGGERS = [
    "snap",
    "snapchat",
    "insta",
    "instagram",
    "ig",
    "tiktok",
    "tik tok",
    "telegram",
    "whatsapp",
    "wa",
    "facebook",
    "fb",
    "messenger",
    "signal",
    "viber",
    "imo",
    "twitter",
    "x",
    "pseudo",
    "username",
    "user name",
    "handle",
    "nickname",
    "profil",
    "profile",
    "compte",
    "account",
    "id",
    "контакт",
    "профил",
    "акаунт",
    "вайбър",
    "инстаграм",
    "تيك توك",
    "انستغرام",
    "فيسبوك",
    "واتساب",
    "سناب",
]
ID_TRIGGERS = [
    "passeport",
    "passport",
    "pasaport",
    "pașaport",
    "паспорт",
    "جواز",
    "titre",
    "récépissé",
    "recepisse",
    "carte",
    "card",
    "numéro",
    "numero",
    "number",
    "n°",
    "no",
    "nr",
    "номер",
    "رقم",
    "dossier",
    "file",
    "agdref",
    "cnp",
    "егн",
    "egn",
    "nin",
    "bvn",
]
CURRENCIES = [
    "euro",
    "euros",
    "eur",
    "€",
    "naira",
    "nairas",
    "ngn",
    "lei",
    "ron",
    "leva",
    "лева",
    "лв",
    "dh",
    "dhs",
    "dirham",
    "dirhams",
    "درهم",
    "dinar",
    "dinars",
    "دينار",
    "da",
    "cfa",
    "fcfa",
    "dollars",
    "dollar",
    "$",
    "£",
    "pounds",
    "k",
    "ans",
    "years",
    "ani",
    "години",
    "سنة",
    "km",
    "kg",
    "heures",
    "h",
    "jours",
    "days",
    "zile",
    "дни",
]

# Spelled-out digits (0-99 as people dictate a phone number), per language.
NUMBER_WORDS = set(
    fold(w)
    for w in """
zéro zero un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze
quinze seize dix-sept dix-huit dix-neuf vingt trente quarante cinquante soixante
soixante-dix quatre-vingt quatre-vingts quatre-vingt-dix cent
oh o one two three four five six seven eight nine ten eleven twelve thirteen fourteen
fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
ninety hundred double triple
unu doi doua trei patru cinci sase șase sapte șapte opt noua nouă zece unsprezece
doisprezece douasprezece treisprezece paisprezece cincisprezece saisprezece douazeci
treizeci patruzeci cincizeci saizeci saptezeci optzeci nouazeci suta
нула едно едноо една две два три четири пет шест седем осем девет десет единадесет
дванадесет двадесет тридесет четиридесет петдесет шестдесет седемдесет осемдесет деветдесет
nula edno dve dva tri chetiri pet shest sedem osem devet deset
صفر واحد اثنان اثنين إثنان ثلاثة ثلاثه اربعة أربعة خمسة خمسه ستة سته سبعة سبعه ثمانية ثمانيه
تسعة تسعه عشرة عشرين ثلاثين اربعين خمسين ستين سبعين ثمانين تسعين
wahed wa7ed jouj zouj tlata tlta reb3a rb3a khamsa khmsa setta stta sta seb3a sb3a tmenya
tmnya tes3ood tes3a ts3a 3achra 3chra 3echrin tlatin rb3in khamsin settin seb3in tmanin tes3in sifr
""".split()
)
ZERO_WORDS = {fold(w) for w in ["zéro", "zero", "oh", "нула", "nula", "صفر", "sifr", "sefr"]}
MONTHS = set(
    fold(w)
    for w in """
janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie
януари февруари март април май юни юли август септември октомври ноември декември
yanuari fevruari mart april mai yuni yuli avgust septemvri oktomvri noemvri dekemvri
يناير فبراير مارس أبريل ابريل مايو ماي يونيو يوليو غشت أغسطس اغسطس سبتمبر شتنبر أكتوبر اكتوبر
نوفمبر نونبر ديسمبر دجنبر جانفي فيفري أفريل جوان جويلية أوت
yanayir fbrayr maris abril mayu yunyu yulyu ghusht shutanbir uktubr nunbir dujanbir
""".split()
)
BIRTH_WORDS = [
    "né le",
    "née le",
    "né en",
    "née en",
    "date de naissance",
    "naissance",
    "born on",
    "born",
    "birthday",
    "date of birth",
    "dob",
    "nascut pe",
    "nascuta pe",
    "data nasterii",
    "nascut",
    "nascuta",
    "роден на",
    "родена на",
    "роден",
    "родена",
    "рождена дата",
    "ولد",
    "ولدت",
    "تاريخ الميلاد",
    "مواليد",
    "tzadt",
    "tzadit",
    "zdt",
]

# Frequent given names and surnames of the people the assistant serves (West Africa,
# Eastern Europe, the Maghreb, France), and the places their stories name. A match is a
# name whatever its case, except for the names that are also ordinary words (AMBIGUOUS:
# only when capitalised).
GIVEN_NAMES = """
fatou fatoumata aminata awa aissatou aïssata mariama kadiatou binta coumba ndeye adama
oumou hawa djeneba moussa mamadou ibrahima ousmane abdoulaye seydou souleymane boubacar
osas osaro osagie efosa eghosa ehi efe ese osasere omoregie ivie izoduwa uyi nosa itohan
chioma ngozi amaka adaeze chinwe nkechi ifeoma obioma uche chidi emeka obinna ikenna chinedu
tochukwu nneka ebere adaobi oluchi ada funmi funmilayo yetunde bola bisi tolu tunde segun
kemi kehinde taiwo sade shade folake abiola ayo ayodele temitope bukola damilola ngozika
esther mercy patience comfort princess peace rita juliet vivian stella gloria loveth
sandra osayuwamen omosede edosa oghogho aisosa ekinadose idemudia osahon
ionela ioana ionut ion ana andreea alina elena maria mihaela gabriela florentina florina
loredana roxana bianca raluca cristina daniela madalina georgiana larisa denisa anca
alexandra nicoleta simona irina oana adriana mirela camelia petronela claudia
vasile gheorghe nicolae marian florin costel catalin adrian mihai dumitru stefan
mariya maria ivanka desislava tsvetelina gergana radostina yordanka vesela teodora
stoyanka nadezhda daniela petya galya silviya kremena vanya ivana diana iliyana
ivan georgi dimitar petar hristo stoyan nikolay todor angel asen kiril
мария иванка десислава цветелина гергана радостина йорданка весела теодора надежда петя
галя силвия кремена ваня ивана илияна иван георги димитър петър христо стоян николай
тодор асен кирил елена анна
fatima fatiha khadija khadidja aicha aïcha aisha amina yasmine yasmina salma nadia samira
naima najat latifa malika zineb zaynab hafsa hanane houda imane ikram karima loubna meryem
meriem nora rachida saida siham soukaina wafae widad zohra hind asmae asmaa chaimae
mohamed mohammed mouhamed ahmed youssef yassine karim rachid said hassan hicham khalid
mustapha omar abdelkader abdellah abderrahim brahim driss hamid jamal mehdi nabil redouane
samir tarik walid yacine ayoub bilal hamza ilyas anas amine
فاطمة خديجة عائشة أمينة امينة ياسمين سلمى نادية سميرة نعيمة نجاة لطيفة مليكة زينب حفصة
حنان هدى إيمان ايمان كريمة مريم سهام محمد أحمد احمد يوسف ياسين كريم رشيد سعيد حسن هشام
خالد مصطفى عمر عبد القادر إبراهيم ابراهيم ادريس حميد جمال مهدي نبيل سمير طارق وليد
jean pierre paul jacques michel philippe alain patrick nicolas christophe stéphane
laurent thierry olivier sébastien julien frédéric eric didier pascal bruno gérard
marie nathalie isabelle sylvie catherine françoise valérie sandrine sophie céline
véronique christine martine monique nicole brigitte chantal aurélie julie camille
""".split()
AMBIGUOUS = set(
    fold(w)
    for w in """
petit blanc roux moreau simon thomas robert richard david vincent laurent martin bernard
françois andré michel leroy perrin robin garnier legrand chevalier mercier boyer marin
stan pop popa radu tudor matei barbu lungu dinu obi eze tazi haddad
aba uyo lom montana safi arad sofia nador tours

blessing joy precious favour favor gift grace faith hope rose patience comfort peace mercy
princess rita stella gloria victory glory charity goodness success lucky happy sunday
monday friday rose angel ana maria paul pierre marie nicole camille pascal michel said
omar si hay ada bola shade ayo ese efe nora hind hamid amine
""".split()
)
SURNAMES = """
diallo traoré traore diop ndiaye sow bah barry camara keita koné kone touré toure cissé
cisse sylla fofana coulibaly sanogo ouattara diarra konaté kouyaté sangaré doumbia
okafor okonkwo okoro okeke obi eze nwosu adeyemi adebayo ogunleye balogun oyelaran
osagie omoregie osaghae igbinedion aigbe ogbebor ehigiator idahosa uwaifo obasogie ogiemwonyi
oyakhire imasuen ekhator edokpayi aghedo iyamu
popescu ionescu popa pop radu dumitru stoica stan gheorghe matei ciobanu rusu munteanu
constantin mihai marin tudor dobre barbu nistor florea dinu lungu cojocaru moldovan
petrova ivanova georgieva dimitrova nikolova stoyanova todorova petrov ivanov georgiev
dimitrov nikolov stoyanov todorov angelov hristov yordanov kostadinov
петрова иванова георгиева димитрова николова стоянова тодорова петров иванов георгиев
димитров николов стоянов тодоров
benali benmoussa bennani alaoui el amrani idrissi el idrissi tazi berrada chraibi fassi
benjelloun lahlou ouazzani belkacem bouazza boumediene benyoucef hamidi mansouri zerrouki
bensalah boukhari haddad saidi amrani el fassi ait ouali
dupont durand martin bernard dubois thomas robert richard petit leroy moreau simon laurent
lefebvre michel garcia david bertrand roux vincent fournier morel girard andré lefèvre
mercier blanc guérin boyer garnier chevalier françois legrand gauthier perrin robin
""".split()
PLACES = """
lagos abuja ibadan kano enugu onitsha warri sapele ekpoma auchi agbor asaba uromi owerri
port-harcourt aba calabar uyo benin accra kumasi dakar bamako conakry abidjan
niamey ouagadougou lomé lome cotonou douala yaoundé
craiova constanța constanta iași iasi cluj timișoara timisoara brașov brasov galați galati
ploiești ploiesti pitești pitesti bacău bacau oradea arad sibiu tulcea călărași calarasi
slatina caracal alexandria giurgiu focșani focsani buzău buzau botoșani botosani
sofia sofiya plovdiv varna burgas ruse stara zagora pleven sliven dobrich shumen pazardzhik
yambol haskovo pernik vratsa kardzhali montana vidin lom
софия пловдив варна бургас русе сливен добрич шумен пазарджик ямбол хасково перник враца
кърджали монтана видин стара загора плевен
casablanca rabat marrakech fès fes tanger tangier meknès meknes agadir oujda kénitra kenitra
tétouan tetouan nador béni mellal khouribga safi el jadida laâyoune alger algiers oran
constantine annaba blida sétif setif tlemcen béjaïa bejaia tunis sfax sousse
الدار البيضاء الرباط مراكش فاس طنجة مكناس أكادير وجدة القنيطرة تطوان الناظور الجزائر وهران
قسنطينة عنابة تونس صفاقس سوسة
montreuil saint-denis aubervilliers bobigny pantin bondy sevran aulnay clichy nanterre
argenteuil créteil ivry vitry villejuif gennevilliers asnières colombes sarcelles evry
roubaix tourcoing dunkerque barbès barbes château-rouge belleville pigalle stalingrad
ordener emmaüs emmaus ibis
""".split()
# France's large cities are not in PLACES: a question names them ("une association à
# Lyon ?") without pointing to anyone; they count as common words when the project's own
# texts use them. A smaller town, a district, a street or a birthplace abroad is refused.

# Words that look like names but are not: countries, nationalities, institutions, brands.
COMMON_PROPER = """
france french français française nigeria nigéria nigerian nigériane nigérian roumanie romania
românia romanian roumaine roumain bulgarie bulgaria bulgarian bulgare maroc morocco moroccan
marocain marocaine algérie algerie algeria algerian algérien algérienne tunisie tunisia
sénégal senegal mali guinée guinea côte ivoire cameroun cameroon ghana libye libya italie italy
espagne spain allemagne germany europe european européenne afrique africa england angleterre
uk usa londres london chine china niger égypte egypt syrie turquie turkey grèce greece
україна ukraine russie russia moldavie moldova albanie albania vietnam inde india
франция румъния българия мароко нигерия европа فرنسا المغرب الجزائر نيجيريا أوروبا اوروبا
ofpra cnda ofii ase caf cpam ame puma css pôle emploi france travail préfecture prefecture
cimade cedre acse ald fji oit ilo onu un ue eu iom oim unhcr hcr crr cnil mipe miprof
ceseda ccas spip spada dublin schengen palerme palermo varsovie warsaw strasbourg
facebook whatsapp telegram instagram tiktok snapchat google youtube messenger signal viber
dieu god allah jésus jesus christ mohammed coran bible ramadan noël christmas pâques easter
aide help ok okay bonjour salut hello hi merci thanks svp sil salam salaam wesh bonsoir
dey wetin na dem una abeg oga sabi pikin wahala don sef sha comot chop waka abi dis dat
wey wan fit make no be una oyibo kpele biko ehn shey
bghit kifach kifash ndir dir wach wash ana nta nti fin mn men f fi 3nd 3and khdma flous
bzaf daba chno chnou ash 3afak lah wlidi lbolis lwra9 lwraq dyali dyal diali ddali lpatron
lpasport lpaspor ghir walakin mzyan hna tma rah kayn makaynch bach 3lach wakha safi
""".split()


def _stop_words(language: str) -> Set[str]:
    """spaCy's stop words of one language, read without importing spaCy (seconds)."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        return set()
    path = Path(list(spec.submodule_search_locations)[0]) / "lang" / language / "stop_words.py"
    if not path.is_file():
        return set()
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # a plain set literal
    return {fold(w) for w in namespace.get("STOP_WORDS", ())}


def _texts_of(node) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _texts_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts_of(value)


NAME_LIKE = {fold(w) for w in GIVEN_NAMES + SURNAMES + PLACES}


@lru_cache(maxsize=1)
def vocabulary() -> FrozenSet[str]:
    """The common words (folded): the project's texts, stop words, COMMON_PROPER; minus
    the names and places of the lists above."""
    words: Set[str] = set()
    for language in ("fr", "en", "ro", "bg", "ar"):
        words |= _stop_words(language)
    files = [
        *NLU_DATA_DIR.glob("*.yml"),
        *CONTENT_DIR.glob("*.yml"),
        *(p for p in HELDOUT_DIR.glob("*.yml") if not any(p.match(pattern) for pattern in NOT_VOCABULARY)),
        *(REPO_ROOT / "bot" / "channels").glob("*.yml"),
        REPO_ROOT / "telegram_front" / "messages_fr.yml",
    ]
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        for text in _texts_of(data):
            words.update(w for w in re.findall(r"[^\W\d_]+", fold(text)) if len(w) > 1)
    words |= {fold(w) for w in COMMON_PROPER}
    return frozenset(words - NAME_LIKE)


# ---------------------------------------------------------------- the check
TOKEN = re.compile(r"<[A-Z_]+>|[^\W_]+(?:[-'’][^\W_]+)*|[:.!?]", re.UNICODE)
_NAME_TRIGGER = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(NAME_TRIGGERS) + r"[\W_]*$")
_WEAK_TRIGGER = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(WEAK_NAME_TRIGGERS) + r"[\W_]*$")
_TITLE = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(TITLES) + r"[\W_]*$")
_PLACE_TRIGGER = re.compile(
    r"(?:^|(?<=[\W_]))" + _alternatives(PLACE_TRIGGERS) + r"[\W_]*"
    r"(?:(?:de|du|des|d|la|le|les|l|a|au|the|in|din|de la)[\W_]+)*$"
)
_WORK_TRIGGER = re.compile(
    r"(?:^|(?<=[\W_]))" + _alternatives(WORKPLACE_TRIGGERS) + r"[\W_]*"
    r"(?:(?:de|du|des|d|la|le|les|l|the|a|an|un|une)[\W_]+)*$"
)
_HANDLE_TRIGGER = re.compile(
    r"(?:^|(?<=[\W_]))"
    + _alternatives(HANDLE_TRIGGERS)
    + r"(?:[\W_]+(?:est|c'est|c est|is|na|e|este|:|dyali|ta3i|mon|my))*[\W_]*$"
)
_BIRTH = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(BIRTH_WORDS) + r"(?=[\W_]|$)")
_ID_TRIGGER = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(ID_TRIGGERS) + r"[\W_]*$")
STREET = re.compile(r"(?:^|(?<=[\W_]))" + _alternatives(STREETS) + r"[\W_]+$")
ROOM = re.compile(
    r"(?:^|(?<=[\W_]))" + _alternatives(ROOMS) + r"[\W_]*(?:n°|no|nr|numero|number|номер|رقم)?[\W_]*$"
)
SHORT_DATE = re.compile(r"(?<![\d/])\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{2}|\d{4})(?![\d/])")
YEAR = re.compile(r"^(?:19[4-9]\d|20[0-2]\d)$")
POSTAL_CODE = re.compile(r"^(?:0[1-9]|[1-8]\d|9[0-5]|2a|2b)\d{3}$")
DIGIT_RUN = re.compile(r"(?<![\w+])\+?\d(?:[\s.\-/()]{0,3}\d){7,}(?!\w)")
MIXED_ID = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]{6,}$")
LOWER_SURNAME = re.compile(r"^\w{3,}(?:escu|eanu|ovic|ović|ova|eva|ова|ева)$")
NAME_SUFFIX = re.compile(r"(?:escu|eanu|ova|eva|ovic|ović|ov|ev|ić|ski|ska|wale|emwen|uyi|osa)$")


def _capitalised(word: str) -> bool:
    return (
        word[:1].isupper()
        and not word.isupper()
        or (word.isupper() and len(word) > 1 and word.isalpha() and fold(word) in NAME_LIKE)
    )


def _is_common(folded: str) -> bool:
    parts = re.split(r"[-'’]", folded)
    return all(p in vocabulary() or p.isdigit() or len(p) < 2 for p in parts)


def _unknown(word: str) -> bool:
    """A word that is not a placeholder, a number or a common word."""
    if word.startswith("<") or word in ":.!?":
        return False
    folded = fold(word)
    return not folded.isdigit() and not _is_common(folded)


def _name_like(word: str) -> bool:
    folded = fold(word)
    if folded in AMBIGUOUS:
        return _capitalised(word)
    return folded in NAME_LIKE or bool(_capitalised(word) and _unknown(word))


def _spelled_number(tokens: List[str]) -> bool:
    """Four number words in a row (or three after "zero"): a dictated phone number."""
    run, zero_first = 0, False
    for token in tokens:
        parts = [p for p in re.split(r"[-'’]", fold(token)) if p]
        if parts and all(p in NUMBER_WORDS or p.isdigit() and len(p) <= 2 for p in parts):
            zero_first = zero_first or (run == 0 and parts[0] in ZERO_WORDS)
            run += 1
            if run >= 5 or (zero_first and run >= 4):
                return True
        elif fold(token) in {"et", "and", "si", "и", "و", "w"} and run:
            continue
        else:
            run, zero_first = 0, False
    return False


def personal_data(text: str) -> List[str]:
    """The kinds of personal data found in `text` (empty: it may enter a tracked file)."""
    text = unicodedata.normalize("NFC", text or "")
    found: Set[str] = set()
    # What the masking already knows, in digits and symbols.
    for pattern, kind in (
        (masking.EMAIL, "handle"),
        (masking.URL, "handle"),
        (masking.USERNAME, "handle"),
        (masking.PHONE_INTERNATIONAL, "phone"),
        (masking.PHONE_FRENCH, "phone"),
        (masking.IBAN, "id_number"),
        (masking.DATE, "birthdate"),
        (SHORT_DATE, "birthdate"),
        (masking.ADDRESS, "address"),
    ):
        if pattern.search(text):
            found.add(kind)
    for match in DIGIT_RUN.finditer(text):
        after = fold(text[match.end() : match.end() + 12]).split()
        groups = re.findall(r"\d+", match.group(0))
        years = len(groups) > 1 and YEAR.match(groups[0]) and len(groups[1]) == 4  # 2024-2027, 2024/1712
        if not years and not (after and after[0].strip(".,;:!?") in {fold(c) for c in CURRENCIES}):
            found.add("phone")

    tokens = [m.group(0) for m in TOKEN.finditer(text)]
    folded = [fold(t) for t in tokens]
    shouting = sum(t.isupper() for t in tokens if t.isalpha()) > 0.6 * max(
        1, sum(t.isalpha() for t in tokens)
    )
    if _spelled_number(tokens):
        found.add("phone")
    sentence_start = True
    for i, (token, low) in enumerate(zip(tokens, folded)):
        if token in ".!?":
            sentence_start = True
            continue
        before = " ".join(folded[max(0, i - 6) : i])
        prev = folded[i - 1] if i else ""
        word = token[:1].isalpha() or token[:1].isdigit()
        if not word:
            continue
        if token.startswith("<"):
            sentence_start = False
            continue
        capital = _capitalised(token) and not shouting
        unknown = _unknown(token)
        if low.isdigit():
            if YEAR.match(low) and _BIRTH.search(before):  # "le 5 avril 2011" alone is a law's date
                found.add("birthdate")
            if POSTAL_CODE.match(low) and not (i + 1 < len(folded) and folded[i + 1] in CURRENCIES):
                found.add("address")
            if ROOM.search(before + " "):
                found.add("address")
            if len(low) >= 6 and not (i + 1 < len(folded) and folded[i + 1] in CURRENCIES):
                found.add("id_number")
        elif low in MONTHS and i and folded[i - 1].isdigit() and _BIRTH.search(before):
            found.add("birthdate")
        if MIXED_ID.match(low) and sum(c.isdigit() for c in low) >= 4:
            found.add("id_number")
        if _ID_TRIGGER.search(before + " ") and any(c.isdigit() for c in low) and len(low) >= 5:
            found.add("id_number")
        if _NAME_TRIGGER.search(before + " ") and (unknown or _name_like(token)) and not low.isdigit():
            found.add("name")
        if (
            _HANDLE_TRIGGER.search(before + " ")
            and (unknown or re.search(r"[\d_.]", low))
            and not low.isdigit()
        ):
            found.add("handle")
        if _PLACE_TRIGGER.search(before + " ") and (unknown or low in NAME_LIKE) and not low.isdigit():
            found.add("place")
        if _WORK_TRIGGER.search(before + " ") and (unknown or capital):
            found.add("workplace")
        if STREET.search(prev + " ") and (capital or unknown) and i > 0:
            found.add("address")
        if _TITLE.search(before + " ") and (capital or low in NAME_LIKE):
            found.add("name")
        if _WEAK_TRIGGER.search(prev + " ") and capital and unknown:
            found.add("name")
        if low in NAME_LIKE and (low not in AMBIGUOUS or capital and not sentence_start):
            found.add("place" if low in {fold(p) for p in PLACES} else "name")
        elif capital and unknown and (not sentence_start or NAME_SUFFIX.search(low)):
            found.add("name")
        elif unknown and LOWER_SURNAME.search(low):
            found.add("name")
        sentence_start = False
    return [k for k in KINDS if k in found]


def check_texts(texts: Iterable[tuple]) -> List[str]:
    """Problems (one line each, no text) for the (where, text) pairs holding personal data."""
    return [
        str(PersonalDataError(where, kinds))
        for where, text in texts
        for kinds in [personal_data(text)]
        if kinds
    ]
