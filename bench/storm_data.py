"""A deterministic storm: what a brand's bad day looks like to a monitoring tool, in French and English.

`storm(seed)` gives `copies` posts that are copies or near-copies of `stories` stories, mixed with `distinct`
posts that resemble nothing else, in arrival order. Each story spreads one way:

* retweet: "RT @someone: <the text>", sometimes with a hashtag or a link added;
* copy-paste: the text pasted by many accounts, with one small edit each (a word swapped for a synonym,
  one added, an emoji, a hashtag, an exclamation), as campaigns do;
* syndicated: the same article title on several sites, with the site's name and its own URL and author.

Story sizes are skewed (a few stories carry most of the storm). The distinct posts are built from three
independent fragments chosen so that no two of them share more than one fragment: they are different posts
for any reasonable grouping, and an honest check of "does the grouping merge what it should not".
Same seed, same storm.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# (language, kind, text). Routing keywords of the test protocol appear in some (résultats, procès, grève,
# earnings, lawsuit, strike...), so the cards spread over the team channels as a real storm would.
STORIES: tuple[tuple[str, str, str], ...] = (
    ("fr", "retweet", ("Armorine a encore facturé deux fois tous ses clients ce mois-ci, une honte, "
                      "personne ne répond au service client depuis trois jours")),
    ("en", "retweet", ("Armorine just double charged every customer this month and support has not "
                      "answered anyone for three days, absolutely disgusting")),
    ("fr", "copypaste", ("Je boycotte Armorine tant que les salariés de l'entrepôt de Lyon seront en grève "
                        "sans réponse de la direction, partagez")),
    ("en", "copypaste", ("I am done with Armorine until they stop the layoffs at the Leeds warehouse and "
                        "talk to the workers on strike, please share")),
    ("fr", "syndicated", "Armorine : les résultats du troisième trimestre inquiètent les marchés"),
    ("en", "syndicated", "Armorine shares slide after third quarter earnings miss forecasts"),
    ("fr", "retweet", ("Procès contre Armorine : des clients accusent l'entreprise d'avoir revendu leurs "
                      "données personnelles sans consentement")),
    ("en", "retweet", ("Lawsuit filed against Armorine over customer data sold to advertisers without "
                      "consent, GDPR complaint coming too")),
    ("fr", "copypaste", ("Mon colis Armorine est arrivé ouvert et vide, le livreur a signé à ma place, "
                        "qui a eu le même problème cette semaine")),
    ("en", "copypaste", ("My Armorine parcel arrived opened and empty and the courier signed for me, "
                        "anyone else had this happen this week")),
    ("fr", "syndicated", "Grève chez Armorine : les livraisons perturbées jusqu'à la fin de la semaine"),
    ("en", "syndicated", "Armorine warehouse strike disrupts deliveries across the north of England"),
    ("fr", "retweet", ("Le nouveau forfait Armorine coûte quinze euros de plus pour les mêmes services, "
                      "on se moque vraiment de nous")),
    ("en", "retweet", ("The new Armorine plan costs fifteen more a month for exactly the same service, "
                      "they really think we will not notice")),
    ("fr", "copypaste", ("Application Armorine en panne depuis ce matin, impossible de payer ni de suivre "
                        "une commande, vous comptez nous prévenir quand")),
    ("en", "copypaste", ("Armorine app has been down since this morning, cannot pay or track an order, "
                        "are you planning to tell us anything")),
    ("fr", "syndicated", "Armorine annonce un dividende exceptionnel malgré la baisse de ses ventes"),
    ("en", "syndicated", "Armorine chief executive under pressure after leaked memo on store closures"),
    ("fr", "retweet", ("Bravo à l'équipe Armorine de Nantes qui a retrouvé mon sac oublié en magasin et me "
                      "l'a rapporté le soir même")),
    ("en", "copypaste", ("Armorine customer service kept me on hold for two hours and then hung up on me, "
                        "never again")),
)

HANDLES = ("marie_l", "jdupont", "lea.b", "tom_h", "sarah.k", "ahmed_r", "claire_v", "nico_p", "julie.m", "ben_t",
           "emma_w", "lucas_d", "chloe_f", "hugo_g", "ines_s", "paul_c", "zoe_a", "max_r", "lina_b", "omar_k")
SITES = (("Le Monde", "lemonde.fr"), ("Les Échos", "lesechos.fr"), ("Le Figaro", "lefigaro.fr"),
         ("Ouest-France", "ouest-france.fr"), ("Reuters", "reuters.com"), ("BBC News", "bbc.co.uk"),
         ("The Guardian", "theguardian.com"), ("Bloomberg", "bloomberg.com"), ("MSN", "msn.com"),
         ("Yahoo Actualités", "fr.news.yahoo.com"), ("BFM Business", "bfmtv.com"), ("Financial Times", "ft.com"))
SYNONYMS = {
    "fr": {"encore": "une fois de plus", "honte": "honte absolue", "clients": "abonnés", "partagez": "faites tourner",
           "problème": "souci", "vraiment": "franchement", "impossible": "toujours impossible",
           "salariés": "employés", "données": "infos", "semaine": "semaine aussi"},
    "en": {"just": "literally", "disgusting": "shameful", "share": "retweet", "workers": "staff",
           "parcel": "package", "really": "honestly", "cannot": "still cannot", "anyone": "anybody",
           "never": "never ever", "week": "week too"},
}
EXTRAS = {"fr": ("😡", "!!", "#Armorine", "#scandale", "franchement", "encore une fois", "🤬", "..."),
          "en": ("😡", "!!", "#Armorine", "#fail", "seriously", "again", "🤬", "...")}

# The distinct posts: three fragments, each from its own pool of ten (per language).
FRAGMENTS = {
    "fr": (
        ("Question sur ma facture de novembre", "Petite remarque sur votre site", "Je cherche un conseiller",
         "Retour d'expérience après six mois", "Une idée pour votre magasin de Rennes", "Avis sur la carte fidélité",
         "Demande de partenariat pour notre festival", "Suggestion pour l'application mobile",
         "Remerciements à la boutique de Lille", "Curieux de vos résultats annuels"),
        ("le formulaire de contact renvoie une erreur", "la livraison express est arrivée un jour en avance",
         "les horaires affichés ne sont pas les bons", "le vendeur m'a très bien conseillé samedi",
         "le code promo ne passe pas au paiement", "la notice est uniquement en anglais",
         "votre podcast parle enfin de recyclage", "le parking du magasin est toujours plein",
         "le produit reconditionné fonctionne parfaitement", "votre offre étudiante mériterait d'être connue"),
        ("merci d'avance pour votre retour", "bonne journée à toute l'équipe", "je repasserai la semaine prochaine",
         "à transmettre au service concerné", "rien d'urgent mais à corriger", "vous pouvez me joindre par courriel",
         "je reste cliente malgré tout", "c'est dommage pour une si grande marque", "au plaisir de vous lire",
         "j'attends une proposition de votre part"),
    ),
    "en": (
        ("Quick question about my November bill", "Small note about your website", "Looking for an adviser",
         "Feedback after six months as a member", "An idea for your Bristol store", "Thoughts on the loyalty card",
         "Partnership request for our festival", "Suggestion for the mobile app", "Thanks to the Glasgow shop team",
         "Curious about your annual earnings call"),
        ("the contact form returns an error", "express delivery came a day early", "the opening hours shown are wrong",
         "the salesperson gave great advice on Saturday", "the promo code fails at checkout",
         "the manual is only in French", "your podcast finally covers recycling", "the store car park is always full",
         "the refurbished laptop works perfectly", "your student offer deserves more attention"),
        ("thanks in advance for getting back to me", "have a good day everyone", "I will drop by again next week",
         "please pass this on to the right team", "nothing urgent but worth fixing", "you can reach me by email",
         "still a customer despite all this", "a pity for such a big brand", "looking forward to your answer",
         "waiting for an offer from you"),
    ),
}


@dataclass(frozen=True)
class Post:
    external_id: str
    source: str
    url: str
    author: str
    text: str
    language: str
    reach: int
    offset: float  # seconds after the storm's start
    story: int | None  # index in STORIES, None for a distinct post

    def as_json(self, start: datetime) -> dict[str, object]:
        return {"source": self.source, "external_id": self.external_id, "url": self.url, "author": self.author,
                "text": self.text, "language": self.language, "reach": self.reach,
                "published_at": (start + timedelta(seconds=self.offset)).isoformat()}


def sizes(total: int, stories: int) -> list[int]:
    """`total` split over `stories` with a Zipf-like skew (weight 1/rank^0.8), each at least 5."""
    weights = [1 / (rank + 1) ** 0.8 for rank in range(stories)]
    raw = [max(5, int(total * w / sum(weights))) for w in weights]
    raw[0] += total - sum(raw)
    return raw


def _edit(rng: random.Random, lang: str, text: str) -> str:
    """One small edit, as people do when they paste a text."""
    words = text.split()
    kind = rng.randrange(4)
    if kind == 0:  # a synonym
        swappable = [i for i, w in enumerate(words) if w.strip(",.") in SYNONYMS[lang]]
        if swappable:
            i = rng.choice(swappable)
            words[i] = SYNONYMS[lang][words[i].strip(",.")]
            return " ".join(words)
    if kind == 1:  # a word inserted
        words.insert(rng.randrange(1, len(words)), rng.choice(EXTRAS[lang][4:6]))
        return " ".join(words)
    if kind == 2:  # a different ending
        return text + " " + rng.choice(EXTRAS[lang][:4])
    return text[0].lower() + text[1:] + rng.choice((" !", " !!!", "."))  # case and punctuation


def _story_post(rng: random.Random, n: int, story: int, copy: int) -> Post:
    lang, kind, text = STORIES[story]
    reach = int(min(2_000_000, rng.paretovariate(1.1) * 80))
    if kind == "retweet":
        handle = rng.choice(HANDLES) + str(rng.randrange(1000))
        original = HANDLES[story % len(HANDLES)]
        body = text if copy == 0 else f"RT @{original}: {text}"
        if copy and rng.random() < 0.2:
            body += rng.choice((" #Armorine", f" https://t.co/{rng.randrange(16**8):08x}"))
        return Post(f"storm-{n}", "x", f"https://x.com/{handle}/status/{1860000000 + n}", f"@{handle}", body,
                    lang, reach, 0.0, story)
    if kind == "copypaste":
        network = rng.choice(("facebook", "instagram", "x", "tiktok"))
        handle = rng.choice(HANDLES) + str(rng.randrange(1000))
        body = text if copy == 0 else _edit(rng, lang, text)
        return Post(f"storm-{n}", network, f"https://{network}.example/{handle}/posts/{n}", f"@{handle}", body,
                    lang, reach, 0.0, story)
    site, domain = SITES[rng.randrange(len(SITES))]
    slug = "-".join(text.lower().split()[:6]).replace(":", "").replace("'", "")
    body = text if copy == 0 else rng.choice((f"{text} - {site}", f"{site} : {text}", f"{text} | {site}", text))
    return Post(f"storm-{n}", "news", f"https://www.{domain}/{slug}-{n}.html", site, body, lang,
                reach * 10, 0.0, story)


def _distinct_posts(count: int) -> list[tuple[str, str]]:
    """(language, text) with no two sharing more than one fragment: (a, b, (a + 3b) mod 10) per language."""
    out = []
    for a in range(10):
        for b in range(10):
            lang = "fr" if (a + b) % 2 == 0 else "en"
            first, second, third = FRAGMENTS[lang]
            out.append((lang, f"{first[a]} : {second[b]}, {third[(a + 3 * b) % 10]}."))
    return out[:count]


def storm(seed: int = 2026, *, copies: int = 9_900, stories: int = 20, distinct: int = 100,
          duration: float = 60.0) -> list[Post]:
    """The storm's posts in arrival order, each with its offset in [0, duration)."""
    if stories > len(STORIES) or distinct > 100:
        raise ValueError(f"at most {len(STORIES)} stories and 100 distinct posts")
    rng = random.Random(seed)
    plan = [s for s, size in enumerate(sizes(copies, stories)) for _ in range(size)]
    rng.shuffle(plan)
    posts: list[Post] = []
    seen: dict[int, int] = {}  # copies of each story so far: the first post of a story is its original
    for n, s in enumerate(plan):
        posts.append(_story_post(rng, n, s, seen.get(s, 0)))
        seen[s] = seen.get(s, 0) + 1
    for k, (lang, body) in enumerate(_distinct_posts(distinct)):
        n = copies + k
        handle = rng.choice(HANDLES) + str(rng.randrange(1000))
        posts.insert(rng.randrange(len(posts) + 1),
                     Post(f"storm-{n}", rng.choice(("x", "facebook", "trustpilot")),
                          f"https://social.example/{handle}/{n}", f"@{handle}", body, lang,
                          int(rng.paretovariate(1.3) * 50), 0.0, None))
    step = duration / len(posts)
    return [Post(p.external_id, p.source, p.url, p.author, p.text, p.language, p.reach, i * step, p.story)
            for i, p in enumerate(posts)]
