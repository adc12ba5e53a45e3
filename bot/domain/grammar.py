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
          r"\b(?:dites|indiquez|précisez|expliquez|signalez|confirmez|demander|savoir|sais|savez|ignorons|indiquer|"
          r"préciser|dire|confirmer|signaler|expliquer)(?:-nous|-moi|-vous|\s+nous|\s+moi)?\s+"
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
          r"\b(?:ai|as|a|avons|avez|ont|avait|avions|aviez|avaient|aurons|aurez|auront|été)\s+"
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
          r"coming|doing|trying)\b", "they're"),
    _rule("en_theyre_their", "en", r"\b(?P<w>they['\u2019]re)\s+(?:order|orders|account|package|own)\b",
          "their"),
    _rule("en_could_of", "en",
          r"\b(?:could|should|would|must|might|may)\s+(?P<w>of)\b(?!\s+course)", "have"),
    _rule("en_then_than", "en", r"\b" + _CMP + r"\s+(?P<w>then)\s+(?!(?:we|I|you|he|she|they|it)\b)", "than"),
    _rule("en_than_then", "en", r"\b(?:since|until|till|and|just|by|back)\s+(?P<w>than)\b(?=\s*[,.!?]|\s+we|\s+I)",
          "then"),
]

# --- more rules (issue 13, item 2: homophones at 75 % recall), each with the context that makes it certain -------

# A verb that takes an infinitive right after it (with object pronouns between): "Nous allons vous envoyé".
_TAKES_INFINITIVE = (
    r"(?:(?:pouvez|pouvons|peut|peuvent|pourrez|pourrons|pourriez|devez|devons|doit|doivent|devrez|devriez|allons|"
    r"allez|vais|va|vont|faut|veuillez|souhaitez|souhaitons|voulez|voulons|savez|tenons\s+à|tiens\s+à)\s+|"
    r"(?:venons|venez|vient|viens|viennent|essayons|essayez|tentons|permettez-nous|merci|afin|avant|oubliez\s+pas|"
    r"refusons|décidé|choisi|prévoyons|continuons|cessez|arrêtez|hésitez\s+pas)\s+d(?:e\s+|['\u2019]))"
)
# Nouns in -é that a determiner "le/la/les" (read as a pronoun above) can bring after such a verb: "là où va le
# résumé quotidien" is right.
_E_NOUNS = r"résumé|côté|marché|café|comité|congé|employé|député|degré|fossé|pâté|délégué|salarié"
_PRONOUNS = r"(?:(?:nous|vous|le|la|les|lui|leur|me|te|se|en|y)\s+|[lmts]['\u2019])*"
# Plural participles and adjectives that only "sont" can introduce: "son offerts", "son disponibles".
_PLURAL_STATE = (
    r"(?:" + _W + r"+(?:és|ées|ables|ibles)|offerts|offertes|partis|parties|ouverts|ouvertes|prêts|prêtes|"
    r"en\s+(?:cours|route|stock|rupture|attente|préparation|transit))\b"
)
FRENCH_MORE = [
    # "Votre commande à bien été expédiée": "à" right before "été" or "eu" is the verb "a".
    _rule("fr_a_verb", "fr",
          r"(?:^|(?<=[\s,;:]))(?P<w>à)\s+(?:(?:bien|déjà|également|toujours|pas|jamais|aussi)\s+)?(?:été|eu)\b", "a"),
    _rule("fr_a_verb_participle", "fr",
          r"\b(?:il|elle|on|" + _DET + r"\s*" + _W + r"+)\s+(?P<w>à)\s+(?:bien|déjà)\s+" + _W + r"+é(?:e|s|es)?\b",
          "a"),
    # "est partie est elle arrivera": "est" between a participle and a subject pronoun joins two clauses.
    _rule("fr_est_et", "fr",
          r"\best\s+" + _W + r"+(?:é|ée|és|ées|ie|i|is|u|ue)\s+(?P<w>est)\s+(?:il|elle|ils|elles|on|nous)\s+"
          + _W + r"{3,}", "et"),
    # "un échange où un remboursement ?", "par carte où par virement": "où" between two alternatives.
    _rule("fr_ou_choice", "fr", r"(?P<w>où)\s+(?:par|avec|sans|bien)\s", "ou"),
    _rule("fr_ou_choice_end", "fr",
          r"\b(?:un|une|des|le|la|les)\s+" + _W + r"+\s+(?P<w>où)\s+(?:un|une|des|le|la|les)\s+" + _W +
          r"+\s*(?:[?!.,]|$)", "ou"),
    # "Les articles commandés son disponibles", "Les frais de port son offerts".
    _rule("fr_son_sont_state", "fr",
          r"(?:^|(?<=[\s,;:]))(?P<w>son)\s+(?:(?:bien|déjà|tous|toutes|actuellement|encore|toujours|désormais|"
          r"maintenant)\s+)?" + _PLURAL_STATE, "sont"),
    # "Mathieu a transmis sont rapport": a participle after "avoir", then "sont" before a singular noun.
    _rule("fr_sont_son", "fr",
          r"\b(?:a|ai|as|avons|avez|ont|avait|avaient)\s+(?:(?:bien|déjà)\s+)?" + _W +
          r"+(?:é|i|is|it|u|ert|ait)\s+(?P<w>sont)\s+(?!(?:en|à|au|aux|bien|déjà|pas|très|toujours|encore|ici|là|"
          r"partout|tous|toutes|trop|plus|moins|si|aussi|donc|alors|ensuite|maintenant|désormais|actuellement|"
          r"parfois|elle|il|on|une)\b)" + _W + r"*[^\W\dsxe_]\b", "son"),
    # "Nous venons de procédé", "Vous pouvez modifié": an infinitive after a verb that takes one.
    _rule("fr_e_infinitive", "fr",
          r"\b" + _TAKES_INFINITIVE + _PRONOUNS + r"(?P<w>(?!(?:été|" + _E_NOUNS + r")\b)" + _W + r"{2,}é)\b", "er"),
    # "Ses jours-ci", "Ses modèles-ci": a demonstrative with -ci/-là is "ces".
    _rule("fr_ses_ces", "fr", r"(?:^|(?<=[\s,;:]))(?P<w>ses)\s+" + _W + r"+-(?:ci|là)\b", "ces"),
    # "retrouve ces propres factures": "propres" after a possessive.
    _rule("fr_ces_ses", "fr", r"(?:^|(?<=[\s,;:]))(?P<w>ces)\s+propres\b", "ses"),
    # "oublié ça carte": "ça" is a pronoun, never a determiner before a noun.
    _rule("fr_ca_sa", "fr",
          r"(?:^|(?<=[\s,;:]))(?P<w>ça)\s+(?:propre\s+)?(?:carte|commande|facture|livraison|demande|réclamation|"
          r"adresse|voiture|maison|fille|femme|mère|sœur|famille|boutique|réponse|question|fidélité|valise|"
          r"montre|tablette|console|machine|cafetière|bouilloire|boîte|caisse|place|part)\b", "sa"),
]

# Nouns a possessive goes with in replies: "you're order", "it's label", "they're account".
_POSSESSED = (r"(?:order|orders|account|package|parcel|refund|email|e-mail|phone|card|request|payment|feedback|"
              r"patience|details|address|item|items|booking|message|delivery|own|inbox|mailbox|receipt|invoice|"
              r"password|basket|cart|subscription|points|money|name|number)")
_COMPARATIVE = (r"(?:more|less|better|worse|rather|faster|slower|bigger|smaller|higher|lower|fewer|greater|other|"
                r"cheaper|longer|shorter|lighter|heavier|quicker|easier|harder|larger|newer|older|safer|simpler|"
                r"stronger|weaker|sooner|further|farther)")
ENGLISH_MORE = [
    _rule("en_youre_your_noun", "en", r"\b(?P<w>you['\u2019]re)\s+" + _POSSESSED + r"\b", "your"),
    _rule("en_your_youre_adjective", "en",
          r"\b(?P<w>your)\s+(?:happy|unhappy|satisfied|interested|eligible|able|unable|entitled|aware|"
          r"responsible|covered|registered|subscribed|signed\s+up|all\s+set|good\s+to\s+go)"
          r"(?=\s*(?:[,.!?;]|$)|\s+(?:with|to|for|about|that|and|now)\b)", "you're"),
    _rule("en_itis_its_noun", "en",
          r"\b(?P<w>it['\u2019]s)\s+(?:label|labels|settings|battery|screen|lid|handle|packaging|contents|warranty|"
          r"box|cable|charger|strap|sole|lining|zip|zipper|buttons|case|cover)\b", "its"),
    # "once its dispatched": "its" before a past participle that ends the clause.
    _rule("en_its_participle", "en",
          r"\b(?P<w>its)\s+(?!(?:\w*eed|red|bed|shed|hundred|sled)\b)\w{3,}ed\b"
          r"(?=\s*(?:[,.!?;]|$)|\s+(?:by|to|in|on|at|for|from|with|and|now|today|tomorrow|yesterday|already|soon)\b)",
          "it's"),
    _rule("en_there_theyre", "en",
          r"(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)(?<!\bwere\s)\b(?P<w>there)\s+(?:running|waiting|looking|getting|"
          r"leaving|arriving|asking|sending|calling|working|planning|hoping|busy|sorry|aware|ready|happy|late)\b",
          "they're"),
    _rule("en_their_theyre_adjective", "en",
          r"\b(?P<w>their)\s+(?:ready|sorry|aware|busy|happy|able|unable|late|here|closed|open)"
          r"(?=\s*(?:[,.!?;]|$)|\s+(?:to|for|with|about|and|now|today|at)\b)", "they're"),
    _rule("en_theyre_there", "en", r"\b(?P<w>they['\u2019]re)\s+(?:are|is|was|were)\b", "there"),
    _rule("en_then_than_more", "en",
          r"\b" + _COMPARATIVE + r"\s+(?P<w>then)\s+(?!(?:we|I|you)\b)", "than"),
    _rule("en_than_then_and", "en", r"(?:\band|^|(?<=[.!?]\s))\s*(?P<w>than)\s+(?!(?:ever|usual|expected)\b)\w",
          "then"),
    _rule("en_effect_affect", "en",
          r"\b(?:not|will|would|could|can|may|might|to|does|did|won['\u2019]t|doesn['\u2019]t|didn['\u2019]t|cannot|"
          r"shouldn['\u2019]t|should)\s+(?P<w>effect)\s+(?:your|the|our|my|his|her|their|its|all|any|this|that|"
          r"these|those|you|us|them|delivery|deliveries|orders?)\b", "affect"),
    _rule("en_affect_effect", "en",
          r"\b(?:(?:an?|the|no|any|positive|negative|big|great|significant|little|immediate|side|real|lasting)\s+"
          r"(?P<w>affect)\b(?!\s+(?:the|your|our|my|you|us|them|it)\b)|(?P<w2>affect)\s+on\b)", "effect"),
    _rule("en_loose_lose", "en",
          r"\b(?:not|never|won['\u2019]t|will|to|don['\u2019]t|didn['\u2019]t|could|might|may|can|cannot|can['\u2019]t|"
          r"would|shall)\s+(?P<w>loose)\b(?!\s+(?:fit|fitting)\b)", "lose"),
    _rule("en_lose_loose", "en",
          r"\b(?:came|come|comes|coming|broke|broken|shook|hang|hanging|got|gets|too|very|slightly|bit|worked)\s+"
          r"(?P<w>lose)\b(?=\s*(?:[,.!?;]|$)|\s+(?:after|from|and|in|on|during|again)\b)", "loose"),
    _rule("en_whos_whose", "en",
          r"\b(?P<w>who['\u2019]s)\s+(?:order|account|parcel|package|name|car|bag|phone|turn|fault|idea|job|card|"
          r"number|item|email|book|responsibility)\b", "whose"),
    _rule("en_except_accept", "en",
          r"\b(?:please|kindly|we|I|to|will|would|cannot|can['\u2019]t|don['\u2019]t|do\s+not|gladly)\s+"
          r"(?P<w>except)\s+(?:our|my|the|your|this|that|returns?|payments?|cards?|orders?|it|them|apologies|"
          r"cash|cheques?|checks?)\b", "accept"),
    _rule("en_weather_whether", "en",
          r"(?:^|(?<=[.!?]\s)|\b(?:know|ask|asking|see|check|decide|wonder|sure|matter|unsure|regardless\s+of)\s+)"
          r"(?P<w>weather)\s+(?:or\s+not|you|we|they|it|he|she|I|your|there)\b", "whether"),
    _rule("en_to_too", "en",
          r"\b(?:is|are|was|were|be|far|much|way|slightly|it['\u2019]s|that['\u2019]s|bit)\s+(?P<w>to)\s+"
          r"(?:large|big|small|long|short|late|early|heavy|expensive|cheap|many|high|low|slow|fast|busy|hot|cold|"
          r"full|old|young|difficult|hard|complicated|soon|far|tight|loose|narrow|wide)\b", "too"),
    _rule("en_where_were", "en", r"\b(?:we|they)\s+(?P<w>where)\b", "were"),
    _rule("en_past_passed", "en",
          r"\b(?:have|has|had|we['\u2019]ve|I['\u2019]ve|they['\u2019]ve|you['\u2019]ve)\s+(?:already\s+|now\s+)?"
          r"(?P<w>past)\s+(?:your|the|it|this|that|them|our|on|along)\b", "passed"),
    _rule("en_advice_advise", "en",
          r"\b(?:please|kindly|can\s+you|could\s+you|would\s+you|to|will|we|I)\s+(?P<w>advice)\s+"
          r"(?:us|me|you|them|him|her|on|whether|if|that)\b", "advise"),
    _rule("en_advise_advice", "en",
          r"\b(?:our|your|my|the|some|any|their|his|her|for|of|good|expert|professional|legal|medical|no|free)\s+"
          r"(?P<w>advise)\b", "advice"),
    _rule("en_principle_principal", "en",
          r"\b(?P<w>principle)\s+(?:reason|cause|concern|issue|aim|goal|objective|office|investor|source|sponsor|"
          r"residence|place|contact|amount|sum|balance|problem|factor|role|owner)\b", "principal"),
    _rule("en_here_hear", "en",
          r"\b(?:we|I|they|can|could|cannot|can['\u2019]t|couldn['\u2019]t|didn['\u2019]t)\s+(?P<w>here)\s+"
          r"(?:you|your|that|what|about|us|them|him|her)\b", "hear"),
]

RULES: tuple[Rule, ...] = (*FRENCH, *FRENCH_MORE, *ENGLISH, *ENGLISH_MORE)


def _replacement(rule: Rule, word: str) -> str:
    if rule.name == "fr_er_participle":  # "vérifier" -> "vérifié"
        return word[:-2] + "é"
    if rule.name == "fr_e_infinitive":  # "procédé" -> "procéder"
        return word[:-1] + "er"
    return rule.replacement


def _cased(replacement: str, word: str) -> str:
    return replacement[:1].upper() + replacement[1:] if word[:1].isupper() else replacement


def check_confusions(text: str, language: str) -> list[Finding]:
    """Real-word confusions in `text`, left to right, one finding per word to change."""
    found: dict[tuple[int, int], Finding] = {}
    for rule in RULES:
        if rule.language != language:
            continue
        for match in rule.pattern.finditer(text):
            group = "w" if match["w"] is not None else "w2"
            start, end = match.span(group)
            word = match[group]
            if word == "A" and rule.replacement == "à":
                continue  # "A bientôt": capitals often go unaccented in French; not worth an alarm
            replacement = _replacement(rule, word)
            found.setdefault((start, end), Finding(
                "grammar", start, end, word, (_cased(replacement, word),), {"rule": rule.name},
            ))
    return sorted(found.values(), key=lambda f: (f.start, f.end))
