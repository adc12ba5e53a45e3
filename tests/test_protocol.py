from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.models import Severity
from bot.protocol import (
    DEFAULT_NETWORKS,
    EXAMPLE_PROTOCOL,
    LocalizedText,
    Protocol,
    ProtocolError,
    ProtocolIssue,
    load_protocol,
    parse_protocol,
)

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


def issues_of(text: str) -> list[ProtocolIssue]:
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(textwrap.dedent(text), "protocol.yaml")
    return caught.value.issues


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
    assert protocol.max_reply_length("x") == 280 and protocol.max_reply_length("tiktok") == 150
    assert protocol.publishing.mode == "manual"
    waiting = protocol.holding_statement("accuse-reception").text
    assert waiting.get("fr") == "Nous avons bien vu votre message, nous revenons vers vous rapidement."
    assert waiting.get("en")


def test_example_feeds_are_valid_once_uncommented() -> None:
    text = EXAMPLE_PROTOCOL.read_text(encoding="utf-8")
    head, tail = text.split("feeds: []", 1)
    uncommented = "\n".join(line[2:] if line.startswith("#   ") else line for line in tail.splitlines())
    protocol = parse_protocol(head + "feeds:" + uncommented, base_dir=EXAMPLE_PROTOCOL.parent)
    assert [f.name for f in protocol.feeds] == ["google-alerts-armorine", "talkwalker-presse-eco"]
    assert protocol.feeds[1].team == "finance"
    words = {w.casefold() for w in protocol.all_keywords}
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
    field, line, message = only_issue(VALID + "sla: 3\n")
    assert (field, line) == ("sla", 19)
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
    lines = str(caught.value).splitlines()
    assert lines[0] == "protocol.yaml: default_team: is required"
    assert lines[1].startswith("protocol.yaml:9: teams.finance.channel: must be a Slack channel ID")
    assert len(lines) == 2


def test_load_protocol_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text(VALID.replace("C0FINANCE1", "nope"), encoding="utf-8")
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path)
    assert str(caught.value).startswith(f"{path}:9: teams.finance.channel:")


def test_load_protocol_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="cannot be read"):
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


FIXTURE_PROTOCOL = Path(__file__).parent / "fixtures" / "protocol.yaml"


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
    [issue] = caught.value.issues
    return issue.field, issue.line, issue.message


# --- networks ------------------------------------------------------------------------------------------------


def test_networks_are_merged_over_the_defaults() -> None:
    protocol = parse_protocol(with_sections("networks:\n  mastodon: 1000\n  tiktok: 150\n  x: null\n"))
    assert protocol.networks == {**DEFAULT_NETWORKS, "mastodon": 1000, "tiktok": 150, "x": None}
    assert protocol.max_reply_length("TikTok") == 150
    assert protocol.max_reply_length("x") is None
    assert protocol.max_reply_length("bluesky") == 300
    assert protocol.max_reply_length("myspace") is None  # unknown networks use "other"
    with_other = parse_protocol(with_sections("networks: {other: 500}\n"))
    assert with_other.max_reply_length("myspace") == 500


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
