"""The homophone and real-word confusion rules added for issue 13's 75 % target (bot/domain/grammar.py,
FRENCH_MORE and ENGLISH_MORE): each catches its confusion with the fix, and stays silent on the correct
sentence beside it and on the clean text the project itself writes (its message catalogues)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.grammar import check_confusions

ROOT = Path(__file__).resolve().parents[2]

# (language, text, the word flagged, its fix, the corrected sentence which must pass)
PAIRS = [
    ("fr", "Votre commande à bien été expédiée.", "à", "a", "Votre commande a bien été expédiée."),
    ("fr", "Le conseiller à bien noté votre adresse.", "à", "a", "Le conseiller a bien noté votre adresse."),
    ("fr", "La commande est partie est elle arrivera jeudi.", "est", "et",
     "La commande est partie et elle arrivera jeudi."),
    ("fr", "Pouvez-vous nous indiquer ou vous l'avez acheté ?", "ou", "où",
     "Pouvez-vous nous indiquer où vous l'avez acheté ?"),
    ("fr", "Savez-vous ou se trouve le ticket ?", "ou", "où", "Savez-vous où se trouve le ticket ?"),
    ("fr", "Vous pouvez payer par carte où par chèque.", "où", "ou", "Vous pouvez payer par carte ou par chèque."),
    ("fr", "Voulez-vous un avoir où un échange ?", "où", "ou", "Voulez-vous un avoir ou un échange ?"),
    ("fr", "Les modèles exposés son disponibles.", "son", "sont", "Les modèles exposés sont disponibles."),
    ("fr", "Les frais son offerts.", "son", "sont", "Les frais sont offerts."),
    ("fr", "Le technicien a terminé sont rapport.", "sont", "son", "Le technicien a terminé son rapport."),
    ("fr", "Nous venons de procédé au virement.", "procédé", "procéder", "Nous venons de procéder au virement."),
    ("fr", "Nous allons vous envoyé un bon.", "envoyé", "envoyer", "Nous allons vous envoyer un bon."),
    ("fr", "Votre colis a été livrer hier.", "livrer", "livré", "Votre colis a été livré hier."),
    ("fr", "Ses jours-ci, tout est plus lent.", "Ses", "Ces", "Ces jours-ci, tout est plus lent."),
    ("fr", "Chacun retrouve ces propres achats.", "ces", "ses", "Chacun retrouve ses propres achats."),
    ("fr", "Il a oublié ça carte.", "ça", "sa", "Il a oublié sa carte."),
    ("en", "Please check you're inbox.", "you're", "your", "Please check your inbox."),
    ("en", "If your happy with it, keep it.", "your", "you're", "If you're happy with it, keep it."),
    ("en", "The box is missing it's label.", "it's", "its", "The box is missing its label."),
    ("en", "We will call once its dispatched.", "its", "it's", "We will call once it's dispatched."),
    ("en", "They said there running late.", "there", "they're", "They said they're running late."),
    ("en", "Their ready for collection.", "Their", "They're", "They're ready for collection."),
    ("en", "They're are two options.", "They're", "There", "There are two options."),
    ("en", "It is lighter then the old one.", "then", "than", "It is lighter than the old one."),
    ("en", "Sign in and than open your orders.", "than", "then", "Sign in and then open your orders."),
    ("en", "The delay will not effect your refund.", "effect", "affect", "The delay will not affect your refund."),
    ("en", "It had a positive affect on sales.", "affect", "effect", "It had a positive effect on sales."),
    ("en", "You won't loose your points.", "loose", "lose", "You won't lose your points."),
    ("en", "The strap came lose after a week.", "lose", "loose", "The strap came loose after a week."),
    ("en", "Who's order is this?", "Who's", "Whose", "Whose order is this?"),
    ("en", "Please except our apologies.", "except", "accept", "Please accept our apologies."),
    ("en", "Weather you keep it or not, it is free.", "Weather", "Whether", "Whether you keep it or not, it is free."),
    ("en", "The parcel is to large.", "to", "too", "The parcel is too large."),
    ("en", "Sorry, we where not aware.", "where", "were", "Sorry, we were not aware."),
    ("en", "We have past your note to the team.", "past", "passed", "We have passed your note to the team."),
    ("en", "Please advice us of a time.", "advice", "advise", "Please advise us of a time."),
    ("en", "Our advise is to wait.", "advise", "advice", "Our advice is to wait."),
    ("en", "The principle reason is the strike.", "principle", "principal", "The principal reason is the strike."),
    ("en", "We here you.", "here", "hear", "We hear you."),
]

# Sentences that use the same words rightly, next to what the rules look for.
NEAR_MISSES = [
    ("fr", "Vous recevrez un e-mail dès que le remboursement sera validé."),  # "va" inside "validé"
    ("fr", "Le jour où un client appelle, nous répondons."),
    ("fr", "Son colis est parti hier."),
    ("fr", "Les documents qu'il a transmis sont arrivés."),
    ("fr", "Nous avons bien reçu votre message et sommes à votre écoute."),
    ("fr", "Il faut compter un peu de temps, ça arrive."),
    ("fr", "C'est à bien des égards une bonne nouvelle."),
    ("fr", "Le procédé de fabrication est breveté."),
    ("fr", "Le résumé part là où va le résumé quotidien de l'équipe."),  # "le" a determiner, not a pronoun
    ("en", "The item is lost, and its limited edition sticker too."),
    ("en", "Is there anything else? There being no fee, it is free."),
    ("en", "Their booking is confirmed and their ready meals are packed."),
    ("en", "We will call you later, then we will refund you."),
    ("en", "The weather is bad today."),
    ("en", "Every item except the lamp has shipped."),
    ("en", "We here at Acme are sorry."),
    ("en", "The loose fit is on purpose; you may lose the tag."),
    ("en", "It's delivery day, and its driver is on the way."),
    ("en", "We are able to effect change quickly."),
]


@pytest.mark.parametrize(("language", "text", "word", "fix", "fixed"), PAIRS, ids=lambda v: str(v)[:30])
def test_each_new_rule_catches_its_confusion_and_passes_the_fix(language, text, word, fix, fixed) -> None:  # type: ignore[no-untyped-def]
    found = check_confusions(text, language)
    assert [(text[f.start:f.end], f.suggestions) for f in found] == [(word, (fix,))]
    assert check_confusions(fixed, language) == []


@pytest.mark.parametrize(("language", "text"), NEAR_MISSES, ids=lambda v: str(v)[:30])
def test_the_same_words_used_rightly_pass(language: str, text: str) -> None:
    assert check_confusions(text, language) == []


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_projects_own_messages_raise_no_confusion(language: str) -> None:
    """Hundreds of sentences the project wrote (and reviewed) for its users: a rule that fires on one of them
    would fire on a company's replies."""
    catalogue = (ROOT / "bot" / "i18n" / language / "LC_MESSAGES" / "vigie.po").read_text("utf-8")
    messages = [m for m in re.findall(r'^msgstr "(.+)"$', catalogue, re.MULTILINE)]
    assert len(messages) > 500
    flagged = [(m, f.text) for m in messages for f in check_confusions(m, language)]
    assert flagged == []
