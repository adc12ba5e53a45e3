"""The `vigie` command as a person uses it: clear sentences, right exit codes, nothing lost.

Messages are in the terminal's language (the locale: French in the tests, see conftest; `lang_env` also runs a
test in an English terminal), or in the `--lang` given; never in the protocol's language.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.store.models import Mention, Outbox
from tests.conftest import BOT_TOKEN, TEST_PROTOCOL
from tests.typography import fr

runner = CliRunner()


@pytest.fixture
def env(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}


def english_protocol(folder) -> str:  # type: ignore[no-untyped-def]
    """A copy of the test protocol whose language is English (with the roster it names)."""
    folder.mkdir(exist_ok=True)
    path = folder / "protocol.yaml"
    path.write_text(TEST_PROTOCOL.read_text("utf-8").replace("language: fr", "language: en"), "utf-8")
    (folder / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    return str(path)


@pytest.fixture(params=["fr", "en"])
def lang_env(request, env, tmp_path):
    """(language, environment): a French terminal on the English protocol, or an English terminal on the French
    one: the terminal's language wins."""
    if request.param == "fr":
        return "fr", env | {"LANG": "fr_FR.UTF-8", "VIGIE_PROTOCOL_FILE": english_protocol(tmp_path / "en")}
    return "en", env | {"LANG": "en_GB.UTF-8"}


def _flat(text: str) -> str:
    """Spaces of any width as one plain space (the catalogues' French typography is not what these tests test)."""
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def test_protocol_check_accepts_the_example_and_names_field_and_line(tmp_path, lang_env):
    lang, env = lang_env
    ok = runner.invoke(app, ["protocol", "check", str(TEST_PROTOCOL)], env=env)
    assert ok.exit_code == 0
    assert _flat(ok.output) == _flat({
        "fr": f"{TEST_PROTOCOL} est valide : 4 équipes, 4 règles de routage, 0 flux.",
        "en": f"{TEST_PROTOCOL} is valid: 4 teams, 4 routing rules, 0 feeds.",
    }[lang])
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEST_PROTOCOL.read_text().replace("channel: C0LEGAL001", "channel: legal-team"))
    line = next(i for i, l in enumerate(bad.read_text().splitlines(), 1) if "legal-team" in l)
    # Problems are told in the terminal's language whatever the file's (this copy is French), or in --lang.
    french = {"head": f"{bad} contient 1\u202ferreur\u00a0:",
              "line": f"bad.yaml:{line}: teams.legal.channel: doit être un identifiant de canal Slack comme C0123ABCD"}
    english = {"head": f"{bad} has 1 error:",
               "line": f"bad.yaml:{line}: teams.legal.channel: must be a Slack channel ID such as C0123ABCD"}
    r = runner.invoke(app, ["protocol", "check", str(bad)], env=env)
    assert r.exit_code == 1
    said = {"fr": french, "en": english}[lang]
    assert _flat(said["line"]) in _flat(r.output) and _flat(said["head"]) in _flat(r.output)
    other = "en" if lang == "fr" else "fr"
    r = runner.invoke(app, ["protocol", "check", str(bad), "--lang", other], env=env)
    assert r.exit_code == 1
    said = {"fr": french, "en": english}[other]
    assert _flat(said["line"]) in _flat(r.output) and _flat(said["head"]) in _flat(r.output)
    r = runner.invoke(app, ["protocol", "check", str(bad), "--lang", "de"], env=env)
    assert r.exit_code == 2


def test_import_keeps_every_valid_line_and_reports_the_others(tmp_path, env, engine):
    csv = tmp_path / "export.csv"
    csv.write_text(
        "id;url;auteur;contenu;date;portée\n"
        "a1;https://x.example/1;@ana;Les résultats sont bons;21/11/2026 09:30;12 500\n"
        "a2;not a url;@bob;Texte;21/11/2026 09:31;3\n"
        "a3;https://x.example/3;@cid;Grève demain;2026-11-21T10:00:00+01:00;\n",
        encoding="utf-8-sig")
    r = runner.invoke(app, ["import", str(csv), "--source", "talkwalker"], env=env)
    assert r.exit_code == 1, r.output
    assert fr("ligne 3 : url") in r.output
    assert "2 nouvelles mentions enregistrées, 0 déjà connue, 1 ligne en erreur." in r.output
    with Session(engine) as s:
        stored = {m.external_id: m for m in s.exec(select(Mention)).all()}
        assert set(stored) == {"a1", "a3"}
        assert stored["a1"].team == "finance" and stored["a1"].reach == 12500
        assert stored["a3"].team == "hr"
        assert len(s.exec(select(Outbox)).all()) == 2  # relays queued for the running bot
    english = env | {"LANG": "en_US.UTF-8"}
    again = runner.invoke(app, ["import", str(csv), "--source", "talkwalker"], env=english)
    assert "line 3: url" in again.output
    assert "0 new mentions stored, 2 already known, 1 line with errors." in again.output


def test_import_with_a_column_mapping_and_jsonl(tmp_path, lang_env, engine):
    lang, env = lang_env
    f = tmp_path / "export.jsonl"
    f.write_text('{"guid": "j1", "link": "https://x.example/j1", "who": "@z", "body": "Un avis", '
                 '"when": "2026-11-21T08:00:00Z"}\n{broken\n', encoding="utf-8")
    r = runner.invoke(app, ["import", str(f), "--source", "rss", "--map", "author=who", "--map", "text=body",
                            "--map", "external_id=guid", "--map", "url=link", "--map", "published_at=when"],
                      env=env)
    assert {"fr": fr("ligne 2 :"), "en": "line 2:"}[lang] in r.output
    assert {"fr": "1 nouvelle mention enregistrée, 0 déjà connue, 1 ligne en erreur.",
            "en": "1 new mention stored, 0 already known, 1 line with errors."}[lang] in r.output
    bad_map = runner.invoke(app, ["import", str(f), "--map", "nosuchfield=x"], env=env)
    assert bad_map.exit_code == 2 and {"fr": fr("--map :"), "en": "--map:"}[lang] in bad_map.output
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.csv")], env=env)
    assert missing.exit_code == 2
    assert {"fr": "Aucun fichier à", "en": "No file at"}[lang] in missing.output
    bad_format = runner.invoke(app, ["import", str(f), "--format", "xlsx"], env=env)
    assert bad_format.exit_code == 2
    assert {"fr": "--format prend csv ou jsonl.", "en": "--format must be csv or jsonl."}[lang] in bad_format.output


def test_missing_or_wrong_settings_stop_with_one_sentence(env, tmp_path):
    # In the terminal's language, whatever the protocol's.
    r = runner.invoke(app, ["serve"], env=env)
    assert r.exit_code == 2
    assert fr("Configuration : SLACK_BOT_TOKEN n'est pas défini : donnez-lui le Bot User OAuth Token de "
            "l'application (xoxb-...), sur la page « OAuth & Permissions » de l'application Slack.") in r.output
    r = runner.invoke(app, ["serve"], env=env | {"LANG": "en_US.UTF-8"})
    assert r.exit_code == 2
    assert ("Configuration: SLACK_BOT_TOKEN is not set: set it to the app's Bot User OAuth Token (xoxb-...), "
            "from the Slack app's 'OAuth & Permissions' page.") in r.output
    r = runner.invoke(app, ["run"], env=env | {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert r.exit_code == 2 and fr("SLACK_APP_TOKEN n'est pas défini : donnez-lui un jeton d'application") in r.output
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxp-user-token"})
    assert r.exit_code == 2 and fr("SLACK_BOT_TOKEN est incorrect (doit commencer par xoxb-) : donnez-lui") in r.output
    r = runner.invoke(app, ["db", "current"], env=env | {"DATABASE_URL": "mysql://x"})
    assert r.exit_code == 2 and "DATABASE_URL est incorrect (doit être une URL sqlite:/// ou postgresql://)" in r.output
    r = runner.invoke(app, ["db", "current"], env=env | {"VIGIE_PROTOCOL_FILE": "/nonexistent/p.yaml"})
    assert r.exit_code == 2
    assert "VIGIE_PROTOCOL_FILE est incorrect (aucun fichier à /nonexistent/p.yaml)" in r.output


def test_a_broken_protocol_stops_start_up_with_its_errors(tmp_path, env):
    bad = tmp_path / "p.yaml"
    bad.write_text(TEST_PROTOCOL.read_text().replace("default_team: general", "default_team: sales"))
    r = runner.invoke(app, ["serve"], env=env | {"VIGIE_PROTOCOL_FILE": str(bad), "SLACK_BOT_TOKEN": "xoxb-1",
                                                 "SLACK_SIGNING_SECRET": "s"})
    assert r.exit_code == 2
    assert "default_team" in r.output and "p.yaml:" in r.output


def test_db_upgrade_reports_the_revision(lang_env):
    lang, env = lang_env
    r = runner.invoke(app, ["db", "upgrade"], env=env)
    from alembic.script import ScriptDirectory

    from bot.store.db import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert r.exit_code == 0
    assert r.output.strip() == {"fr": f"Base de données à la révision {head}.",
                                "en": f"Database at revision {head}."}[lang]


def test_a_token_slack_refuses_stops_start_up_with_one_sentence(lang_env, slack):
    lang, env = lang_env
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_SIGNING_SECRET": "s",
                                                 "SLACK_API_URL": slack.url})
    assert r.exit_code == 2
    said = _flat(r.output)
    assert {"fr": "Slack a refusé le jeton SLACK_BOT_TOKEN (invalid_auth) : recopiez le Bot User OAuth Token",
            "en": "Slack refused the token SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token"}[lang] in said
    assert "joint" not in said and "reached" not in said  # refused is not unreachable
    assert "{'ok'" not in said and "auth.test result" not in said  # no raw dict


def test_an_unreachable_slack_api_stops_start_up_with_one_sentence(lang_env):
    lang, env = lang_env
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                                 "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert r.exit_code == 2
    said = _flat(r.output)
    assert {"fr": "Slack n'a pas pu être joint à http://127.0.0.1:9/api/ : vérifiez le réseau et SLACK_API_URL.",
            "en": "Slack could not be reached at http://127.0.0.1:9/api/: check the network and SLACK_API_URL."
            }[lang] in said
    # Port 9 refuses: the reason is said in the terminal's words, the system's English is not inside a sentence.
    assert {"fr": "Raison : la connexion a été refusée.", "en": "Reason: the connection was refused."}[lang] in said
    assert "Connection refused" not in said and "Errno" not in said
    assert "refusé le jeton" not in said and "refused the token" not in said
    assert "Traceback" not in r.output


def test_audit_export_for_a_period(env, engine, tmp_path):
    from datetime import datetime

    from bot.store.db import session_scope
    from bot.store.models import AuditEvent

    with session_scope(engine) as s:
        s.add(AuditEvent(at=datetime(2026, 11, 20, 23, 59, tzinfo=UTC), actor="U1", action="a.before"))
        s.add(AuditEvent(at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC), actor="U1", action="a.inside",
                         reason="parce que"))
    out = tmp_path / "audit.csv"
    r = runner.invoke(app, ["audit", "export", "--from", "2026-11-21", "--format", "csv", "-o", str(out)], env=env)
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and "a.inside" in lines[1] and "parce que" in lines[1]
    assert "1 événement d'audit exporté." in r.output
    bad = runner.invoke(app, ["audit", "export", "--from", "21/11/2026"], env=env)
    assert bad.exit_code == 2 and "--from et --to prennent des dates comme 2026-11-21." in bad.output
    english = env | {"LANG": "en_US.UTF-8"}
    bad = runner.invoke(app, ["audit", "export", "--from", "2026-11-21", "--to", "2026-11-20"], env=english)
    assert bad.exit_code == 2
    assert "--format must be csv or jsonl, and --to must not be before --from." in bad.output
    r = runner.invoke(app, ["audit", "export", "--from", "2026-11-22", "-o", str(out)], env=english)
    assert r.exit_code == 0 and "0 audit events exported." in r.output


def test_digest_errors_in_the_chosen_language(env):
    r = runner.invoke(app, ["digest", "--team", "sales"], env=env)
    assert r.exit_code == 2
    assert fr("--team : équipe inconnue « sales » ; équipes : general, finance, legal, hr.") in r.output
    r = runner.invoke(app, ["digest", "--team", "sales", "--lang", "en"], env=env)
    assert r.exit_code == 2 and "--team: unknown team 'sales'; teams: general, finance, legal, hr." in r.output
    r = runner.invoke(app, ["digest", "--date", "20/11/2026", "--lang", "en"], env=env)
    assert r.exit_code == 2 and "--date takes a day such as 2026-11-21." in r.output
    r = runner.invoke(app, ["digest", "--lang", "de"], env=env)
    assert r.exit_code == 2 and "--lang prend fr ou en." in r.output


def test_an_app_token_slack_refuses_stops_vigie_run_with_one_sentence(lang_env, slack):
    lang, env = lang_env
    slack.app_token = "xapp-1-the-right-one"
    r = runner.invoke(app, ["run"], env=env | {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-revoked",
                                               "SLACK_API_URL": slack.url, "VIGIE_RUN_SCHEDULER": "false"})
    assert r.exit_code == 2, r.output
    said = _flat(r.output)
    assert {"fr": "Slack a refusé le jeton SLACK_APP_TOKEN (invalid_auth) : générez un jeton d'application",
            "en": "Slack refused the token SLACK_APP_TOKEN (invalid_auth): generate an app-level token"}[lang] in said
    assert "Traceback" not in r.output and "SlackApiError" not in r.output


def test_protocol_check_warns_about_a_listed_day_that_is_not_a_public_holiday(tmp_path, lang_env):
    """Issue 15 item 7: the country's public holidays come from the `holidays` package; a date listed by hand
    that is not one of them is a closure of the company's own or a typo, so `protocol check` warns (and still
    accepts the file)."""
    lang, env = lang_env
    (tmp_path / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    listed = tmp_path / "holidays.yaml"
    listed.write_text(TEST_PROTOCOL.read_text() + "\nbusiness_hours:\n  holidays_country: FR\n"
                      "  holidays: [2026-12-25, 2026-12-24, 2027-07-14]\n")
    r = runner.invoke(app, ["protocol", "check", str(listed)], env=env)
    assert r.exit_code == 0, r.output
    said = _flat(r.output)
    assert ("2026-12-24" in said) and ("2026-12-25" not in said) and ("2027-07-14" not in said), said
    assert {"fr": "n'est pas un jour férié en FR", "en": "is not a public holiday in FR"}[lang] in said
    plain = tmp_path / "plain.yaml"
    plain.write_text(TEST_PROTOCOL.read_text() + "\nbusiness_hours:\n  holidays: [2026-12-24]\n")
    r = runner.invoke(app, ["protocol", "check", str(plain)], env=env)
    assert r.exit_code == 0 and "2026-12-24" not in r.output  # no country: nothing to compare with
