"""`vigie preview [--lang fr|en] -o DIR`: an HTML gallery of what Vigie sends to Slack, drawn from the real code.

Nothing here copies a view: a throwaway Vigie (a temporary SQLite file, the shipped example protocol in the chosen
language, a clock set to a Tuesday morning) plays a day of sample mentions through the real use cases (intake,
claim, drafts, reviews, publishing, deadlines, crisis, /vigie, Home, digest), and its real outbox worker delivers
every message to a recording stand-in for Slack's Web API on 127.0.0.1. Each payload Slack would receive
(chat.postMessage, chat.update, chat.postEphemeral, views.open, views.publish...) becomes a picture; modals come
from the same `prepare` the buttons call. When the views change, the gallery changes with them.

`Gallery.views` is what tests check (Slack's limits, no raw catalogue key); a step that fails is kept as
`Gallery.failures` and shown, never hidden.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

import typer

from bot.cli import blockkit_html as kit
from bot.cli.common import _fail, _language, app, err, out
from bot.i18n import t

SURFACES = {"chat.postMessage": "message", "chat.update": "message", "chat.postEphemeral": "ephemeral",
            "views.open": "modal", "views.push": "modal", "views.update": "modal", "views.publish": "home"}


@dataclass
class View:
    step: str  # the scenario's step, in words
    surface: str  # message, ephemeral, modal, home
    method: str  # the Web API method it went through (or "prepare" for a modal shown by a button)
    payload: dict[str, Any]  # the arguments Slack would receive (a message) or the view object (modal, home)
    where: str = ""  # channel, user or thread

    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.payload.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


@dataclass
class Gallery:
    lang: str
    views: list[View] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, error)
    images: dict[str, bytes] = field(default_factory=dict)  # uploaded files (the digest's chart), by name
    ended: datetime | None = None  # the sample day's clock at its end: "3 hours ago" is counted from there


# --- a recording stand-in for Slack's Web API ------------------------------------------------------------------

class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, lang: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lang = lang
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.counter = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def next_ts(self) -> str:
        with self.lock:
            self.counter += 1
            return f"1796000000.{self.counter:06d}"


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.do_POST()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.startswith("/upload/"):
            self.server.uploads[self.path.rsplit("/", 1)[1]] = raw
            return self._send(b"OK", "text/plain")
        method = self.path.split("?")[0].rsplit("/", 1)[1]
        args = _arguments(raw, self.headers.get("Content-Type") or "", self.path)
        with self.server.lock:
            self.server.calls.append((method, args))
        self._send(json.dumps(self._answer(method, args)).encode(), "application/json")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        channel = str(args.get("channel") or "C0PREVIEW1")
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = str(args.get("ts") or self.server.next_ts())
            return ok | {"channel": channel, "ts": ts, "message_ts": ts, "message": {"ts": ts, "text": args.get("text")}}
        if method == "users.info":
            locale = "fr-FR" if self.server.lang == "fr" else "en-US"
            user = str(args.get("user") or "U0")
            return ok | {"user": {"id": user, "name": user.lower(), "locale": locale, "tz": "Europe/Paris",
                                  "profile": {"display_name": user, "real_name": user}}}
        if method == "conversations.create":
            return ok | {"channel": {"id": "C0CRISIS01", "name": args.get("name")}}
        if method == "chat.getPermalink":
            return ok | {"permalink": f"https://example.slack.com/archives/{channel}/p{str(args.get('message_ts', '1')).replace('.', '')}"}
        if method == "files.getUploadURLExternal":
            name = str(args.get("filename") or "file")
            return ok | {"upload_url": f"http://127.0.0.1:{self.server.server_address[1]}/upload/{name}",
                         "file_id": f"F0{len(self.server.uploads):05d}"}
        if method == "files.completeUploadExternal":
            return ok | {"files": [{"id": f["id"]} for f in _maybe_json(args.get("files")) or []]}
        if method in ("conversations.history", "conversations.replies"):
            return ok | {"messages": [], "has_more": False}
        if method == "auth.test":
            return ok | {"user_id": "U0VIGIE001", "bot_id": "B0VIGIE001", "team_id": "T0PREVIEW1", "user": "vigie"}
        if method == "views.publish" or method.startswith("views."):
            return ok | {"view": {"id": "V0PREVIEW1"}}
        return ok


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _arguments(raw: bytes, kind: str, path: str) -> dict[str, Any]:
    if "json" in kind:
        return json.loads(raw or b"{}")
    query = path.split("?", 1)[1] if "?" in path else ""
    form = parse_qs(raw.decode("utf-8", "replace") + ("&" + query if query else ""))
    return {key: _maybe_json(values[-1]) for key, values in form.items()}


# --- the day played ------------------------------------------------------------------------------------------

CM, CM2, FIN_LEAD, FIN_EXPERT, LEG_LEAD, DM, STRANGER = (
    "U0CM00001", "U0CM00002", "U0FIN0001", "U0FIN0002", "U0LEG0001", "U0DM00001", "U0NOROLE1")
START = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # a Tuesday, 9:30 in Paris
ZONE = "Europe/Paris"  # the example protocol's, and so its readers'


@contextmanager
def _vigie(lang: str, folder: Path) -> Iterator[tuple[Any, _Recorder]]:
    """A throwaway Vigie on a temporary SQLite file and the example protocol in `lang`, its Slack the recorder."""
    from bot.app import build_runtime
    from bot.clock import ManualClock
    from bot.config import Settings
    from bot.protocol.load import EXAMPLE_PROTOCOL

    text = EXAMPLE_PROTOCOL.read_text("utf-8").replace("\nlanguage: fr\n", f"\nlanguage: {lang}\n", 1)
    (folder / "protocol.yaml").write_text(text, "utf-8")
    for extra in EXAMPLE_PROTOCOL.parent.glob("*.csv"):  # the roster it names, beside it
        shutil.copy(extra, folder / extra.name)
    recorder = _Recorder(lang)
    threading.Thread(target=recorder.serve_forever, daemon=True, name="vigie-preview-slack").start()
    settings = Settings(_env_file=None, SLACK_API_URL=recorder.url,  # type: ignore[call-arg]
                        DATABASE_URL=f"sqlite:///{folder / 'preview.db'}",
                        VIGIE_PROTOCOL_FILE=str(folder / "protocol.yaml"), VIGIE_CHANNEL_INTERVAL=0.0,
                        VIGIE_RUN_SCHEDULER=False)
    runtime = build_runtime(settings, clock=ManualClock(START))
    try:
        yield runtime, recorder
    finally:
        recorder.shutdown()
        recorder.server_close()
        runtime.engine.dispose()


class _Play:
    """Runs the steps; every Slack call the outbox makes during a step is filed under that step."""

    def __init__(self, runtime: Any, recorder: _Recorder, gallery: Gallery):
        self.rt, self.rec, self.gallery = runtime, recorder, gallery
        self.lang = gallery.lang

    def step(self, key: str, action: Callable[[], Any], **params: Any) -> Any:
        label = t(f"preview.step.{key}", self.lang, **params)
        try:
            result = action()
        except Exception as exc:  # shown in the gallery and failed by its test, never hidden
            self.gallery.failures.append((label, f"{type(exc).__name__}: {exc}"[:300]))
            result = None
        self.deliver(label)
        return result

    def deliver(self, label: str) -> None:
        for _ in range(50):
            if not self.rt.worker.run_once():
                break
        with self.rec.lock:
            calls, self.rec.calls = self.rec.calls, []
        for method, args in calls:
            surface = SURFACES.get(method)
            if surface is None:
                continue
            payload = args.get("view") if surface in ("modal", "home") else args
            payload = _maybe_json(payload)
            where = str(args.get("user_id") or args.get("user") or args.get("channel") or "")
            if args.get("thread_ts"):
                where += " · " + t("preview.in_thread", self.lang)
            self.gallery.views.append(View(label, surface, method, payload, where))

    def answer(self, label_key: str, outcome: Any, *, user: str, channel: str, **params: Any) -> None:
        """What a click answers (an Outcome), sent the way the handlers send it: an ephemeral to the person."""
        message = getattr(outcome, "message", None) or getattr(outcome, "text", None)  # an Outcome, or a Declared
        if outcome is not None and message and not getattr(outcome, "told", False):
            self.step(label_key, lambda: self.rt.vigie.tell_user(channel=channel, user=user, text=message), **params)
        else:  # already queued by the use case itself (or nothing to say): what it queued is this step's
            self.deliver(t(f"preview.step.{label_key}", self.lang, **params))

    def modal(self, what: str, *, actor: str, target: int) -> None:
        label = t("preview.step.modal", self.lang, what=t(f"preview.modal.{what}", self.lang))
        try:
            view = self.rt.modals.prepare(what, actor=actor, target=target)
        except Exception as exc:
            self.gallery.failures.append((label, f"{type(exc).__name__}: {exc}"[:300]))
            return
        if isinstance(view, dict):
            self.gallery.views.append(View(label, "modal", "views.open", view, f"<@{actor}>"))
        elif getattr(view, "message", None) and not getattr(view, "told", False):
            self.rt.vigie.tell_user(channel="C0PREVIEW1", user=actor, text=view.message)
        self.deliver(label)


def _mention(external_id: str, text: str, *, source: str = "x", author: str = "@lecteur", reach: int | None = None,
             language: str | None = None, minutes_ago: int = 5) -> Any:
    from bot.intake.schema import MentionIn

    return MentionIn(source=source, external_id=external_id, url=f"https://x.example/status/{external_id}",
                     author=author, text=text, published_at=START - timedelta(minutes=minutes_ago), reach=reach,
                     language=language)


def _current_draft(runtime: Any, mention_id: int) -> int | None:
    from sqlmodel import Session, select

    from bot.store.models import Draft

    with Session(runtime.engine) as s:
        rows = s.exec(select(Draft).where(Draft.mention_id == mention_id).order_by(Draft.version.desc())).all()  # type: ignore[attr-defined]
        return rows[0].id if rows else None


def play(lang: str, folder: Path) -> Gallery:
    """The sample day, in `lang`: every view it sends, in order."""
    gallery = Gallery(lang)
    with _vigie(lang, folder) as (rt, rec):
        p = _Play(rt, rec, gallery)
        w, clock = rt.workflow, rt.clock
        ids: dict[str, int] = {}

        def ingest() -> None:
            results = rt.vigie.ingest([
                _mention("fin-1", "Les résultats du T3 2026 d'Armorine sont décevants, je suis déçu, honteux pour les "
                         "actionnaires. Remboursement ?", reach=42_000, author="@investisseur_breton"),
                _mention("leg-1", "Nous avons envoyé une mise en demeure à Biscuiterie Armorine pour contrefaçon de "
                         "notre recette.", source="linkedin", reach=3_500, author="Maison Kerlann"),
                _mention("gen-1", "Super les nouveaux palets bretons d'Armorine, bravo à l'équipe !", source="instagram",
                         reach=800, author="@gourmande29"),
                _mention("hr-1", "Encore une grève à l'usine Armorine de Quimper, salaire bloqué depuis deux ans.",
                         source="glassdoor", reach=150, author="Ancien salarié"),
                _mention("crisis-1", "Intoxication alimentaire après des galettes Armorine, boycott ! #rappelconso",
                         reach=250_000, author="@alerte_conso"),
            ], actor="preview")
            for key, result in zip(("fin", "leg", "gen", "hr", "crisis"), results, strict=True):
                ids[key] = result.id
            copies = rt.vigie.ingest([_mention(f"storm-{i}", f"RT @alerte_conso Intoxication alimentaire après des "
                                               f"galettes Armorine, boycott ! #rappelconso {i}", author=f"@relais{i}",
                                               reach=300) for i in range(1, 4)], actor="preview")
            ids["story"] = next((r.story for r in copies if r.story), 0)

        p.step("intake", ingest)
        p.step("signals", rt.crisis.detect)  # the crisis words just seen: proposed to the people who may declare
        channel = "C0PREVIEW1"
        p.step("flag", lambda: rt.vigie.flag_message(
            channel="C0GENERAL1", message_ts="1795998000.000100", text="Un client nous signale un paquet mal scellé "
            "acheté à Brest, photo à l'appui.", author_id="U0SALES01", author_name="Yann", team_domain="armorine",
            flagged_by=CM))
        if ids["story"]:
            p.step("story", lambda: rt.vigie.list_story_members(ids["story"], asked_by=CM))
        statement = rt.protocol.holding_statements[0].key if rt.protocol.holding_statements else ""
        p.answer("holding", w.holding_statement(mention_id=ids["crisis"], actor=CM, key=statement), user=CM,
                 channel=channel)
        p.answer("claim", w.claim(mention_id=ids["fin"], actor=FIN_LEAD, reply_in=channel), user=FIN_LEAD,
                 channel=channel)
        p.answer("refused", w.claim(mention_id=ids["fin"], actor=STRANGER, reply_in=channel), user=STRANGER,
                 channel=channel)
        for what, actor, key in (("draft", FIN_LEAD, "fin"), ("reroute", CM, "gen"), ("assign", CM, "gen"),
                                 ("dismiss", CM, "gen"), ("holding", CM, "crisis")):
            p.modal(what, actor=actor, target=ids[key])
        clock.advance(minutes=20)
        p.answer("draft", w.submit_draft(
            mention_id=ids["fin"], actor=FIN_LEAD, network="x", language="fr", label="public",
            text="Bonjour, nous comprenons votre deception. Nos résultats détaillés sont en ligne, contactez "
                 "investisseurs@armorine.example ou le 02 98 00 00 00."), user=FIN_LEAD, channel=channel)
        draft = _current_draft(rt, ids["fin"]) or 0
        p.modal("request_changes", actor=CM, target=draft)
        p.answer("request_changes", w.review(draft_id=draft, actor=CM, kind="request_changes",
                                             comment="Retirez le numéro de téléphone."), user=CM, channel=channel)
        clock.advance(minutes=10)
        p.answer("draft_again", w.submit_draft(
            mention_id=ids["fin"], actor=FIN_LEAD, network="x", language="fr", label="public",
            text="Bonjour, nous comprenons votre déception. Nos résultats détaillés sont en ligne sur notre site."),
            user=FIN_LEAD, channel=channel)
        draft = _current_draft(rt, ids["fin"]) or 0
        p.answer("approve", w.review(draft_id=draft, actor=FIN_EXPERT, kind="approve"), user=FIN_EXPERT,
                 channel=channel)
        p.answer("approve", w.review(draft_id=draft, actor=CM, kind="approve"), user=CM, channel=channel)
        p.modal("publish", actor=CM, target=draft)
        p.answer("publish", w.mark_published(draft_id=draft, actor=CM, url="https://x.example/status/999"),
                 user=CM, channel=channel)
        p.answer("dismiss", w.dismiss(mention_id=ids["gen"], actor=CM, reason="Avis positif, rien à répondre."),
                 user=CM, channel=channel)
        p.answer("reroute", w.reroute(mention_id=ids["hr"], actor=CM, team="legal"), user=CM, channel=channel)
        p.answer("assign", w.assign(mention_id=ids["leg"], actor=CM, assignee=LEG_LEAD), user=CM, channel=channel)
        for hours in (2, 6, 30):  # the deadlines' ladder: reminders, then late notices and direct messages
            clock.set(START + timedelta(hours=hours))
            p.step("sweep", rt.escalation.sweep, hours=hours)
        p.step("escalate", lambda: rt.escalation.escalate_now(mention_id=ids["leg"], by=CM, reason="Menace de procès"))
        declared = p.step("declare", lambda: rt.crisis.declare(by=CM, reason="Intoxication signalée", lang=lang))
        if declared is not None:
            p.answer("declare", declared, user=CM, channel=channel)
        if declared is not None and declared.crisis_id:
            said = p.step("room", lambda: rt.crisis.open_room(declared.crisis_id, lang=lang))
            if said:
                p.step("room", lambda: rt.vigie.tell_user(channel=channel, user=CM, text=said))
        for command in ("help", "status", "list", "mine", f"show {ids['fin']}", "protocol finance", "oncall",
                        "crisis status", "digest"):
            words = _command_words(command, lang)
            answer = p.step("slash", lambda words=words: rt.slash.run(text=words, user=CM, channel=channel),
                            command=words)
            if answer is not None:
                gallery.views.append(View(t("preview.step.slash", lang, command=words), "ephemeral", "/vigie",
                                          {"text": answer.text, **({"blocks": answer.blocks} if answer.blocks else {})},
                                          f"<@{CM}>"))
        p.step("crisis_end", lambda: rt.crisis.end(by=CM, summary="Lot retiré, communiqué publié.", lang=lang))
        for user in (CM, FIN_LEAD, STRANGER):
            view = p.step("home", lambda user=user: rt.home_desk.view_for(user), user=user)
            if isinstance(view, dict):
                gallery.views.append(View(t("preview.step.home", lang, user=user), "home", "views.publish", view,
                                          f"<@{user}>"))
        clock.set(START + timedelta(days=1, hours=7))
        for team, weekly in ((None, False), ("finance", False), (None, True)):
            built = p.step("digest_weekly" if weekly else "digest", lambda team=team, weekly=weekly:
                           rt.digest_desk.build(team=team, day=START.date(), lang=lang, weekly=weekly),
                           team=team or "—")
            if built is not None:
                text, blocks = built
                gallery.views.append(View(t("preview.step.digest_weekly" if weekly else "preview.step.digest", lang,
                                            team=team or "—"), "message", "chat.postMessage",
                                          {"channel": "#veille-general", "text": text, "blocks": blocks}))
        gallery.images = dict(rec.uploads)
        gallery.ended = clock.now()
    return gallery


_COMMANDS_FR = {"help": "aide", "status": "statut", "list": "liste", "mine": "moi", "show": "voir",
                "protocol": "protocole", "oncall": "astreinte", "crisis": "crise", "digest": "résumé"}


def _command_words(command: str, lang: str) -> str:
    if lang != "fr":
        return command
    first, _, rest = command.partition(" ")
    rest = {"status": "statut"}.get(rest, rest)
    return (_COMMANDS_FR.get(first, first) + (" " + rest if rest else "")).strip()


# --- the pages -----------------------------------------------------------------------------------------------

def render_view(view: View, lang: str) -> str:
    if view.surface == "modal":
        return kit.modal_html(view.payload, lang)
    if view.surface == "home":
        return kit.home_html(view.payload, lang)
    return kit.message_html(view.payload, lang, ephemeral=view.surface == "ephemeral")


def write_gallery(gallery: Gallery, folder: Path) -> Path:
    """index.html (every view, by step) and one page per view (view-NNN.html, for screenshots)."""
    from bot import __version__

    folder.mkdir(parents=True, exist_ok=True)
    lang = gallery.lang
    kit.READER.set((lang, ZONE, gallery.ended))
    for name, data in gallery.images.items():
        (folder / name).write_bytes(data)
    head = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>@TITLE@</title>'
            f"<style>{kit.CSS}</style></head><body>")
    sections: list[str] = []
    current = None
    for n, view in enumerate(gallery.views, 1):
        if view.step != current:
            current = view.step
            sections.append(f"<h2>{kit.esc(view.step)}</h2>")
        where = t(f"preview.surface.{view.surface}", lang) + f" · <b>{kit.esc(view.method)}</b>"
        if view.where:
            where += f" · {kit.md(view.where)}"
        card = (f'<div class="view" id="view-{n:03d}" data-surface="{view.surface}"><div class="where">'
                f'<a href="view-{n:03d}.html">#{n}</a> · {where}</div><div class="body">{render_view(view, lang)}'
                f"</div></div>")
        sections.append(card)
        (folder / f"view-{n:03d}.html").write_text(
            head.replace("@TITLE@", f"Vigie #{n}") + card + "</body></html>", "utf-8")
    problems = "".join(f'<div class="problems">{kit.esc(step)} — {kit.esc(error)}</div>'
                       for step, error in gallery.failures)
    images = "".join(f'<h2>{kit.esc(name)}</h2><img class="block-image" src="{kit.esc(name)}" alt="{kit.esc(name)}">'
                     for name in gallery.images if name.endswith(".png"))
    intro = t("preview.intro", lang, count=len(gallery.views), version=__version__)
    # The same views as data, for tests and for anyone who wants to diff two versions' messages.
    (folder / "views.json").write_text(json.dumps({
        "lang": lang, "failures": [{"step": s, "error": e} for s, e in gallery.failures],
        "views": [{"n": n, "step": v.step, "surface": v.surface, "method": v.method, "where": v.where,
                   "payload": v.payload} for n, v in enumerate(gallery.views, 1)]}, ensure_ascii=False, indent=1),
        "utf-8")
    index = folder / "index.html"
    index.write_text(head.replace("@TITLE@", kit.esc(t("preview.title", lang))) + f"<h1>{kit.esc(t('preview.title', lang))}</h1>"
                     f'<p class="intro">{kit.esc(intro)}</p>{problems}' + "".join(sections) + images
                     + "</body></html>", "utf-8")
    return index


@app.command("preview")
def preview(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write index.html into.")],
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the terminal's language).")] = None,
) -> None:
    """Write an HTML gallery of every message, modal and Home view Vigie sends, from its real builders."""
    import logging

    from bot.logs import configure

    language = _language(lang)
    configure("WARNING", "console")  # the throwaway Vigie's own log lines are not the point
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="vigie-preview-") as tmp:
        gallery = play(language, Path(tmp))
    index = write_gallery(gallery, output)
    for step, error in gallery.failures:
        err.print(t("cli.preview.failed_step", language, step=step, error=error), markup=False, highlight=False)
    out.print(t("cli.preview.written", language, count=len(gallery.views), path=str(index)), markup=False,
              highlight=False)
    if gallery.failures:
        raise _fail(t("cli.preview.failures", language, count=len(gallery.failures)), code=1)
