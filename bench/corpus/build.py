"""Writes the evaluation corpora of bench/corpus/ from the source lists beside it.

    python -m bench.corpus.build        # needs python-stdnum (NIR keys, Luhn, IBAN check digits)

The output is committed; this script only makes it reproducible (fixed random seed). See SOURCES.md.
"""

from __future__ import annotations

import csv
import html
import json
import random
import re
from pathlib import Path

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.fr import nir as std_nir
from stdnum.fr import siret as std_siret

from bench.corpus import _checks_data as C
from bench.corpus import _sentiment_data as S

HERE = Path(__file__).parent
MARK = re.compile(r"\{([^{}|]*)\|([^{}|]*)\}")
WRITTEN = "written by the project"
WIKI = ("written by the project; misspelling pair from Wikipedia 'Lists of common misspellings/For machines' "
        "(CC BY-SA 4.0)")


def _write_jsonl(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _marked(sentence: str) -> tuple[str, dict, str]:
    """'Votre colis {et|est} en route' -> (text, error, corrected text)."""
    marks = list(MARK.finditer(sentence))
    if len(marks) != 1:
        raise ValueError(f"exactly one {{wrong|right}} expected: {sentence!r}")
    m = marks[0]
    wrong, right = m.group(1), m.group(2)
    text = sentence[: m.start()] + wrong + sentence[m.end():]
    start = m.start()
    corrected = sentence[: m.start()] + right + sentence[m.end():]
    return text, {"start": start, "end": start + len(wrong), "wrong": wrong, "right": right}, corrected


def build_checks() -> None:
    for lang, clean, classes in (
        ("fr", C.FR_CLEAN, {"homophone": C.FR_HOMOPHONE, "agreement": C.FR_AGREEMENT, "accent": C.FR_ACCENT,
                            "typo": C.FR_TYPO}),
        ("en", C.EN_CLEAN, {"confusion": C.EN_CONFUSION, "typo": C.EN_TYPO}),
    ):
        rows = [{"id": f"{lang}-clean-{i:03d}", "text": t, "lang": lang, "class": "clean", "errors": [],
                 "source": WRITTEN} for i, t in enumerate(clean, 1)]
        pairs = []
        for cls, sentences in classes.items():
            for i, s in enumerate(sentences, 1):
                text, err, corrected = _marked(s)
                rid = f"{lang}-{cls}-{i:03d}"
                source = WIKI if (lang == "en" and cls == "typo") else WRITTEN
                rows.append({"id": rid, "text": text, "lang": lang, "class": cls, "errors": [err], "source": source})
                if cls in ("homophone", "agreement", "confusion"):
                    pairs.append((rid, corrected))
        # The corrected form of every real-word error is a clean reply too (a minimal pair): a checker that
        # flags the word itself, whatever its context, is caught out here.
        for j, (rid, corrected) in enumerate(pairs, len(clean) + 1):
            rows.append({"id": f"{lang}-clean-{j:03d}", "text": corrected, "lang": lang, "class": "clean",
                         "errors": [], "source": f"{WRITTEN}; corrected form of {rid}"})
        _write_jsonl(f"checks_{lang}.jsonl", rows)


def _rating(mean: float) -> str:
    if mean <= -2.0:
        return "strong_negative"
    if mean <= -0.5:
        return "negative"
    if mean < 0.5:
        return "neutral"
    return "positive"


def build_sentiment() -> None:
    rows = []
    for vid, mean, text in S.VADER_TWEETS:
        rows.append({"id": f"en-vader-{vid}", "text": html.unescape(text), "lang": "en", "rating": _rating(mean),
                     "mean_rating": mean, "source": "VADER tweets_GroundTruth.txt (Hutto & Gilbert 2014), MIT"})
    for i, (text, rating) in enumerate(S.EN_WRITTEN, 1):
        rows.append({"id": f"en-written-{i:03d}", "text": text, "lang": "en", "rating": rating, "source": WRITTEN})
    _write_jsonl("sentiment_en.jsonl", rows)
    rows = [{"id": f"fr-written-{i:03d}", "text": t, "lang": "fr", "rating": r, "source": WRITTEN}
            for i, (t, r) in enumerate(S.FR_WRITTEN, 1)]
    _write_jsonl("sentiment_fr.jsonl", rows)


# ---------------------------------------------------------------- personal data

ROSTER = [
    ("Jean-Baptiste Leroy", "jb.leroy@armorine.example"),
    ("Marie-Hélène Garnier", "mh.garnier@armorine.example"),
    ("Karim Benali", "k.benali@armorine.example"),
    ("Sophie Lemoine", "s.lemoine@armorine.example"),
    ("Thomas Nguyen", "t.nguyen@armorine.example"),
    ("Élodie Fabre", "e.fabre@armorine.example"),
    ("Pierre-Yves Caradec", "py.caradec@armorine.example"),
    ("Nadia Ouali", "n.ouali@armorine.example"),
    ("Lucas Perrin", "l.perrin@armorine.example"),
    ("Gwenaëlle Le Goff", "g.legoff@armorine.example"),
]


def _span(template: str, value: str) -> tuple[str, list[int]]:
    i = template.index("{}")
    return template.replace("{}", value, 1), [i, i + len(value)]


def _nir(rng: random.Random) -> str:
    while True:
        body = (f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
                f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}")
        if body[5:7] == "20":
            continue
        number = body + std_nir.calc_check_digits(body)
        if std_nir.is_valid(number):
            return number


def _card(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    return body + luhn.calc_check_digit(body)


def _iban(rng: random.Random, country: str, bban_len: int) -> str:
    while True:
        if country == "FR":
            bank, branch = rng.randint(10000, 39999), rng.randint(10000, 99999)
            account = rng.randint(10**9, 10**11 - 1)
            key = 97 - ((89 * bank + 15 * branch + 3 * account) % 97)
            bban = f"{bank:05d}{branch:05d}{account:011d}{key:02d}"
        elif country == "GB":
            bban = "NWBK" + "".join(str(rng.randint(0, 9)) for _ in range(14))
        else:
            bban = "".join(str(rng.randint(0, 9)) for _ in range(bban_len))
        number = country + "00" + bban
        number = country + std_iban.calc_check_digits(number) + bban
        if std_iban.is_valid(number):
            return number


def _group(s: str, n: int = 4) -> str:
    return " ".join(s[i:i + n] for i in range(0, len(s), n))


def build_personal_data() -> None:
    rng = random.Random(13)
    rows: list[dict] = []

    def pos(kind: str, lang: str, template: str, value: str) -> None:
        text, span = _span(template, value)
        rows.append({"id": f"pd-{kind}-{sum(r['kind'] == kind for r in rows) + 1:03d}", "text": text, "lang": lang,
                     "kind": kind, "positive": True, "span": span})

    def neg(kind: str, lang: str, text: str) -> None:
        rows.append({"id": f"pd-neg-{kind}-{sum(r['kind'] == kind for r in rows) + 1:03d}", "text": text,
                     "lang": lang, "kind": kind, "positive": False, "span": None})

    emails = [
        ("fr", "Vous pouvez écrire à {} pour le suivi.", "jean.dupont@example.com"),
        ("fr", "Mon adresse : {}, merci de me recontacter.", "jean [at] example.com"),
        ("fr", "Écrivez-moi à {} svp", "marie arobase exemple point fr"),
        ("fr", "Contact : {}", "paul(at)example(dot)org"),
        ("en", "My email is {} if you need it.", "luc at example dot com"),
        ("fr", "Envoyez la facture à {} s'il vous plaît.", "Claire.Morel@Example.FR"),
        ("fr", "mon mail {} merci", "kevin_92@exemple.fr"),
        ("en", "Reach me on {} anytime.", "sarah.jones+orders@example.co.uk"),
        ("fr", "Adresse : {}", "nathalie [arobase] exemple [point] fr"),
        ("fr", "Je suis joignable sur {}", "yann.le-bris@exemple.bzh"),
        ("en", "Send it to {} please", "mike{at}example{dot}com"),
        ("fr", "Ma fille : {}.", "lea.martin @ exemple.fr"),
        ("fr", "c'est {} mon adresse", "bernard.petit AT exemple.fr"),
        ("en", "Contact me: {}", "j.smith@example.org"),
        ("fr", "Mon email : {} (pas de spam svp)", "anne-sophie.roux@example.net"),
        ("fr", "Voici mon adresse {}", "franck chez exemple point com"),
        ("en", "email {} thx", "tom_b at example dot net"),
        ("fr", "Réponse souhaitée à {}", "GERARD.LAMBERT@EXEMPLE.FR"),
        ("fr", "Mon courriel est {}.", "c.dubois@exemple.fr"),
        ("en", "You can write to {} for the invoice.", "accounts [dot] team [at] example [dot] com"),
        ("fr", "Envoyez-moi un mail : {}", "hugo.vidal (arobase) exemple.fr"),
        ("en", "I'm at {}", "priya.patel@example.com"),
    ]
    for lang, t, v in emails:
        pos("email", lang, t, v)

    phones_fr = ["06 12 34 56 78", "0612345678", "+33 6 12 34 56 78", "06.98.76.54.32", "01 99 00 12 34",
                 "07 81 23 45 67", "+33 (0)6 45 67 89 01", "0033 6 11 22 33 44", "02-98-12-34-56", "06 39 98 45 12",
                 "04 72 10 20 30", "+336 55 44 33 22", "09 70 12 34 56", "06 1234 5678",
                 "05 56 78 90 12", "+33 7 49 12 34 56", "03 88 12 34 56", "06 22 33 44 55", "0781234567",
                 "+33 1 99 00 45 67", "06 70 80 90 10"]
    templates_fr = ["Rappelez-moi au {} svp.", "Mon numéro : {}", "Vous pouvez me joindre au {} après 18 h.",
                    "tel {} merci", "Appelez ma femme au {}, elle sera là.", "Mon portable est le {}."]
    for i, p in enumerate(phones_fr):
        pos("phone_fr", "fr", templates_fr[i % len(templates_fr)], p)

    foreign = [
        ("fr", "Je vis en Belgique, mon numéro : {}", "0470 12 34 56"),
        ("fr", "Numéro belge : {}", "02 123 45 67"),
        ("fr", "Depuis Liège, appelez le {}", "04 221 33 44"),
        ("fr", "Mon GSM belge est le {}.", "0498/76.54.32"),
        ("fr", "En Suisse, joignable au {}", "079 123 45 67"),
        ("fr", "Mon numéro à Genève : {}", "022 345 67 89"),
        ("fr", "Appelez-moi au {} (Lausanne).", "021 987 65 43"),
        ("fr", "Portable suisse : {}", "076 555 12 34"),
        ("en", "Call me on {} please.", "07700 900123"),
        ("en", "My London number is {}", "020 7946 0018"),
        ("en", "You can ring me on {} after 6.", "07700 900 456"),
        ("en", "Landline: {}", "0161 496 0123"),
        ("en", "Call me at {} any time.", "(201) 555-0123"),
        ("en", "My cell is {}", "212-555-0187"),
        ("en", "Reach me on {} (US).", "415.555.0132"),
        ("en", "Phone: {}", "(312) 555-0199"),
        ("fr", "Je suis en Allemagne : {}", "030 12345678"),
        ("en", "My German mobile: {}", "0151 23456789"),
        ("fr", "Numéro à Munich : {}", "089 1234567"),
        ("en", "Call my Hamburg office on {}", "040/1234567"),
        ("fr", "Mon Handy allemand : {}", "0170 1234567"),
    ]
    for lang, t, v in foreign:
        pos("phone_foreign", lang, t, v)

    nir_templates = ["Mon numéro de sécurité sociale est {}.", "NIR : {}", "n° sécu {} pour le dossier",
                     "Voici mon numéro de sécu : {}", "Ma carte Vitale porte le numéro {}."]
    for i in range(22):
        n = _nir(rng)
        shown = std_nir.format(n) if i % 3 == 0 else (n if i % 3 == 1 else f"{n[:13]} {n[13:]}")
        pos("nir", "fr", nir_templates[i % len(nir_templates)], shown)

    card_templates = ["Ma carte : {}, vous pouvez me rembourser dessus.", "Voici ma CB {} exp 12/27",
                      "My card number is {}.", "carte {} merci de débiter", "Card: {}"]
    specs = [("4", 16), ("51", 16), ("55", 16), ("4", 16), ("22", 16), ("34", 15), ("37", 15), ("4", 13),
             ("6011", 16), ("4", 19), ("52", 16)]
    for i in range(22):
        prefix, length = specs[i % len(specs)]
        number = _card(rng, prefix, length)
        shown = _group(number) if i % 2 == 0 else (number if i % 4 == 1 else "-".join(_group(number).split()))
        t = card_templates[i % len(card_templates)]
        pos("card", "en" if t.startswith(("My", "Card")) else "fr", t, shown)

    iban_specs = [("FR", 23), ("FR", 23), ("DE", 18), ("BE", 12), ("GB", 18), ("ES", 20), ("CH", 17)]
    iban_templates = ["Mon IBAN : {}", "Remboursez sur {} svp", "IBAN {} (compte joint)", "My IBAN is {}.",
                      "Voici mon RIB : {}"]
    for i in range(22):
        country, blen = iban_specs[i % len(iban_specs)]
        number = _iban(rng, country, blen)
        style = i % 4
        shown = (_group(number) if style == 0 else number.lower() if style == 1 else
                 _group(number).lower() if style == 2 else number[:2] + number[2:].lower())
        t = iban_templates[i % len(iban_templates)]
        pos("iban", "en" if t.startswith("My") else "fr", t, shown)

    names = [
        ("fr", "Merci à {} pour son aide hier.", "Jean Baptiste Leroy"),
        ("fr", "J'ai eu {} au téléphone.", "Leroy Jean-Baptiste"),
        ("fr", "Comme l'a dit {}, le colis est parti.", "M. Leroy"),
        ("fr", "Voyez avec {} du service client.", "Mme Garnier"),
        ("fr", "{} vous rappellera.", "Marie Hélène Garnier"),
        ("fr", "Signé : {}", "GARNIER Marie-Hélène"),
        ("fr", "Votre conseiller, {}, reste à votre écoute.", "Karim Benali"),
        ("fr", "Dossier suivi par {}.", "Benali Karim"),
        ("fr", "{} a validé votre remboursement.", "Mme Lemoine"),
        ("en", "{} from our team will call you.", "Sophie Lemoine"),
        ("fr", "Affaire suivie par {}.", "LEMOINE Sophie"),
        ("en", "Your case is with {}.", "Thomas Nguyen"),
        ("fr", "{} est en congé jusqu'à lundi.", "M. Nguyen"),
        ("fr", "Réponse préparée par {}.", "Elodie Fabre"),
        ("fr", "Contactez {} en boutique.", "Fabre Élodie"),
        ("fr", "{} s'occupe de votre commande.", "Pierre Yves Caradec"),
        ("fr", "Voyez cela avec {}.", "M. Caradec"),
        ("en", "{} has escalated your complaint.", "Nadia Ouali"),
        ("fr", "{} vous répondra demain.", "Mme Ouali"),
        ("en", "Thanks to {} for the quick fix.", "Lucas Perrin"),
        ("fr", "Le responsable, {}, a été prévenu.", "Perrin Lucas"),
        ("fr", "{} vous recontactera.", "Gwenaëlle Le Goff"),
        ("en", "Please ask for {} at the desk.", "Mr Leroy"),
        ("en", "{} will look into it.", "Ms Garnier"),
    ]
    for lang, t, v in names:
        pos("employee_name", lang, t, v)

    # ---- negatives
    for lang, t in [("fr", "Votre commande n° 4587123 est partie."), ("fr", "Commande AR-2026-004512 expédiée."),
                    ("en", "Order #100234987 has shipped."), ("fr", "Référence de commande : CMD 2026 0412 77"),
                    ("en", "Your order 3021-8876 is ready."), ("fr", "N° de dossier 20260314-0042"),
                    ("fr", "Facture FA-2026-000318 disponible."), ("en", "Return authorisation RMA 558812.")]:
        neg("order_number", lang, t)
    for lang, t in [("fr", "Suivi Colissimo : 6A12345678901"), ("fr", "Numéro Chronopost XY123456789FR"),
                    ("en", "UPS tracking 1Z999AA10123456784"), ("fr", "Suivi Mondial Relay 12345678"),
                    ("en", "Royal Mail tracking AB123456789GB"), ("fr", "Colis n° 8R00123456789"),
                    ("en", "DHL waybill 1234567890"), ("fr", "Lettre suivie 1K00987654321")]:
        neg("tracking_number", lang, t)
    for lang, t in [("fr", "Le total est de 1 249,90 €."), ("en", "That comes to $1,299.00."),
                    ("fr", "Remboursement de 24,90 € effectué."), ("en", "Refund of £1,050.75 issued."),
                    ("fr", "Prix : 3 500 € HT, soit 4 200 € TTC."), ("en", "Total 12,345.67 EUR"),
                    ("fr", "Frais de port 6,90 € offerts dès 35 €.")]:
        neg("price", lang, t)
    for lang, t in [("fr", "Livraison prévue le 12/03/2026."), ("en", "Delivered on 2026-03-14 at 10:42."),
                    ("fr", "Commande du 14 juillet 2025 à 18 h 30."), ("en", "Expected between 03/12/2026 and 03/15/2026."),
                    ("fr", "Horaires : 09:00-12:30 et 14:00-18:00"), ("fr", "Date limite : 31.12.2026"),
                    ("en", "Opening hours 9 am - 6 pm, 7 days a week.")]:
        neg("date", lang, t)
    for _ in range(8):
        while True:
            siren8 = "".join(str(rng.randint(0, 9)) for _ in range(8))
            siren = siren8 + luhn.calc_check_digit(siren8)
            nic4 = "".join(str(rng.randint(0, 9)) for _ in range(4))
            siret = siren + nic4 + luhn.calc_check_digit(siren + nic4)
            if std_siret.is_valid(siret) and siret[0] != "0":
                break
        shown = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}" if rng.random() < 0.5 else siret
        neg("siret", "fr", f"Biscuiterie Armorine SA, SIRET {shown}, RCS Quimper.")
    for lang, t in [("fr", "Merci #Armorine2026 !"), ("en", "Loving the #PaletsDArmor #Brittany"),
                    ("fr", "#JeudiPhoto #0612345678"), ("en", "#OrderOfTheDay #1234567890123"),
                    ("fr", "#RGPD #NoSpam"), ("fr", "#SalonDeNantes2026 #stand42")]:
        neg("hashtag", lang, t)
    for i in range(8):
        good = _card(rng, "4", 16)
        bad = good[:-1] + str((int(good[-1]) + 1) % 10)
        neg("luhn_invalid", "fr" if i % 2 else "en", f"Numéro de client {_group(bad)}" if i % 2 else f"Reference {bad}")
    for i in range(4):
        good = _nir(rng)
        bad = good[:13] + f"{(int(good[13:]) % 96) + 1:02d}"
        if bad == good:
            bad = good[:13] + f"{(int(good[13:]) + 1) % 97 or 1:02d}"
        neg("nir_invalid", "fr", f"Identifiant interne {bad}")
    for i in range(4):
        good = _iban(rng, "FR", 23)
        bad = good[:2] + f"{(int(good[2:4]) + 1) % 100:02d}" + good[4:]
        neg("iban_invalid", "fr", f"Référence virement {bad}")
    for lang, t in [("fr", "Service client : 02 98 00 00 00 ou contact@armorine.example"),
                    ("en", "Write to support@armorine.example for help."),
                    ("fr", "Appelez-nous au 02 98 00 00 00 du lundi au vendredi.")]:
        neg("company_contact", lang, t)
    for lang, t in [("fr", "Le Goff est un nom très courant en Bretagne."), ("en", "Thomas the Tank Engine tins are back."),
                    ("fr", "Rendez-vous rue Pierre Loti à 10 h.")]:
        neg("other_name", lang, t)
    _write_jsonl("personal_data.jsonl", rows)
    with open(HERE / "roster.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "email"])
        w.writerows(ROSTER)


# ---------------------------------------------------------------- crisis words

CRISIS = [
    # (lang, crisis, keyword, text)
    ("en", True, "recall", "Acme recalls kettles after fire reports."),
    ("en", True, "recall", "Armorine recalls its salted butter biscuits."),
    ("en", True, "recall", "My kettle was recalled last week, what do I do?"),
    ("en", True, "recall", "Breaking: Armorine biscuits recalled over metal fragments."),
    ("en", True, "recall", "Is the Armorine recall affecting the Palets d'Armor too?"),
    ("en", True, "recall", "They're recalling every tin sold since May."),
    ("en", True, "recall", "Product recall: Galettes du Port, batch 2026-114."),
    ("en", True, "recall", "Two recalls in one year, Armorine? Seriously?"),
    ("en", True, "hacked", "Armorine's website has been hacked, don't enter your card."),
    ("en", True, "hacked", "Your account got hacked and someone ordered 40 tins in my name."),
    ("en", True, "hacked", "Armorine hacked: customer emails leaked online."),
    ("en", True, "data breach", "Armorine confirms a data breach affecting 10,000 customers."),
    ("en", True, "data breach", "Was my address part of the data breaches reported today?"),
    ("en", True, "food poisoning", "Three kids got food poisoning after eating Armorine biscuits."),
    ("en", True, "food poisoning", "Suspected food-poisoning case linked to your galettes."),
    ("en", True, "boycott", "Boycotting Armorine until they pay their workers properly."),
    ("en", True, "boycott", "Join the boycott! #BoycottArmorine"),
    ("en", True, "foreign body", "Found a foreign body in my biscuit, looks like glass."),
    ("en", True, "foreign body", "Foreign bodies in two packets from the same batch."),
    ("en", True, "strike", "Workers at the Armorine factory are on strike since Monday."),
    ("en", True, "strike", "Striking Armorine staff block the Quimper plant."),
    ("fr", True, "rappel produit", "Acme rappelle ses bouilloires après des départs de feu."),
    ("fr", True, "rappel produit", "Armorine rappelle ses palets au beurre salé."),
    ("fr", True, "rappel produit", "Rappel de produit Acme : ne consommez pas le lot 114."),
    ("fr", True, "rappel produit", "Rappels conso : les galettes Armorine concernées."),
    ("fr", True, "rappel produit", "Les biscuits rappelés sont à rapporter en magasin ?"),
    ("fr", True, "rappel produit", "Nouveau rappel conso chez Armorine, c'est le deuxième cette année."),
    ("fr", True, "rappel produit", "Armorine a rappelé tous les paquets vendus depuis mai."),
    ("fr", True, "piratage", "Acme a été piraté, nos cartes bancaires sont dans la nature."),
    ("fr", True, "piratage", "Le site d'Armorine a été piraté cette nuit."),
    ("fr", True, "piratage", "Piratage massif chez Armorine : les données clients en vente."),
    ("fr", True, "piratage", "Mon compte Armorine s'est fait pirater, 300 € de commandes !"),
    ("fr", True, "fuite de données", "Fuite de données chez Armorine : nos adresses publiées."),
    ("fr", True, "fuite de données", "Les fuites de données se multiplient, Armorine aussi touchée."),
    ("fr", True, "intoxication", "Intoxication alimentaire après un goûter aux galettes Armorine."),
    ("fr", True, "intoxication", "Deux enfants intoxiqués par des biscuits Armorine."),
    ("fr", True, "corps étranger", "Un corps étranger dans mon paquet de palets !"),
    ("fr", True, "corps étranger", "Encore des corps étrangers dans vos biscuits."),
    ("fr", True, "boycott", "J'appelle au boycott d'Armorine."),
    ("fr", True, "boycott", "Boycottons Armorine tant qu'ils maltraitent leurs salariés."),
    ("fr", True, "grève", "Grève à la biscuiterie Armorine, la production est arrêtée."),
    ("fr", True, "grève", "Les grévistes d'Armorine bloquent l'usine de Quimper."),
    ("fr", True, "grève", "Les salariés d'Armorine sont en grève depuis lundi."),
    ("fr", True, "scandale", "Scandale chez Armorine : du beurre importé vendu comme breton."),
    # negatives: negated, or the same word in another sense
    ("en", False, "recall", "I don't recall ordering the large tin."),
    ("en", False, "recall", "As far as I recall, delivery was free last year."),
    ("en", False, "recall", "There is no recall on our biscuits; they are safe to eat."),
    ("en", False, "recall", "This is not a recall, just a label update."),
    ("en", False, "recall", "Total recall: my favourite film, watched with Armorine cookies."),
    ("en", False, "hacked", "We have not been hacked; the email you received is a phishing attempt."),
    ("en", False, "hacked", "I hacked together a biscuit tin shelf, love it."),
    ("en", False, "hacked", "Life hack: warm the palets for ten seconds."),
    ("en", False, "data breach", "No data breach occurred; your details are safe."),
    ("en", False, "food poisoning", "Not food poisoning, just too many biscuits at once."),
    ("en", False, "boycott", "I would never boycott Armorine, best biscuits ever."),
    ("en", False, "strike", "The rail strike delayed my parcel, not your fault."),
    ("en", False, "strike", "These biscuits strike the perfect balance of salt and butter."),
    ("en", False, "strike", "Bowling night: three strikes and a tin of palets as a prize."),
    ("en", False, "foreign body", "The Foreign Body is a great detective novel."),
    ("en", False, "recall", "Please recall the courier, he left without the parcel."),
    ("en", False, "scandal", "The scandal is how good these biscuits are."),
    ("en", False, "recall", "Recalling my childhood with these galettes."),
    ("en", False, "hacked", "No account was hacked, we only reset passwords as a precaution."),
    ("en", False, "boycott", "Nobody is boycotting anything, calm down."),
    ("fr", False, "rappel produit", "Je vous rappelle demain matin pour votre commande."),
    ("fr", False, "rappel produit", "Rappel : la boutique ferme à 18 h samedi."),
    ("fr", False, "rappel produit", "Aucun rappel produit n'est en cours sur nos biscuits."),
    ("fr", False, "rappel produit", "Merci de me rappeler au sujet de ma livraison."),
    ("fr", False, "rappel produit", "Ce goût me rappelle mon enfance."),
    ("fr", False, "rappel produit", "Petit rappel de votre rendez-vous en boutique jeudi."),
    ("fr", False, "rappel produit", "J'ai fait mon rappel de vaccin, puis un goûter Armorine."),
    ("fr", False, "rappel produit", "Il ne s'agit pas d'un rappel conso, seulement d'une nouvelle étiquette."),
    ("fr", False, "rappel produit", "Vous pouvez rappeler le service client au 02 98 00 00 00."),
    ("fr", False, "piratage", "Non, nous n'avons pas été piratés : cet e-mail est une tentative d'hameçonnage."),
    ("fr", False, "piratage", "Le piratage des films, très peu pour moi, mais vos palets oui."),
    ("fr", False, "piratage", "Aucun piratage n'a eu lieu, vos données sont en sécurité."),
    ("fr", False, "fuite de données", "Pas de fuite de données, rassurez-vous."),
    ("fr", False, "fuite de données", "Ma bouilloire a une fuite, de l'eau partout sur le plan de travail."),
    ("fr", False, "intoxication", "Pas d'intoxication, juste une indigestion de crêpes."),
    ("fr", False, "corps étranger", "L'étranger de Camus se lit bien avec un paquet de palets."),
    ("fr", False, "boycott", "Je ne boycotte pas Armorine, je suis fan !"),
    ("fr", False, "grève", "La grève SNCF retarde votre colis de deux jours, désolés."),
    ("fr", False, "grève", "Balade sur la grève de Douarnenez avec des galettes."),
    ("fr", False, "grève", "Pas de grève chez nous, la production continue normalement."),
    ("fr", False, "scandale", "Le scandale, c'est que le paquet se vide si vite !"),
    ("fr", False, "rappel produit", "Rappelez-moi votre numéro de commande, s'il vous plaît."),
    ("fr", False, "rappel produit", "Le rappel du livreur est prévu entre 14 h et 16 h."),
    ("fr", False, "boycott", "Personne n'appelle au boycott, c'était une blague."),
]


def build_crisis() -> None:
    rows = [{"id": f"crisis-{lang}-{'pos' if c else 'neg'}-{i:03d}", "text": t, "lang": lang, "crisis": c,
             "keyword": k, "source": WRITTEN} for i, (lang, c, k, t) in enumerate(CRISIS, 1)]
    _write_jsonl("crisis_words.jsonl", rows)


# ---------------------------------------------------------------- triage samples

TRIAGE = [
    ("Votre colis et mes biscuits sont bien arrivés, merci !", "fr", "general", "low"),
    ("À quelle heure ouvre la boutique de Quimper ?", "fr", "general", "low"),
    ("Livraison en retard, je suis déçu.", "fr", "general", "medium"),
    ("C'est une arnaque, je veux un remboursement.", "fr", "general", "medium"),
    ("Le pire service client de France.", "fr", "general", "medium"),
    ("Rappel produit sur les palets Armorine : lot 114 concerné.", "fr", "general", "critical"),
    ("Armorine rappelle ses galettes, c'est grave ?", "fr", "general", "critical"),
    ("Le site d'Armorine a été piraté cette nuit.", "fr", "general", "critical"),
    ("Fuite de données chez Armorine, nos adresses circulent.", "fr", "general", "critical"),
    ("J'appelle au boycott d'Armorine.", "fr", "general", "critical"),
    ("Je vais porter plainte et saisir le tribunal de commerce.", "fr", "legal", "low"),
    ("Mon avocat vous envoie une mise en demeure.", "fr", "legal", "low"),
    ("Vous ne respectez pas le RGPD, je saisis la CNIL.", "fr", "legal", "low"),
    ("Contrefaçon de vos palets vendue sur un marché, honteux !", "fr", "legal", "medium"),
    ("Les résultats du T3 2025 d'Armorine sont en baisse.", "fr", "finance", "low"),
    ("Quel dividende pour les actionnaires cette année ?", "fr", "finance", "low"),
    ("Le cours de bourse d'Armorine chute après l'annonce.", "fr", "finance", "low"),
    ("Rumeur d'OPA sur Armorine.", "fr", "finance", "low"),
    ("Grève à l'usine Armorine depuis lundi.", "fr", "hr", "low"),
    ("Les salariés dénoncent un plan social chez Armorine.", "fr", "hr", "low"),
    ("Harcèlement à l'usine : la direction savait.", "fr", "hr", "low"),
    ("Armorine recrutement : vous embauchez pour Noël ?", "fr", "hr", "low"),
    ("Intoxication alimentaire après vos galettes, mes enfants sont à l'hôpital.", "fr", "general", "critical"),
    ("Corps étranger dans mon paquet de palets.", "fr", "general", "critical"),
    ("Thanks, the parcel arrived today!", "en", "general", "low"),
    ("Is the new tin recyclable?", "en", "general", "low"),
    ("Customer service is terrible. Terrible, terrible.", "en", "general", "medium"),
    ("Still no refund after three weeks, disgusting.", "en", "general", "medium"),
    ("You will not be disappointed, best biscuits in Brittany.", "en", "general", "low"),
    ("Armorine recalls its salted butter biscuits.", "en", "general", "critical"),
    ("My kettle was recalled, what now?", "en", "general", "critical"),
    ("Armorine's website has been hacked, don't use your card.", "en", "general", "critical"),
    ("Data breach at Armorine: customer emails leaked.", "en", "general", "critical"),
    ("I'm going to sue Armorine, my lawyer is on it.", "en", "legal", "low"),
    ("Counterfeit Armorine tins sold online, shameful.", "en", "legal", "medium"),
    ("Armorine quarterly results beat expectations, share price up.", "en", "finance", "low"),
    ("FTSE investors eye Armorine takeover.", "en", "finance", "low"),
    ("Armorine workers on strike over salary.", "en", "hr", "low"),
    ("Layoffs announced at Armorine's Quimper plant.", "en", "hr", "low"),
    ("Food poisoning after eating Armorine galettes.", "en", "general", "critical"),
]


def build_triage() -> None:
    with open(HERE / "triage_samples.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "lang", "expected_team", "expected_severity"])
        w.writerows(TRIAGE)


def main() -> None:
    build_checks()
    build_sentiment()
    build_personal_data()
    build_crisis()
    build_triage()
    print("corpora written to", HERE)


if __name__ == "__main__":
    main()
