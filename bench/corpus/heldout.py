"""Held-out sentences for the real-word confusion rules (issue 13): written before the rules of commit
"grammar: high-precision homophone and confusion rules" and never used to tune them.

`python -m bench.corpus.heldout` writes heldout_fr.jsonl and heldout_en.jsonl beside this file, in the schema of
checks_fr.jsonl (see SOURCES.md). Each error row is written `{wrong|right}`; its corrected form is a clean row
(a minimal pair), and the clean rows below use the same words correctly. Written by the project (MIT).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).parent
SOURCE = "written by the project (held out: written before the rules it scores)"

FR_ERRORS = [
    "Le colis {et|est} arrivé au point relais hier soir.",
    "Votre avoir {et|est} valable un an.",
    "La commande {et|est} annulée, le remboursement suivra.",
    "La livraison {a|à} domicile est gratuite dès 30 euros.",
    "Nous sommes {a|à} votre écoute du lundi au vendredi.",
    "Votre demande {à|a} été transmise au service technique.",
    "Le conseiller {à|a} bien noté votre nouvelle adresse.",
    "Indiquez-nous {ou|où} vous souhaitez être livré.",
    "Le point relais {ou|où} vous avez déposé le colis est fermé.",
    "Préférez-vous un avoir {où|ou} un remboursement ?",
    "Nos livreurs {on|ont} été informés du problème.",
    "Les techniciens {on|ont} réparé la machine.",
    "{Ont|On} vous rappelle dans la journée.",
    "Vos colis {son|sont} bien partis ce matin.",
    "Les magasins {son|sont} fermés le dimanche.",
    "Nous allons {traité|traiter} votre dossier demain.",
    "Vous devez {validé|valider} votre commande avant midi.",
    "Nous avons {rembourser|remboursé} votre commande hier.",
    "Je vous ai {envoyer|envoyé} le lien de suivi.",
    "Le colis {c'est|s'est} perdu pendant le transport.",
    "Elle {c'est|s'est} engagée à vous rappeler.",
    "{S'est|C'est} normal, le délai est de trois jours.",
    "{Ses|Ces} derniers jours, les livraisons ont pris du retard.",
    "Votre colis {peu|peut} arriver dès demain.",
]
FR_CLEAN = [
    "Votre colis et votre facture arrivent demain.",
    "Vous pouvez choisir la livraison ou le retrait en magasin.",
    "On a bien reçu votre message.",
    "Son colis est parti hier et il arrive jeudi.",
    "Ses commandes sont arrivées ce matin.",
    "Il a fallu changer la pièce défectueuse.",
    "Nous devons vérifier votre adresse avant l'envoi.",
    "Le livreur est passé et a laissé un avis de passage.",
    "C'est noté, merci pour votre patience.",
    "Il s'est rendu au magasin samedi.",
    "Ces articles sont en promotion jusqu'à dimanche.",
    "Il reste peu de stock sur ce modèle.",
    "Nous avons reçu votre colis et nous vous remboursons.",
    "Où souhaitez-vous être livré ?",
    "Vous avez le choix : un avoir ou un remboursement.",
    "Elle a envoyé le document à notre service client.",
    "Ils ont pensé à tout, et on les en remercie.",
]
EN_ERRORS = [
    "{Your|You're} not charged for the return.",
    "If {your|you're} happy with the product, leave a review.",
    "{You're|Your} order will ship tomorrow.",
    "Thank you for {you're|your} patience.",
    "{Its|It's} not possible to change the date now.",
    "The app updates {it's|its} settings automatically.",
    "{Their|There} are no fees for returns.",
    "Customers love {there|their} new phones.",
    "We know {their|they're} waiting for an answer.",
    "{Their|They're} going to call you tomorrow.",
    "You might {of|have} seen the notice.",
    "It takes longer {then|than} usual.",
    "This is more expensive {then|than} expected.",
    "Don't {loose|lose} your receipt.",
    "The new policy will {effect|affect} all orders.",
    "This had no {affect|effect} on your account.",
    "{Weather|Whether} or not you keep it, we refund you.",
    "We {except|accept} returns within 30 days.",
    "It is {to|too} late to cancel the order.",
    "{Who's|Whose} account is it?",
    "Can you {advice|advise} me on the best plan?",
]
EN_CLEAN = [
    "Your order is on its way.",
    "You're welcome, have a nice day.",
    "It's here, at the front desk.",
    "Its battery lasts two days.",
    "There is no fee for this.",
    "Their order arrived this morning.",
    "They're at the store now.",
    "We could have done better.",
    "Better than ever, and then some.",
    "Then we will call you back.",
    "The lid is loose, so we will replace it.",
    "The effect was immediate.",
    "This will affect delivery times.",
    "The weather is bad, so deliveries are late.",
    "Every item except the lamp has shipped.",
    "We accept your apologies, no harm done.",
    "Me too, I prefer the blue one.",
    "Whose order is it, yours or your partner's?",
    "Who's calling, please?",
    "Our advice is to restart the app.",
    "We advise you to wait a day.",
    "Go to the store with your receipt.",
]
_MARK = re.compile(r"\{([^|{}]+)\|([^|{}]+)\}")


def rows(lang: str, errors: list[str], clean: list[str], error_class: str) -> list[dict]:
    out: list[dict] = []
    for n, marked in enumerate(errors, 1):
        match = _MARK.search(marked)
        assert match is not None, marked
        text = marked[:match.start()] + match[1] + marked[match.end():]
        out.append({"id": f"{lang}-heldout-{error_class}-{n:03d}", "text": text, "lang": lang, "class": error_class,
                    "errors": [{"start": match.start(), "end": match.start() + len(match[1]), "wrong": match[1],
                                "right": match[2]}], "source": SOURCE})
    fixed = [_MARK.sub(lambda m: m[2], marked) for marked in errors]
    for n, text in enumerate([*fixed, *clean], 1):
        out.append({"id": f"{lang}-heldout-clean-{n:03d}", "text": text, "lang": lang, "class": "clean", "errors": [],
                    "source": SOURCE})
    return out


def main() -> None:
    for lang, errors, clean, error_class in (("fr", FR_ERRORS, FR_CLEAN, "homophone"),
                                             ("en", EN_ERRORS, EN_CLEAN, "confusion")):
        with open(HERE / f"heldout_{lang}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows(lang, errors, clean, error_class):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
