"""Real-word confusions a spelling check cannot see: French homophones and English look-alikes.

Every word here is in the dictionary ("et", "ou", "your"); only its neighbours say it is the wrong one. Each
rule is a narrow pattern that fires on a confusion and (measured on clean replies) not on correct text:
precision first, a missed slip is better than a false alarm that teaches people to override. French rules
cover what Grammalecte misses (tried one by one: "Votre colis et en route", "aller a la poste", "Dites-nous
ou vous habitez", "Il c'est trompé"); Grammalecte itself runs outside Vigie (bot.language). Each rule returns
`Finding("grammar", ...)` on the one word to change, with its replacement as the suggestion.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.domain.findings import Finding

__all__ = ["RULES", "check_confusions"]

_A = r"['\u2019]"  # either apostrophe
_W = r"[^\W\d_]"  # a letter


class Rule(NamedTuple):
    name: str
    language: str
    pattern: re.Pattern[str]  # the group "w" is the word to replace
    replacement: str


def _rule(name: str, language: str, pattern: str, replacement: str) -> Rule:
    return Rule(name, language, re.compile(pattern, re.IGNORECASE), replacement)


# --- French --------------------------------------------------------------------------------------------------

# What a subject can be in a reply: "Votre colis", "La commande", "Il", "Cela".
_DET = r"(?:votre|vos|notre|nos|le|la|les|l['\u2019]|ce|cet|cette|ces|mon|ma|mes|son|sa|ses|leur|leurs|un|une)"
_CLAUSE_START = r"(?:^|(?<=[.!?;:\n])\s*|(?<=,)\s+)"
# Words that follow "est" and cannot follow "et" in a subject's position: "et en route", "et bien arrivé".
_AFTER_EST = (
    r"(?:en\s+(?:route|cours|attente|préparation|transit|stock|rupture|retard|chemin|livraison)|bien|déjà|"
    r"toujours|actuellement|désormais|maintenant|encore|bientôt|disponible|indisponible|prête?|arrivée?|partie?|"
    r"livrée?|expédiée?|bloquée?|perdue?|validée?|annulée?|confirmée?|remboursée?|traitée?|enregistrée?|"
    r"terminée?|résolue?|parvenue?|retournée?|réglée?|possible|impossible|normal|fermée?|ouverte?)\b"
)
FRENCH = [
    # "Votre colis et en route": a subject, then "et", then what can only be said with "est".
    _rule("fr_et_est", "fr",
          _CLAUSE_START + _DET + r"\s*" + _W + r"+\s+(?P<w>et)\s+(?:" + r"(?:très|pas|plus)\s+)?" + _AFTER_EST,
          "est"),
    _rule("fr_et_est_pronoun", "fr", r"(?:^|(?<=[\s,.;:!?]))(?:il|elle|on|cela|ceci)\s+(?P<w>et)\s+" + _AFTER_EST,
          "est"),
    # "aller a la poste", "a partir de", "a bientôt": the preposition after a verb of motion or in set phrases.
    _rule("fr_a_preposition", "fr",
          r"\b(?:aller|venir|passer|rendre|présenter|adresser|envoyer|retourner|renvoyer|déposer|répondre|écrire|"
          r"parler|rester|allez|venez|passez|rendez-vous|adressez-vous|jusqu|grâce|quant|face|suite|mis|mise|"
          r"remis|remise)" r"(?:\s+|(?<=jusqu)" + _A + r")(?P<w>a)\s", "à"),
    _rule("fr_a_set_phrase", "fr",
          r"(?:^|(?<=[\s,.;:!?]))(?P<w>a)\s+(?:partir\s+d|bientôt|cause\s+d|propos\s+d|compter\s+d|nouveau\b|"
          r"votre\s+(?:disposition|écoute|service)|l['\u2019]écoute|tout\s+moment|très\s+vite|moins\s+que|"
          r"la\s+suite\s+d|jour\b)", "à"),
    # "là ou vous êtes", "Dites-nous ou vous habitez": a place or a moment, then "ou" and a clause.
    _rule("fr_ou_where", "fr",
          r"\b(?:là|moment|jour|endroit|cas|mesure|période|instant|d)(?:\s+|(?<=d)" + _A + r")(?P<w>ou)\s+"
          r"(?:vous|il|elle|ils|elles|nous|on|je|j['\u2019]|se\s|votre|vos|le\s+colis|la\s+commande|en\s+est)",
          "où"),
    _rule("fr_ou_ask_where", "fr",
          r"\b(?:dites|indiquez|précisez|expliquez|demander|savoir|sais|savez|ignorons)(?:-nous|-moi)?\s+"
          r"(?P<w>ou)\s+(?:vous|il|elle|se\s+trouve|en\s+est|est|sont|se\s+situe)", "où"),
    # "Ils on reçu", "les conseillers on répondu": a plural subject, then "on" and a past participle.
    _rule("fr_on_ont", "fr",
          r"\b(?:ils|elles|(?:nos|vos|les|ces|des|leurs|mes|tes)\s+" + _W + r"+[sx])\s+(?P<w>on)\s+"
          r"(?:(?:bien|déjà|pas|toujours)\s+)?" + _W + r"+(?:é|ée|és|ées|u|ue|us|i|is|it|ert|ait)\b", "ont"),
    # "Nos conseillers son disponibles", "ils son partis".
    _rule("fr_son_sont", "fr",
          r"\b(?:ils|elles|(?:nos|vos|les|ces|des|leurs|mes|tes)\s+" + _W + r"+[sx])\s+(?P<w>son)\s+"
          r"(?!" + _W + r"+\s+(?:et|ou)\b)", "sont"),
    # "Nous avons vérifier": "avoir" then an infinitive in -er, where the past participle belongs (Grammalecte
    # catches it too; this keeps it caught when Grammalecte is absent).
    _rule("fr_er_participle", "fr",
          r"\b(?:ai|as|a|avons|avez|ont|avait|avions|aviez|avaient|aurons|aurez|auront)\s+"
          r"(?:(?:bien|déjà|pas|jamais|toujours|aussi|tout|encore)\s+)?"
          r"(?P<w>(?!(?:hier|cher|fier|amer|super|premier|dernier|léger|entier|particulier|régulier|"
          r"dossier|courrier|panier|fichier|papier|calendrier|quartier|métier|clavier|acier|hiver|ver|mer|fer|"
          r"enfer|laser|poster|leader|manager|server|partner|cluster|reporter)\b)" + _W + r"{2,}er)\b", "é"),
    # "Ces pourquoi", "ces un oubli": "ces" (these) before what only "c'est" can introduce.
    _rule("fr_ces_cest", "fr",
          r"(?:^|(?<=[\s,.;:!?]))(?P<w>ces|ses|s['\u2019]est)\s+(?:pourquoi|un|une|dommage|normal|vrai|"
          r"possible|impossible|noté|bien\s+noté|parfait|exact|entendu|promis|avec\s+plaisir)\b", "c'est"),
    # "Il c'est trompé": a subject pronoun, then "c'est" where only the reflexive "s'est" fits.
    _rule("fr_cest_sest", "fr", r"\b(?:il|elle|on)\s+(?P<w>c" + _A + r"est)\s", "s'est"),
    _rule("fr_cest_sest_noun", "fr",
          _CLAUSE_START + _DET + r"\s*" + _W + r"+\s+(?P<w>c" + _A + r"est)\s+(?:(?:bien|déjà|mal)\s+)?"
          r"(?:produit|passée?|déroulée?|perdue?|égarée?|trompée?|rendu|retrouvée?|vendue?|écoulée?)\b", "s'est"),
]

# --- English -------------------------------------------------------------------------------------------------

_CMP = r"(?:more|less|better|worse|rather|faster|slower|bigger|smaller|higher|lower|fewer|greater|other|cheaper|longer)"
ENGLISH = [
    _rule("en_your_youre", "en",
          r"\b(?P<w>your)\s+(?:welcome|right\b|wrong\b|not\b|going\b|being\b|doing\b|sure\b|correct\b|very\b|"
          r"so\b|too\b|always\b|never\b|still\b|already\b|absolutely\b|(?:a|an|the)\s)", "you're"),
    _rule("en_youre_your", "en",
          r"\b(?P<w>you['\u2019]re)\s+(?:order|orders|account|package|parcel|refund|email|e-mail|phone|card|"
          r"request|payment|feedback|patience|details|address|item|items|booking|message|delivery|own)\b", "your"),
    _rule("en_its_itis", "en",
          r"\b(?P<w>its)\s+(?:a|an|the|not|been|being|going|very|so|too|now|already|possible|okay|ok|fine|"
          r"important|likely|time|on\s+its\s+way|here|there|no\s+longer|worth|true|clear|our)\b", "it's"),
    _rule("en_itis_its", "en", r"\b(?P<w>it['\u2019]s)\s+(?:own|owner|customers|users|team|staff|price)\b",
          "its"),
    _rule("en_there_their", "en",
          r"\b(?P<w>there)\s+(?:order|orders|account|accounts|package|parcel|refund|own|money|details|"
          r"email|phone|card|item|items)\b", "their"),
    _rule("en_their_there", "en",
          r"\b(?P<w>their)\s+(?:is|are|was|were|will\s+be|has\s+been|have\s+been|seems?)\b", "there"),
    _rule("en_theyre", "en", r"\b(?P<w>their|there)\s+(?:going\s+to|not\s+(?:able|going|available)|"
          r"coming|doing|being|trying)\b", "they're"),
    _rule("en_theyre_their", "en", r"\b(?P<w>they['\u2019]re)\s+(?:order|orders|account|package|own)\b",
          "their"),
    _rule("en_could_of", "en",
          r"\b(?:could|should|would|must|might|may)\s+(?P<w>of)\b(?!\s+course)", "have"),
    _rule("en_then_than", "en", r"\b" + _CMP + r"\s+(?P<w>then)\s+(?!(?:we|I|you|he|she|they|it)\b)", "than"),
    _rule("en_than_then", "en", r"\b(?:since|until|till|and|just|by|back)\s+(?P<w>than)\b(?=\s*[,.!?]|\s+we|\s+I)",
          "then"),
]

RULES: tuple[Rule, ...] = (*FRENCH, *ENGLISH)


def _cased(replacement: str, word: str) -> str:
    return replacement[:1].upper() + replacement[1:] if word[:1].isupper() else replacement


def check_confusions(text: str, language: str) -> list[Finding]:
    """Real-word confusions in `text`, left to right, one finding per word to change."""
    found: dict[tuple[int, int], Finding] = {}
    for rule in RULES:
        if rule.language != language:
            continue
        for match in rule.pattern.finditer(text):
            start, end = match.span("w")
            word = match["w"]
            if word == "A" and rule.replacement == "à":
                continue  # "A bientôt": capitals often go unaccented in French; not worth an alarm
            replacement = word[:-2] + "é" if rule.name == "fr_er_participle" else rule.replacement
            found.setdefault((start, end), Finding(
                "grammar", start, end, word, (_cased(replacement, word),), {"rule": rule.name},
            ))
    return sorted(found.values(), key=lambda f: (f.start, f.end))
