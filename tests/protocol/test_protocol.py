from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.domain import oncall
from bot.domain.checks import check_length
from bot.domain.sla import is_open
from bot.domain.workflow import Severity
from bot.protocol.errors import ProtocolError, ProtocolIssue
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol, oncall_rotation, parse_protocol
from bot.protocol.schema import (
    DEFAULT_NETWORKS,
    LocalizedText,
    Protocol,
    TimeRange,
    format_duration,
)
from tests.typography import fr as typo

# Line numbers matter in these tests: keep this text's lines where they are.
VALID = """\
version: 1
community_managers: [U0CM00001]
teams:
  general:
    name: Général
    channel: "#veille-general"
  finance:
    name: {fr: Finance, en: Finance}
    channel: C0FINANCE1
    lead: U0FIN0001
default_team: general
routing:
  - team: finance
    keywords: [résultats, dividende]
    patterns: ['\\bQ[1-4]\\b']
feeds:
  - name: alertes
    url: https://www.google.com/alerts/feeds/000/111
"""


def issues_of(text: str, lang: str = "en") -> list[ProtocolIssue]:
    """The problems as `vigie protocol check --lang en` tells them (these files are French: see the tests of
    languages below for the sentences in French)."""
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(textwrap.dedent(text), "protocol.yaml")
    return caught.value.in_language(lang).issues


def only_issue(text: str) -> tuple[str, int | None, str]:
    [issue] = issues_of(text)
    return issue.field, issue.line, issue.message


def test_valid_text_loads() -> None:
    protocol = parse_protocol(VALID)
    assert protocol.default_team == "general"
    assert protocol.language == "fr"
    assert protocol.timezone == "Europe/Paris"
    assert protocol.team("finance").channel == "C0FINANCE1"
    assert protocol.routing[0].compiled_patterns[0].search("résultats q3") is not None  # case-insensitive
    assert protocol.feeds[0].every_minutes == 10
    assert protocol.severity.default is Severity.low
    assert protocol.severity.crisis_words.severity is Severity.critical


# --- the example ---------------------------------------------------------------------------------------------


def test_example_loads() -> None:
    protocol = load_protocol(EXAMPLE_PROTOCOL)
    assert protocol.default_team == "general"
    assert set(protocol.teams) == {"general", "finance", "legal", "hr"}
    assert protocol.team("finance").channel == "#veille-finance"
    assert protocol.team("legal").name.get("en") == "Legal"
    assert protocol.team("legal").name.get("fr") == "Juridique"
    # No feed is active in the example: its URLs are placeholders that would be reported broken at once.
    assert protocol.feeds == []
    # Sections of the response loop.
    assert protocol.required_approvals("legal", Severity.low) == ("community_manager", "team:legal")
    assert protocol.required_approvals("hr", Severity.critical) == (
        "community_manager",
        "team:hr",
        "decision_maker",
    )
    assert protocol.double_command
    assert "projet Hermine" in protocol.checks.confidential_terms
    assert "Armorine" in protocol.checks.company_words
    assert "Maëlle Le Goff" in protocol.employee_names  # read from roster.example.csv, next to the example
    assert protocol.networks["x"] == 280 and protocol.networks["tiktok"] == 150
    assert protocol.publishing.mode == "manual"
    waiting = protocol.holding_statement("accuse-reception").text
    assert waiting.get("fr") == "Nous avons bien vu votre message, nous revenons vers vous rapidement."
    assert waiting.get("en")
    # Time sections.
    assert [str(r) for r in protocol.business_hours.week.mon] == ["09:00-12:30", "14:00-18:00"]
    assert protocol.business_hours.is_holiday(date(2026, 7, 14))  # by rule: holidays_country FR
    assert protocol.sla_for("legal", "high").approved == timedelta(hours=8)
    assert protocol.sla_for("legal", "critical").round_the_clock
    assert [s.key for s in protocol.ladder_for("critical")] == ["25%", "75%", "100%", "+15m"]
    assert [s.key for s in protocol.ladder_for("high")] == ["50%", "100%", "+30m"]
    assert oncall.on_call(datetime(2026, 1, 12, 9, tzinfo=ZoneInfo("Europe/Paris")),
                          oncall_rotation(protocol, "decision_makers")) == "U0DM00002"
    assert protocol.crisis.channel is None and protocol.crisis.holding_statement == "verification-qualite"


def test_example_feeds_are_valid_once_uncommented() -> None:
    text = EXAMPLE_PROTOCOL.read_text(encoding="utf-8")
    head, tail = text.split("feeds: []", 1)
    uncommented = "\n".join(line[2:] if line.startswith("#   ") else line for line in tail.splitlines())
    protocol = parse_protocol(head + "feeds:" + uncommented, base_dir=EXAMPLE_PROTOCOL.parent)
    assert [f.name for f in protocol.feeds] == ["google-alerts-armorine", "talkwalker-presse-eco"]
    assert protocol.feeds[1].team == "finance"
    # Every routing keyword, negative cue and crisis word, as triage reads them.
    words = {w.casefold() for rule in protocol.routing for w in rule.keywords}
    words |= {w.casefold() for w in protocol.severity.negative_cues.words + protocol.severity.crisis_words.words}
    for expected in ("résultats", "dividend", "rgpd", "gdpr", "grève", "strike", "boycott", "data breach"):
        assert expected in words
    assert protocol.severity.reach  # thresholds are set


def test_example_comments_are_bilingual() -> None:
    comments = [
        line.strip()
        for line in EXAMPLE_PROTOCOL.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("#")
    ]
    fr = [c for c in comments if c.startswith("# FR:")]
    en = [c for c in comments if c.startswith("# EN:")]
    assert fr and len(fr) == len(en)


# --- conveniences ------------------------------------------------------------------------------------------


def test_localized_text() -> None:
    assert LocalizedText.model_validate("Finance").get("en") == "Finance"
    both = LocalizedText.model_validate({"fr": "Juridique", "en": "Legal"})
    assert (both.get("fr"), both.get("en"), both.get(None)) == ("Juridique", "Legal", "Juridique")
    assert LocalizedText.model_validate({"en": "Legal"}).get("fr") == "Legal"


def test_unknown_team_lookup_says_which() -> None:
    with pytest.raises(KeyError, match="marketing"):
        parse_protocol(VALID).team("marketing")


def test_protocol_is_frozen() -> None:
    protocol = parse_protocol(VALID)
    with pytest.raises(ValidationError):
        protocol.default_team = "finance"  # type: ignore[misc]


def test_sources_are_lowercased() -> None:
    protocol = parse_protocol(
        VALID.replace("    keywords: [résultats, dividende]\n", "    sources: [GlassDoor]\n")
    )
    assert protocol.routing[0].sources == ["glassdoor"]


# --- errors: field and line ----------------------------------------------------------------------------------


def test_bad_channel() -> None:
    field, line, message = only_issue(VALID.replace("C0FINANCE1", "finance channel"))
    assert (field, line) == ("teams.finance.channel", 9)
    assert "Slack channel ID such as C0123ABCD" in message and "#veille-finance" in message


def test_channel_name_without_quotes_is_explained() -> None:
    # YAML reads "#veille-finance" without quotes as a comment: the value is empty.
    field, line, message = only_issue(VALID.replace('"#veille-general"', "#veille-general"))
    assert (field, line) == ("teams.general.channel", 6)
    assert "quotes" in message


def test_channel_name_without_hash_gets_a_hint() -> None:
    field, line, message = only_issue(VALID.replace('"#veille-general"', "veille-general"))
    assert (field, line) == ("teams.general.channel", 6)
    assert '"#veille-general"' in message


def test_unknown_key_suggests_the_right_spelling() -> None:
    field, line, message = only_issue(VALID.replace("    lead: U0FIN0001", "    laed: U0FIN0001"))
    assert (field, line) == ("teams.finance.laed", 10)
    assert message.startswith("is not a known setting (check the spelling")
    assert '"lead"' in message


def test_unknown_top_level_key() -> None:
    field, line, message = only_issue(VALID + "alarms: 3\n")
    assert (field, line) == ("alarms", 19)
    assert "is not a known setting" in message


def test_missing_field_points_at_its_section() -> None:
    field, line, message = only_issue(VALID.replace('    channel: "#veille-general"\n', ""))
    assert (field, line, message) == ("teams.general.channel", 4, "is required")


def test_missing_top_level_field_has_no_line() -> None:
    field, line, message = only_issue(VALID.replace("default_team: general\n", ""))
    assert (field, line, message) == ("default_team", None, "is required")


def test_default_team_must_be_a_team() -> None:
    field, line, message = only_issue(VALID.replace("default_team: general", "default_team: generale"))
    assert (field, line) == ("default_team", 11)
    assert '"generale"' in message and "finance, general" in message


def test_routing_team_must_exist() -> None:
    field, line, message = only_issue(VALID.replace("  - team: finance", "  - team: finanse"))
    assert (field, line) == ("routing[0].team", 13)
    assert '"finanse"' in message


def test_feed_team_must_exist_and_names_differ() -> None:
    text = VALID + "    team: legal\n  - name: alertes\n    url: https://example.org/rss\n"
    assert [(i.field, i.line) for i in issues_of(text)] == [("feeds[0].team", 19), ("feeds[1].name", 20)]


def test_bad_regex_names_it() -> None:
    field, line, message = only_issue(VALID.replace("'\\bQ[1-4]\\b'", "'\\bQ[1-4\\b', 'ok'"))
    assert (field, line) == ("routing[0].patterns[0]", 15)
    assert '"\\bQ[1-4\\b" is not a valid regular expression' in message


def test_regex_matching_everything_is_refused() -> None:
    field, line, _ = only_issue(VALID.replace("'\\bQ[1-4]\\b'", "'ok', '.*'"))
    assert (field, line) == ("routing[0].patterns[1]", 15)


def test_rule_needs_a_criterion() -> None:
    field, line, message = only_issue(
        VALID.replace(
            "    keywords: [résultats, dividende]\n    patterns: ['\\bQ[1-4]\\b']\n", "    languages: [fr]\n"
        )
    )
    assert (field, line) == ("routing[0]", 13)
    assert "keywords, patterns or sources" in message


def test_list_items_on_their_own_lines() -> None:
    text = VALID.replace("[U0CM00001]", "\n  - U0CM00001\n  - bob")
    assert only_issue(text)[:2] == ("community_managers[1]", 4)


def test_community_managers_cannot_be_empty() -> None:
    field, line, message = only_issue(VALID.replace("[U0CM00001]", "[]"))
    assert (field, line) == ("community_managers", 2)
    assert "at least 1" in message


def test_bad_user_id() -> None:
    field, line, message = only_issue(VALID.replace("lead: U0FIN0001", "lead: '@marie'"))
    assert (field, line) == ("teams.finance.lead", 10)
    assert "Slack member ID" in message


def test_bad_team_key() -> None:
    field, line, message = only_issue(
        VALID.replace("  finance:", "  Finance Team:").replace("  - team: finance", "  - team: general")
    )
    assert (field, line) == ("teams.Finance Team", 7)
    assert "lowercase" in message


def test_bad_enum_literal_and_numbers() -> None:
    text = VALID + "    every_minutes: 0\nseverity:\n  default: urgent\nlanguage: de\nversion2: 1\n"
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("feeds[0].every_minutes", 19)] == "must be at least 1"
    assert found[("severity.default", 21)] == "must be 'low', 'medium', 'high' or 'critical'"
    assert found[("language", 22)] == "must be 'fr' or 'en'"
    assert ("version2", 23) in found


def test_bad_timezone_and_url() -> None:
    text = VALID.replace("https://www.google.com", "ftp://www.google.com") + "timezone: Europe/Pari\n"
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert "https://" in found[("feeds[0].url", 18)]
    assert "Europe/Paris" in found[("timezone", 19)]


def test_wrong_version() -> None:
    assert only_issue(VALID.replace("version: 1", "version: 2"))[:2] == ("version", 1)


def test_several_issues_come_in_file_order() -> None:
    text = VALID.replace("C0FINANCE1", "nope").replace("version: 1", "version: 3")
    assert [i.line for i in issues_of(text)] == [1, 9]


# --- YAML problems -------------------------------------------------------------------------------------------


def test_duplicate_key() -> None:
    field, line, message = only_issue(
        VALID.replace("    lead: U0FIN0001\n", "    lead: U0FIN0001\n    lead: U0FIN0002\n")
    )
    assert (field, line) == ("teams.finance.lead", 11)
    assert "also on line 10" in message


def test_duplicate_team() -> None:
    text = VALID.replace(
        "default_team: general\n",
        "  general:\n    name: Bis\n    channel: C0BIS0001\ndefault_team: general\n",
    )
    assert only_issue(text)[:2] == ("teams.general", 11)


def test_duplicate_top_level_key_in_flow_mapping() -> None:
    assert only_issue("{version: 1, version: 1}")[:2] == ("version", 1)


def test_yaml_syntax_error() -> None:
    field, line, message = only_issue(VALID.replace("    lead: U0FIN0001", "    lead: U0FIN0001: x"))
    assert (field, line) == ("", 10)
    assert '":"' in message


def test_unclosed_bracket_points_where_it_opens() -> None:
    assert only_issue(VALID.replace("[résultats, dividende]", "[résultats, dividende"))[1] == 14


def test_tab_indentation() -> None:
    field, line, message = only_issue("version: 1\nteams:\n\tgeneral: {}\n")
    assert (field, line) == ("", 3)
    assert "tab" in message


def test_python_tags_are_refused() -> None:
    assert only_issue("version: !!python/object/apply:os.system ['echo hi']\n")[1] == 1


def test_empty_file() -> None:
    field, line, message = only_issue("# nothing\n")
    assert (field, line) == ("", None)
    assert "empty" in message


def test_not_a_mapping() -> None:
    assert only_issue("- a\n- b\n")[2].startswith("must be a section of settings")


# --- the error itself ----------------------------------------------------------------------------------------


def test_error_text_is_one_line_per_issue() -> None:
    text = VALID.replace("C0FINANCE1", "nope").replace("default_team: general\n", "")
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "protocol.yaml")
    # The file does not say its language: French, the product's first language.
    lines = str(caught.value).splitlines()
    assert lines[0] == "protocol.yaml: default_team: est obligatoire"
    assert lines[1].startswith("protocol.yaml:9: teams.finance.channel: doit être un identifiant de canal Slack")
    assert len(lines) == 2
    assert [i.code for i in caught.value.issues] == ["missing", "slack_channel"]  # stable, whatever the language
    english = str(caught.value.in_language("en")).splitlines()
    assert english[0] == "protocol.yaml: default_team: is required"
    assert english[1].startswith("protocol.yaml:9: teams.finance.channel: must be a Slack channel ID")


def test_load_protocol_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text(VALID.replace("C0FINANCE1", "nope"), encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert str(caught.value).startswith(f"{path}:9: teams.finance.channel:")


def test_load_protocol_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="nope.yaml: ne peut pas être lu\xa0: "):
        load_protocol(tmp_path / "nope.yaml")


def test_load_protocol_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_bytes(VALID.replace("Général", "G\xe9n\xe9ral").encode("latin-1"))
    with pytest.raises(ProtocolError, match="UTF-8"):
        load_protocol(path)


def test_load_protocol_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text("\ufeff" + VALID, encoding="utf-8")
    assert load_protocol(path).default_team == "general"


def test_direct_validation_still_locates_cross_references() -> None:
    data = parse_protocol(VALID).model_dump()
    data["routing"][0]["team"] = "nope"
    with pytest.raises(ValidationError) as caught:
        Protocol.model_validate(data)
    assert caught.value.errors()[0]["loc"] == ("routing", 0, "team")


# --- response loop sections: approvals, double command, checks, networks, publishing, holding statements ----


# Appended to VALID (18 lines): the first line of `extra` is line 19.
def with_sections(extra: str) -> str:
    return VALID + textwrap.dedent(extra)


FIXTURE_PROTOCOL = Path(__file__).parents[1] / "fixtures" / "protocol.yaml"


def test_new_sections_have_safe_defaults() -> None:
    protocol = parse_protocol(VALID)
    assert protocol.approvals == [] and protocol.double_command == [] and protocol.holding_statements == []
    assert protocol.checks.company_words == [] and protocol.checks.confidential_terms == []
    assert protocol.checks.roster is None and protocol.employee_names == ()
    assert protocol.networks == DEFAULT_NETWORKS
    assert protocol.publishing.mode == "manual" and protocol.publishing.webhook_url is None
    # A community manager's approval is always required, rules or not.
    assert protocol.required_approvals("finance", Severity.critical) == ("community_manager",)


def test_fixture_protocol_still_loads() -> None:
    protocol = load_protocol(FIXTURE_PROTOCOL)
    assert protocol.default_team == "general"


def test_approvals_add_up_in_file_order() -> None:
    protocol = parse_protocol(
        with_sections("""\
            decision_makers: [U0DM00001]
            approvals:
              - teams: [finance]
                require: ["team:finance"]
              - severities: [critical]
                require: [decision_maker, "team:finance"]
              - teams: [general]
                severities: [high]
                require: [community_manager]
            """)
    )
    assert protocol.approvals[1].severities == [Severity.critical]
    assert protocol.required_approvals("finance", Severity.low) == ("community_manager", "team:finance")
    assert protocol.required_approvals("general", Severity.critical) == (
        "community_manager",
        "decision_maker",
        "team:finance",
    )
    assert protocol.required_approvals("general", Severity.high) == ("community_manager",)


def test_approval_teams_must_exist() -> None:
    text = with_sections("""\
        approvals:
          - teams: [finance, legal]
            require:
              - "team:finance"
              - "team:hr"
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert set(found) == {("approvals[0].teams[1]", 20), ("approvals[0].require[1]", 23)}
    assert found[("approvals[0].require[1]", 23)].startswith('"hr" is not one of the teams')


def test_bad_requirement_gets_a_hint() -> None:
    text = with_sections("""\
        approvals:
          - require:
              - decision_makers
              - legal
              - "team:"
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert '(did you mean "decision_maker"?)' in found[("approvals[0].require[0]", 21)]
    assert '(did you mean "team:legal"?)' in found[("approvals[0].require[1]", 22)]
    assert found[("approvals[0].require[2]", 23)].startswith('must be "community_manager", "decision_maker"')


def test_team_requirement_written_as_a_mapping_is_explained() -> None:
    # "- team: legal" (space after the colon) is a YAML mapping, not the text "team:legal".
    field, line, message = only_issue(with_sections("approvals:\n  - require:\n      - team: finance\n"))
    assert (field, line) == ("approvals[0].require[0]", 21)
    assert '"team:finance"' in message and "quotes" in message


def test_decision_maker_requirement_needs_decision_makers() -> None:
    field, line, message = only_issue(with_sections("approvals:\n  - require: [decision_maker]\n"))
    assert (field, line) == ("approvals[0].require[0]", 20)
    assert "decision_makers lists nobody" in message


def test_approval_rule_needs_requirements_and_known_severities() -> None:
    text = with_sections("""\
        approvals:
          - teams: [finance]
          - severities: [urgent]
            require: []
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("approvals[0].require", 20)] == "is required"
    assert found[("approvals[1].severities[0]", 21)] == "must be 'low', 'medium', 'high' or 'critical'"
    assert found[("approvals[1].require", 22)] == "must list at least 1 entry"


def test_double_command() -> None:
    assert parse_protocol(with_sections("double_command: [U0AGENCY1]\n")).double_command == ["U0AGENCY1"]
    field, line, message = only_issue(with_sections("double_command:\n  - U0AGENCY1\n  - '@agence'\n"))
    assert (field, line) == ("double_command[1]", 21)
    assert "Slack member ID" in message


# --- checks and the roster -------------------------------------------------------------------------------

ROSTER_SECTION = (
    "checks:\n  company_words: [Armorine]\n  confidential_terms: [projet Hermine]\n  roster: {}\n"
)


def test_checks_and_roster_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "staff").mkdir()
    (tmp_path / "staff" / "roster.csv").write_text(
        "name,email\nMaëlle Le Goff,mlg@example.org\n\nYannick Kerbrat,\nMaëlle Le Goff,dup@example.org\n",
        encoding="utf-8",
    )
    protocol = parse_protocol(with_sections(ROSTER_SECTION.format("staff/roster.csv")), base_dir=tmp_path)
    assert protocol.checks.company_words == ["Armorine"]
    assert protocol.checks.confidential_terms == ["projet Hermine"]
    assert protocol.employee_names == ("Maëlle Le Goff", "Yannick Kerbrat")  # once each, in file order
    assert protocol.model_copy().employee_names == protocol.employee_names


def test_roster_path_starts_from_the_protocol_files_folder(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("name\nSoizic Tanguy\n", encoding="utf-8")
    path = tmp_path / "protocol.yaml"
    path.write_text(with_sections(ROSTER_SECTION.format("roster.csv")), encoding="utf-8")
    assert load_protocol(path).employee_names == ("Soizic Tanguy",)
    # An absolute path is used as it is, wherever the protocol is.
    text = with_sections(ROSTER_SECTION.format(tmp_path / "roster.csv"))
    assert parse_protocol(text, base_dir=tmp_path / "elsewhere").employee_names == ("Soizic Tanguy",)


def test_roster_path_defaults_to_the_filenames_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "roster.csv").write_text("name\nThomas Riou\n", encoding="utf-8")
    text = with_sections(ROSTER_SECTION.format("roster.csv"))
    assert parse_protocol(text, str(tmp_path / "protocol.yaml")).employee_names == ("Thomas Riou",)
    monkeypatch.chdir(tmp_path)  # text without a file: the current directory
    assert parse_protocol(text).employee_names == ("Thomas Riou",)


def test_roster_from_a_french_spreadsheet(tmp_path: Path) -> None:
    # Excel set to French: BOM, ";" between columns, a capitalised header, CRLF, empty ";" rows at the end.
    (tmp_path / "r.csv").write_bytes("\ufeffName;Email\r\nErwan Le Bihan;e@x.org\r\n;\r\n".encode())
    protocol = parse_protocol(with_sections(ROSTER_SECTION.format("r.csv")), base_dir=tmp_path)
    assert protocol.employee_names == ("Erwan Le Bihan",)


def test_missing_roster_file(tmp_path: Path) -> None:
    field, line, message = only_issue_in(tmp_path, with_sections(ROSTER_SECTION.format("nope.csv")))
    assert (field, line) == ("checks.roster", 22)
    assert message.startswith(f"cannot be read: there is no file {tmp_path / 'nope.csv'}")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("nom,email\nA,a@x.org\n", 'has no "name" column'),
        ("", 'has no "name" column'),
        ("name,email\n", "lists nobody"),
        ("name,email\nA,a@x.org\n,b@x.org\n", "r.csv, line 3: the name is empty"),
        ('name\n"A\n', "r.csv, line 2: is not valid CSV"),  # the line where the quote opens
    ],
)
def test_bad_roster_file(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "r.csv").write_text(content, encoding="utf-8")
    field, line, message = only_issue_in(tmp_path, with_sections(ROSTER_SECTION.format("r.csv")))
    assert (field, line) == ("checks.roster", 22)
    assert expected in message


def test_roster_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_bytes("name\nMaëlle\n".encode("latin-1"))
    field, line, message = only_issue_in(tmp_path, with_sections(ROSTER_SECTION.format("r.csv")))
    assert (field, line) == ("checks.roster", 22)
    assert "CSV UTF-8" in message


def test_roster_issue_comes_with_the_others(tmp_path: Path) -> None:
    text = with_sections(
        ROSTER_SECTION.format("nope.csv") + "approvals: [{teams: [sales], require: [community_manager]}]\n"
    )
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "protocol.yaml", base_dir=tmp_path)
    assert [(i.field, i.line) for i in caught.value.issues] == [
        ("checks.roster", 22),
        ("approvals[0].teams[0]", 23),
    ]


def test_checks_typo_suggests_the_right_spelling() -> None:
    field, line, message = only_issue(with_sections("checks:\n  confidential_term: [marge brute]\n"))
    assert (field, line) == ("checks.confidential_term", 20)
    assert '"confidential_terms"' in message


def only_issue_in(base_dir: Path, text: str) -> tuple[str, int | None, str]:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "protocol.yaml", base_dir=base_dir)
    [issue] = caught.value.in_language("en").issues  # as `issues_of` does
    return issue.field, issue.line, issue.message


# --- networks ------------------------------------------------------------------------------------------------


def test_networks_are_merged_over_the_defaults() -> None:
    protocol = parse_protocol(with_sections("networks:\n  mastodon: 1000\n  tiktok: 150\n  x: null\n"))
    assert protocol.networks == {**DEFAULT_NETWORKS, "mastodon": 1000, "tiktok": 150, "x": None}
    # As the pre-publication length check reads them.
    assert check_length("a" * 151, "tiktok", protocol.networks)[0].params["limit"] == 150
    assert check_length("a" * 10_000, "x", protocol.networks) == []  # x: null, no limit
    assert check_length("a" * 301, "bluesky", protocol.networks)[0].params["limit"] == 300
    assert check_length("a" * 10_000, "other", protocol.networks) == []  # "other" has no limit by default
    with_other = parse_protocol(with_sections("networks: {other: 500}\n"))
    assert check_length("a" * 501, "other", with_other.networks)[0].params["limit"] == 500


def test_bad_networks() -> None:
    text = with_sections("""\
        networks:
          X: 280
          linkedin: 0
          threads: 100001
          bluesky: yes
          mastodon: "500"
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert "lowercase" in found[("networks.X", 20)]
    assert found[("networks.linkedin", 21)] == "must be at least 1"
    assert found[("networks.threads", 22)] == "must be at most 100000"
    assert found[("networks.bluesky", 23)] == "must be a whole number"
    assert found[("networks.mastodon", 24)] == "must be a whole number"


# --- publishing ----------------------------------------------------------------------------------------------


def test_publishing_webhook() -> None:
    protocol = parse_protocol(
        with_sections("publishing:\n  mode: webhook\n  webhook_url: https://publish.example.org/vigie\n")
    )
    assert protocol.publishing.mode == "webhook"
    assert protocol.publishing.webhook_url == "https://publish.example.org/vigie"


def test_webhook_mode_needs_a_url() -> None:
    field, line, message = only_issue(with_sections("\npublishing:\n  mode: webhook\n"))
    assert (field, line) == ("publishing.webhook_url", 20)  # no line of its own: its section's
    assert message.startswith('is required when mode is "webhook"')


def test_bad_publishing() -> None:
    text = with_sections(
        "publishing:\n  mode: auto\n  webhook_url: ftp://publish.example.org\n  secret: s3cr3t\n"
    )
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("publishing.mode", 20)] == "must be 'manual' or 'webhook'"
    assert "https://" in found[("publishing.webhook_url", 21)]
    assert (
        "is not a known setting" in found[("publishing.secret", 22)]
    )  # the secret is an environment setting


# --- holding statements ------------------------------------------------------------------------------------

HOLDING = """\
holding_statements:
  - key: accuse-reception
    label: {fr: Accusé de réception, en: Acknowledgement}
    text:
      fr: Nous avons bien vu votre message, nous revenons vers vous rapidement.
      en: We have seen your message and will get back to you shortly.
  - key: prive
    label: Message privé
    text: Pouvez-vous nous écrire en message privé ?
"""


def test_holding_statements() -> None:
    protocol = parse_protocol(with_sections(HOLDING))
    statement = protocol.holding_statement("accuse-reception")
    assert statement.label.get("en") == "Acknowledgement"
    assert statement.text.get("fr").startswith("Nous avons bien vu votre message")
    assert protocol.holding_statement("prive").text.get("en") == "Pouvez-vous nous écrire en message privé ?"
    with pytest.raises(KeyError, match="accuse-reception, prive"):
        protocol.holding_statement("merci")


def test_holding_statement_keys_differ_and_are_slugs() -> None:
    text = with_sections(HOLDING.replace("key: prive", "key: accuse-reception") + "  - key: Merci!\n")
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert "lowercase" in found[("holding_statements[2].key", 28)]
    assert ("holding_statements[2].label", 28) in found  # missing: points at its item
    # The duplicate is found by a cross-section check, which runs once every field is valid.
    text = with_sections(HOLDING.replace("key: prive", "key: accuse-reception"))
    field, line, message = only_issue(text)
    assert (field, line) == ("holding_statements[1].key", 25)
    assert "keys must differ" in message


# --- time sections: business hours, SLAs, escalation, on-call, crisis --------------------------------------


def test_time_sections_have_defaults() -> None:
    protocol = parse_protocol(VALID)
    week = protocol.business_hours.week
    assert [str(r) for r in week.mon] == ["09:00-18:00"] and [str(r) for r in week.fri] == ["09:00-18:00"]
    assert week.sat == [] and week.sun == [] and protocol.business_hours.holidays == []
    expected = {
        "low": ("8h", "1d", "2d", False),
        "medium": ("4h", "8h", "1d", False),
        "high": ("1h", "4h", "8h", False),
        "critical": ("30m", "2h", "4h", True),
    }
    for severity, (first, approved, published, round_the_clock) in expected.items():
        sla = protocol.sla_for("finance", severity)
        assert (format_duration(sla.first_response), format_duration(sla.approved)) == (first, approved)
        assert (format_duration(sla.published), sla.round_the_clock) == (published, round_the_clock)
    assert protocol.sla_for("finance", "low").approved == timedelta(hours=24)
    for severity in Severity:
        ladder = protocol.ladder_for(severity)
        assert [(s.key, s.at_fraction, s.after_deadline, s.notify) for s in ladder] == [
            ("50%", 0.5, None, ("owner_or_team",)),
            ("100%", 1.0, None, ("team_lead", "community_managers")),
            ("+30m", None, timedelta(minutes=30), ("oncall_decision_maker",)),
        ]
    assert protocol.oncall.community_managers is None and protocol.oncall.decision_makers is None
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert oncall_rotation(protocol, "community_managers") is None
    # Nobody on call: everyone.
    assert oncall.on_call_or_everyone(at, None, (), protocol.community_managers) == ("U0CM00001",)
    crisis = protocol.crisis
    assert (crisis.spike.window, crisis.spike.baseline) == (timedelta(hours=1), timedelta(days=7))
    assert (crisis.spike.factor, crisis.spike.min_mentions, crisis.high_reach) == (3.0, 10, 100_000)
    assert crisis.channel is None and crisis.channel_prefix == "crise-"
    assert crisis.sla_factor == 0.5 and crisis.approvers == ["decision_maker"]
    assert crisis.holding_statement is None
    # The default crisis approver is dropped when no one could give it (VALID has no decision maker).
    assert protocol.crisis_approvers == ()
    assert protocol.required_approvals("finance", Severity.low, crisis=True) == ("community_manager",)


def test_fixture_protocol_gets_the_default_time_sections() -> None:
    protocol = load_protocol(FIXTURE_PROTOCOL)
    assert protocol.sla_for("legal", "critical").round_the_clock
    assert protocol.required_approvals("general", Severity.low, crisis=True) == (
        "community_manager",
        "decision_maker",
    )


# --- business hours ------------------------------------------------------------------------------------------


def test_business_hours() -> None:
    protocol = parse_protocol(
        with_sections("""            timezone: Europe/Paris
            business_hours:
              week:
                mon: ["09:00-12:30", "14:00-18:00"]
                fri: ["9:00 - 17:00"]
                sat: ["10:00-12:00"]
              holidays: [2026-12-25, "2026-05-01"]
            """)
    )
    week = protocol.business_hours.week
    assert week.mon == [TimeRange(start=time(9), end=time(12, 30)), TimeRange(start=time(14), end=time(18))]
    assert [str(r) for r in week.fri] == ["09:00-17:00"]
    assert [str(r) for r in week.tue] == ["09:00-18:00"]  # a day left out keeps its default
    assert [str(r) for r in week.sat] == ["10:00-12:00"] and week.sun == []
    assert protocol.business_hours.holidays == [date(2026, 12, 25), date(2026, 5, 1)]
    assert protocol.business_hours.hours_on(date(2026, 12, 25)) == []  # a Friday, but a holiday
    # Monday 2 March 2026; Paris is UTC+1 in winter. As the SLA rules read the hours (protocol.calendar).
    assert is_open(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), protocol.calendar)  # 09:00 in Paris
    assert not is_open(datetime(2026, 3, 2, 11, 45, tzinfo=UTC), protocol.calendar)  # 12:45: lunch
    assert not is_open(datetime(2026, 3, 2, 17, 0, tzinfo=UTC), protocol.calendar)  # 18:00: closed
    assert not is_open(datetime(2026, 12, 25, 10, 0, tzinfo=UTC), protocol.calendar)


def test_bad_business_hours() -> None:
    text = with_sections("""        business_hours:
          week:
            monday: ["09:00-18:00"]
            tue: ["9h-18h"]
            wed: ["18:00-09:00"]
            thu: ["09:00-25:00"]
            fri: "09:00-18:00"
            sat: ["08:00-24:00"]
          holidays:
            - 2026-12-25
            - 25/12/2026
            - "2026-02-30"
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("business_hours.week.monday", 21)] == (
        'is not a known setting (check the spelling: did you mean "mon"?)'
    )
    assert found[("business_hours.week.tue[0]", 22)].startswith('must be opening hours written "HH:MM-HH:MM"')
    assert found[("business_hours.week.wed[0]", 23)].startswith("must start before it ends")
    assert found[("business_hours.week.thu[0]", 24)].startswith('must be opening hours written "HH:MM-HH:MM"')
    assert found[("business_hours.week.fri", 25)].startswith("must be a list")
    assert found[("business_hours.week.sat[0]", 26)] == 'a day ends at 23:59: write "08:00-23:59"'
    assert (
        found[("business_hours.holidays[1]", 29)] == "must be a date written YYYY-MM-DD, such as 2026-12-25"
    )
    assert (
        found[("business_hours.holidays[2]", 30)] == "must be a date written YYYY-MM-DD, such as 2026-12-25"
    )
    assert len(found) == 8


def test_impossible_yaml_date_has_its_line() -> None:
    field, line, message = only_issue(with_sections("business_hours:\n  holidays:\n    - 2026-02-30\n"))
    assert (field, line, message) == ("", 21, "2026-02-30 is not a valid date (YYYY-MM-DD)")


def test_business_hours_must_be_in_order_without_overlaps() -> None:
    text = with_sections("""        business_hours:
          week:
            mon:
              - "14:00-18:00"
              - "09:00-12:30"
            tue: ["09:00-13:00", "12:00-18:00"]
            wed: ["09:00-12:00", "12:00-18:00"]
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found == {
        ("business_hours.week.mon[1]", 23): (
            "overlaps or comes before 14:00-18:00: list a day's hours in order, without overlaps"
        ),
        ("business_hours.week.tue[1]", 24): (
            "overlaps or comes before 09:00-13:00: list a day's hours in order, without overlaps"
        ),
    }  # wed: 12:00 ends one range and starts the next, which is fine


# --- SLAs ----------------------------------------------------------------------------------------------------

SLA = """sla:
  defaults:
    low: {first_response: 1d, approved: 2d, published: 3d}
    high:
      first_response: 45m
      approved: 1h30m
      published: 3h
      round_the_clock: true
  teams:
    finance:
      high: {first_response: 15m, approved: 1h, published: 2h}
"""


def test_sla_defaults_and_team_overrides() -> None:
    protocol = parse_protocol(with_sections(SLA))
    low = protocol.sla_for("general", "low")
    assert (low.first_response, low.approved, low.published) == (
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=3),
    )
    assert not low.round_the_clock
    general_high = protocol.sla_for("general", Severity.high)
    assert general_high.approved == timedelta(hours=1, minutes=30) and general_high.round_the_clock
    finance_high = protocol.sla_for("finance", "high")
    assert finance_high.first_response == timedelta(minutes=15) and not finance_high.round_the_clock
    # Severities a team does not override, and severities left out of defaults, keep the defaults.
    assert protocol.sla_for("finance", "low") == low
    assert protocol.sla_for("finance", "medium").first_response == timedelta(hours=4)
    assert protocol.sla_for("unknown-team", "critical").first_response == timedelta(minutes=30)
    with pytest.raises(ValueError):
        protocol.sla_for("finance", "urgent")


def test_bad_sla_durations() -> None:
    text = with_sections("""        sla:
          defaults:
            low: {first_response: 30, approved: 2 hours, published: 0m}
            medium:
              first_response: 1h
              approved: 8h
              round_the_clock: maybe
            high: {first_response: 1h, approved: 4h, published: "1h30"}
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    duration = 'must be a duration such as "30m", "2h", "1d" or "1h30m" (d: days, h: hours, m: minutes)'
    assert found[("sla.defaults.low.first_response", 21)] == duration
    assert found[("sla.defaults.low.approved", 21)] == duration
    assert found[("sla.defaults.low.published", 21)] == "must be longer than zero"
    assert found[("sla.defaults.medium.published", 22)] == "is required"
    assert found[("sla.defaults.medium.round_the_clock", 25)] == "must be true or false"
    assert found[("sla.defaults.high.published", 26)] == duration
    assert len(found) == 6


def test_sla_published_comes_last() -> None:
    text = with_sections("""        sla:
          defaults:
            high:
              first_response: 2h
              approved: 1h
              published: 1h30m
        """)
    field, line, message = only_issue(text)
    assert (field, line) == ("sla.defaults.high.published", 24)
    assert message == "must not be shorter than first_response (2h)"


def test_sla_team_must_exist_and_severities_are_known() -> None:
    text = with_sections(
        SLA + "    legal:\n      urgent: {first_response: 1h, approved: 2h, published: 3h}\n"
    )
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert set(found) == {("sla.teams.legal.urgent", 31)}
    # Once the severity is fixed, the unknown team is reported (cross-section checks run last).
    text = with_sections(SLA + "    legal:\n      high: {first_response: 1h, approved: 2h, published: 3h}\n")
    field, line, message = only_issue(text)
    assert (field, line) == ("sla.teams.legal", 30)
    assert message.startswith('"legal" is not one of the teams defined under teams (finance, general)')


def test_sla_flat_by_severity_is_explained() -> None:
    field, line, message = only_issue(with_sections("sla:\n  high: {first_response: 1h}\n"))
    assert (field, line) == ("sla.high", 20)
    assert message == "is not a known setting (check the spelling; known here: defaults, teams)"


# --- escalation ----------------------------------------------------------------------------------------------


def test_escalation_ladders() -> None:
    protocol = parse_protocol(
        with_sections("""            decision_makers: [U0DM00001]
            escalation:
              critical:
                - at: 25%
                  notify: [owner_or_team, oncall_community_manager]
                - at: "100 %"
                  notify: [decision_makers, decision_makers]
                - at: +90m
                  notify: [oncall_decision_maker]
                - at: +1d
                  notify: [community_managers]
              low: []
            """)
    )
    ladder = protocol.ladder_for("critical")
    assert [s.key for s in ladder] == ["25%", "100%", "+1h30m", "+1d"]
    assert [s.at_fraction for s in ladder] == [0.25, 1.0, None, None]
    assert [s.after_deadline for s in ladder] == [None, None, timedelta(minutes=90), timedelta(days=1)]
    assert ladder[0].notify == ("owner_or_team", "oncall_community_manager")
    assert ladder[1].notify == ("decision_makers",)  # once each
    assert protocol.ladder_for(Severity.low) == ()  # never escalate
    assert [s.key for s in protocol.ladder_for("high")] == ["50%", "100%", "+30m"]  # the default ladder


def test_bad_escalation_steps() -> None:
    text = with_sections("""        escalation:
          high:
            - at: 0.5
              notify: [owner_or_team]
            - at: "0%"
              notify: [team_leads]
            - at: "+soon"
              notify: []
            - notify: [team_lead]
          urgent: []
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("escalation.high[0].at", 21)].startswith('must be a share of the deadline such as "50%"')
    assert ("escalation.high[1].at", 23) in found
    assert found[("escalation.high[1].notify[0]", 24)].startswith("must be 'owner_or_team', 'team_lead'")
    assert ("escalation.high[2].at", 25) in found
    assert found[("escalation.high[2].notify", 26)] == "must list at least 1 entry"
    assert found[("escalation.high[3].at", 27)] == "is required"
    assert "is not a known setting" in found[("escalation.urgent", 28)]
    assert len(found) == 7


def test_escalation_steps_are_unique_and_in_order() -> None:
    text = with_sections("""        escalation:
          high:
            - {at: 50%, notify: [owner_or_team]}
            - {at: +1h, notify: [team_lead]}
            - {at: 100%, notify: [community_managers]}
            - {at: +60m, notify: [community_managers]}
            - {at: +30m, notify: [community_managers]}
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found == {
        ("escalation.high[2].at", 23): (
            'comes before the previous step ("+1h"): list steps in the order they fire, '
            'shares of the deadline ("50%") first, then delays after it ("+30m")'
        ),
        ("escalation.high[3].at", 24): "is the same as step 2: steps must differ",
        ("escalation.high[4].at", 25): (
            'comes before the previous step ("+1h"): list steps in the order they fire, '
            'shares of the deadline ("50%") first, then delays after it ("+30m")'
        ),
    }


def test_escalation_to_decision_makers_needs_some() -> None:
    text = with_sections(
        "escalation:\n  medium:\n    - at: 100%\n      notify: [team_lead, decision_makers]\n"
    )
    field, line, message = only_issue(text)
    assert (field, line) == ("escalation.medium[0].notify[1]", 22)
    assert message == "notifies decision makers, but decision_makers lists nobody"


# --- on-call -------------------------------------------------------------------------------------------------

ONCALL = """community_managers: [U0CM00001, U0CM00002, U0CM00003]
decision_makers: [U0DM00001, U0DM00002]
oncall:
  community_managers:
    rotation: [U0CM00002, U0CM00001]
    starts: 2026-01-05T09:00
  decision_makers:
    rotation: [U0DM00002]
    starts: 2026-01-05 09:00:00
"""


def test_oncall_rotation() -> None:
    protocol = parse_protocol(with_sections(ONCALL).replace("community_managers: [U0CM00001]\n", "", 1))
    rotation = protocol.oncall.community_managers
    assert rotation is not None and rotation.starts == datetime(2026, 1, 5, 9, 0)
    paris = ZoneInfo("Europe/Paris")

    rotation_cm = oncall_rotation(protocol, "community_managers")
    assert rotation_cm is not None

    def on_call(*local: int) -> str | None:
        return oncall.on_call(datetime(*local, tzinfo=paris), rotation_cm)

    assert on_call(2026, 1, 5, 8, 59) is None  # before the first handover
    assert on_call(2026, 1, 5, 9, 0) == "U0CM00002"
    assert on_call(2026, 1, 12, 8, 59) == "U0CM00002"
    assert on_call(2026, 1, 12, 9, 0) == "U0CM00001"
    assert on_call(2026, 1, 19, 9, 0) == "U0CM00002"
    # Handovers keep their local hour across the change to summer time (29 March 2026).
    assert on_call(2026, 3, 30, 8, 59) == "U0CM00001" and on_call(2026, 3, 30, 9, 0) == "U0CM00002"
    at = datetime(2026, 2, 1, tzinfo=UTC)
    rotation_dm = oncall_rotation(protocol, "decision_makers")
    assert oncall.on_call_or_everyone(at, rotation_dm, (), protocol.decision_makers) == ("U0DM00002",)
    assert oncall.on_call_or_everyone(datetime(2025, 1, 1, tzinfo=UTC), rotation_cm, (),
                                      protocol.community_managers) == (
        "U0CM00001",
        "U0CM00002",
        "U0CM00003",
    )
    with pytest.raises(ValueError, match="aware"):
        oncall.on_call_or_everyone(datetime(2026, 2, 1), rotation_dm, (), protocol.decision_makers)


def test_oncall_people_must_hold_the_role() -> None:
    text = with_sections(ONCALL.replace("[U0DM00002]", "[U0DM00002, U0CM00001]")).replace(
        "community_managers: [U0CM00001]\n", "", 1
    )
    field, line, message = only_issue(text)
    assert (field, line) == ("oncall.decision_makers.rotation[1]", 25)
    assert message == "U0CM00001 is not listed under decision_makers: only they can be on call for it"


def test_bad_oncall() -> None:
    text = with_sections("""        oncall:
          community_managers:
            rotation: []
            starts: 2026-01-05
          decision_makers:
            rotation: ["@marie"]
            starts: 2026-01-05T09:00:00+01:00
            every: 1w
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("oncall.community_managers.rotation", 21)] == "must list at least 1 entry"
    assert found[("oncall.community_managers.starts", 22)] == (
        "must be a local date and time written YYYY-MM-DDTHH:MM, such as 2026-01-05T09:00"
    )
    assert "Slack member ID" in found[("oncall.decision_makers.rotation[0]", 24)]
    assert "without a time zone" in found[("oncall.decision_makers.starts", 25)]
    assert "is not a known setting" in found[("oncall.decision_makers.every", 26)]
    assert len(found) == 5


# --- crisis --------------------------------------------------------------------------------------------------


def test_crisis_settings() -> None:
    protocol = parse_protocol(
        with_sections(
            HOLDING
            + """decision_makers: [U0DM00001]
crisis:
  spike: {window: 30m, baseline: 14d, factor: 4, min_mentions: 20}
  high_reach: 250000
  channel: "#crise-armorine"
  sla_factor: 0.25
  approvers: [decision_maker, "team:finance"]
  holding_statement: accuse-reception
"""
        )
    )
    crisis = protocol.crisis
    assert (crisis.spike.window, crisis.spike.baseline) == (timedelta(minutes=30), timedelta(days=14))
    assert (crisis.spike.factor, crisis.spike.min_mentions, crisis.high_reach) == (4.0, 20, 250_000)
    assert crisis.channel == "#crise-armorine" and crisis.sla_factor == 0.25
    assert protocol.holding_statement(crisis.holding_statement or "").key == "accuse-reception"
    assert protocol.required_approvals("general", Severity.low, crisis=True) == (
        "community_manager",
        "decision_maker",
        "team:finance",
    )
    assert protocol.required_approvals("general", Severity.low) == ("community_manager",)
    other = parse_protocol(with_sections("crisis:\n  channel: null\n  channel_prefix: crise-armorine-\n"))
    assert other.crisis.channel is None and other.crisis.channel_prefix == "crise-armorine-"


def test_bad_crisis_settings() -> None:
    text = with_sections("""        crisis:
          spike:
            window: 1h
            baseline: 30m
            factor: 1
            min_mentions: 0
          high_reach: 0
          channel: crise armorine
          channel_prefix: "#crise-"
          sla_factor: 0.01
          approvers: [decision_makers]
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found[("crisis.spike.baseline", 22)] == (
        "must be longer than window (1h): it is the usual rate the window is compared with"
    )
    assert found[("crisis.spike.factor", 23)] == "must be more than 1"
    assert found[("crisis.spike.min_mentions", 24)] == "must be at least 1"
    assert found[("crisis.high_reach", 25)] == "must be at least 1"
    assert "Slack channel ID" in found[("crisis.channel", 26)]
    assert 'without "#"' in found[("crisis.channel_prefix", 27)]
    assert found[("crisis.sla_factor", 28)] == "must be at least 0.05"
    assert '(did you mean "decision_maker"?)' in found[("crisis.approvers[0]", 29)]
    assert len(found) == 8


def test_crisis_cross_checks() -> None:
    text = with_sections("""        crisis:
          approvers:
            - decision_maker
            - "team:legal"
          holding_statement: on-regarde
        """)
    found = {(i.field, i.line): i.message for i in issues_of(text)}
    assert found == {
        ("crisis.approvers[0]", 21): "needs a decision maker, but decision_makers lists nobody",
        ("crisis.approvers[1]", 22): (
            '"legal" is not one of the teams defined under teams (finance, general)'
        ),
        ("crisis.holding_statement", 23): (
            '"on-regarde" is not the key of a holding statement under holding_statements (none)'
        ),
    }


def test_digest_settings_have_defaults_and_read_times() -> None:
    from datetime import time as clock

    base = EXAMPLE_PROTOCOL.read_text(encoding="utf-8").split("\ndigest:")[0]
    assert parse_protocol(base, base_dir=EXAMPLE_PROTOCOL.parent).digest.time == clock(8, 30)
    protocol = parse_protocol(base + "\ndigest:\n  time: 07:45\n  weekly: {day: fri, time: '17:00'}\n",
                              base_dir=EXAMPLE_PROTOCOL.parent)
    assert (protocol.digest.time, protocol.digest.weekly.day, protocol.digest.weekly.time) == (
        clock(7, 45), "fri", clock(17, 0))
    text = base + "\ndigest:\n  time: '25:00'\n"
    line = len(text.splitlines())
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, base_dir=EXAMPLE_PROTOCOL.parent)
    assert typo(f":{line}: digest.time: doit être une heure écrite « HH:MM »") in str(caught.value)  # the example is French


# --- the language of the sentences -----------------------------------------------------------------------------


def test_problems_are_told_in_the_files_language_with_field_and_line() -> None:
    bad = VALID.replace("C0FINANCE1", "veille-finance") + "    every_minutes: 0\n"
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(bad, "protocol.yaml")  # no `language`: French
    assert caught.value.lang == "fr"
    assert str(caught.value).splitlines() == [
        typo("protocol.yaml:9: teams.finance.channel: doit être un identifiant de canal Slack comme C0123ABCD ou "
             'le nom d\'un canal public comme #veille-finance (un nom prend son « # », et alors des guillemets : '
             '"#veille-finance")'),
        "protocol.yaml:19: feeds[0].every_minutes: doit valoir au moins 1",
    ]
    with pytest.raises(ProtocolError) as caught:
        parse_protocol("language: en\n" + bad, "protocol.yaml")  # one line more above
    assert caught.value.lang == "en"
    assert str(caught.value).splitlines() == [
        ("protocol.yaml:10: teams.finance.channel: must be a Slack channel ID such as C0123ABCD or a public "
         'channel name such as #veille-finance (a name needs its "#", and then quotes: "#veille-finance")'),
        "protocol.yaml:20: feeds[0].every_minutes: must be at least 1",
    ]
    assert [i.code for i in caught.value.issues] == ["slack_channel", "greater_than_equal"]


def test_a_language_we_do_not_speak_is_reported_in_french() -> None:
    [issue] = issues_of(VALID + "language: de\n", lang="fr")
    assert (issue.field, issue.line, issue.code) == ("language", 19, "literal_error")
    assert issue.message == "doit valoir 'fr' ou 'en'"
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(VALID + "language: de\n")
    assert caught.value.lang == "fr" and caught.value.issues[0].message == "doit valoir 'fr' ou 'en'"


@pytest.mark.parametrize(
    ("text", "fr", "en"),
    [
        ("version: 1\nteams:\n\tgeneral: {}\n", "contient une tabulation", "uses a tab character"),
        ("language: en\nteams: [a\n", typo("une liste « [...] » ou une section"), 'a list "[...]" or section'),
    ],
)
def test_yaml_problems_are_french_until_the_file_can_be_read(text: str, fr: str, en: str) -> None:
    # The file's language is unknown while its YAML cannot be read: French, or the one asked for.
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "p.yaml")
    [issue] = caught.value.issues
    assert issue.line is not None and str(caught.value).startswith(f"p.yaml:{issue.line}: {fr}")
    assert str(caught.value.in_language("en")).startswith(f"p.yaml:{issue.line}: {en}")


def test_suggestions_and_counts_in_both_languages() -> None:
    text = with_sections("checks:\n  confidential_term: [marge brute]\n")
    [fr] = issues_of(text, lang="fr")
    [en] = issues_of(text, lang="en")
    assert fr.field == en.field == "checks.confidential_term" and fr.code == "extra_forbidden"
    assert fr.message == typo(
        "n'est pas un réglage connu (vérifiez l'orthographe : vouliez-vous dire « confidential_terms » ?)")
    assert en.message == 'is not a known setting (check the spelling: did you mean "confidential_terms"?)'
    [fr] = issues_of(VALID.replace("community_managers: [U0CM00001]", "community_managers: []"), lang="fr")
    assert (fr.field, fr.line, fr.message) == ("community_managers", 2, "doit citer au moins 1 élément")


def test_a_timezone_name_longer_than_a_file_name_is_a_protocol_error() -> None:
    # ZoneInfo raises OSError ("File name too long") for it; found by the protocol fuzz test.
    found = {(i.field, i.line): i.message for i in issues_of(VALID + "timezone: " + "A" * 500 + "\n")}
    assert ("timezone", 19) in found
