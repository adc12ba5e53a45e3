"""French misspellings from a public list, in customer-service sentences (issue 13, item 7).

The word pairs (misspelt → right) are those of the French Wikipedia article « Faute d'orthographe », section
« Quelques fautes courantes » (https://fr.wikipedia.org/wiki/Faute_d%27orthographe), by Wikipedia contributors,
CC BY-SA 4.0: anglicisms ("connection", "addresse") and doubled or missing consonants ("ammener",
"apartement"), plus its two homophone confusions that fit a reply (ce/se, ça/sa). The sentences around them
are the project's; the rows of this file are shared under CC BY-SA 4.0 (SOURCES.md). Written after the checks
they score and never used to tune them. Each error row is written `{wrong|right}` and its corrected form is
also a clean row, so a checker flagging the right word counts as a false alarm.

`python -m bench.corpus.wikipedia_fr` writes typos_fr_wikipedia.jsonl beside this file.
"""

from __future__ import annotations

import json

from bench.corpus.heldout import HERE, rows

SOURCE = ("word pair from French Wikipedia, « Faute d'orthographe » (CC BY-SA 4.0); sentence written by the "
          "project")

TYPOS = [
    "Votre billet reste valable sur un autre vol de la même {companie|compagnie}.",
    "Un problème de {connection|connexion} empêche l'application de se mettre à jour.",
    "Vous trouverez le bon de retour dans votre {correspondence|correspondance} avec nos services.",
    "Le {default|défaut} de fabrication est couvert par la garantie.",
    "Par {example|exemple}, vous pouvez changer l'adresse de livraison depuis votre compte.",
    "Nous avons revu le {language|langage} de nos courriers pour qu'ils soient plus clairs.",
    "La {license|licence} du logiciel est renouvelée automatiquement chaque année.",
    "Le technicien passera dans votre {apartement|appartement} jeudi matin.",
    "Le compte doit {apartenir|appartenir} au titulaire de la carte.",
    "Glissez le formulaire dans l'{envelope|enveloppe} prépayée jointe au colis.",
    "L'{abbréviation|abréviation} « réf. » désigne la référence de votre commande.",
    "Merci de vérifier l'{addresse|adresse} indiquée sur votre commande.",
    "Nous ne tolérons aucune {aggression|agression} envers nos conseillers.",
    "Vous pouvez {ammener|amener} l'appareil dans n'importe quel magasin.",
    "Vous pouvez {appercevoir|apercevoir} le numéro de série sous la batterie.",
    "Inutile de {courrir|courir} en magasin, l'échange se fait en ligne.",
    "Le {baggage|bagage} en soute est inclus dans votre tarif.",
    "La boutique de la {gallerie|galerie} marchande ouvre à 10 heures.",
    "Le {traffic|trafic} est interrompu sur la ligne jusqu'à 18 heures.",
    "Le remboursement en est le {corolaire|corollaire} : il suit automatiquement l'annulation.",
    "Le cours de {dance|danse} de samedi est reporté à la semaine prochaine.",
    "Nous vous souhaitons un beau {marriage|mariage} et une bonne lune de miel.",
    "La peluche {giraffe|girafe} est de nouveau en stock.",
    "L'{aggrégation|agrégation} des commandes se fait chaque nuit.",
]
HOMOPHONES = [
    "Le livreur {ce|se} présentera entre 9 et 12 heures.",
    "Votre colis {ce|se} trouve au point relais depuis lundi.",
    "Le conseiller {ce|se} charge de votre dossier.",
    "{Sa|Ça} ne devrait pas arriver, nous sommes désolés.",
    "Votre fille a oublié {ça|sa} carte de fidélité en caisse.",
    "Nous comprenons que {sa|ça} soit frustrant.",
]


def all_rows() -> list[dict]:
    out = []
    for error_class, marked in (("typo", TYPOS), ("homophone", HOMOPHONES)):
        for row in rows("fr", marked, [], error_class):
            if row["class"] == "clean":
                row["id"] = row["id"].replace("fr-heldout-clean", f"fr-wikipedia-{error_class}-clean")
            else:
                row["id"] = row["id"].replace("fr-heldout", "fr-wikipedia")
            row["source"] = SOURCE
            out.append(row)
    return out


def main() -> None:
    with open(HERE / "typos_fr_wikipedia.jsonl", "w", encoding="utf-8") as fh:
        for row in all_rows():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
