"""CSV and JSON Lines imports: real-world export quirks, line numbers a human can find, no crash on bad data."""

from __future__ import annotations

import csv
import functools
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.intake import files
from bot.intake.files import (
    ImportProblem,
    LineError,
    parse_published_at,
    parse_reach,
    parse_tags,
)
from bot.intake.schema import MentionIn
from tests.typography import fr

PARIS = ZoneInfo("Europe/Paris")

# The sentences below are checked in English (`vigie import` with an English protocol); the default, French,
# is checked by the tests of languages at the end.
read_mentions = functools.partial(files.read_mentions, lang="en")
parse_mapping = functools.partial(files.parse_mapping, lang="en")


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def mentions_of(items: list[tuple[int, MentionIn | LineError]]) -> list[MentionIn]:
    return [item for _, item in items if isinstance(item, MentionIn)]


# --- CSV ---------------------------------------------------------------------------------------------------

FRENCH_EXCEL = (
    "Date;Auteur;Contenu;Lien;Portée;Réseau;Tags\r\n"
    "21/11/2026 09:30;Marie Dupont;Acme ouvre une usine à Lyon;https://www.leprogres.fr/acme;12 500;presse;usine|lyon\r\n"
    '21/11/2026 10:05;@jeanmartin75;"Commande jamais arrivée\r\n""3 semaines"" d\'attente;\r\nmerci @acme";'
    "https://x.com/jeanmartin75/status/1;1,2K;twitter;sav\r\n"
    "2026-11-21 11:00:00;;Avis sur le X200 ?;https://forum.example.org/t/48213;;forum;\r\n"
    "hier;Paul;Rappel;https://example.com/rappel;beaucoup;presse;\r\n"
    ";;;;;;\r\n"
    "2026-07-14T08:00:00Z;Léa;Défilé;https://example.com/defile;1.2M;instagram;fête, été\r\n"
)


def test_french_excel_export_with_bom_semicolons_and_multiline_text(tmp_path: Path) -> None:
    path = write(tmp_path / "export.csv", FRENCH_EXCEL, encoding="utf-8-sig")
    reader = read_mentions(path)
    items = list(reader)

    assert [line for line, _ in items] == [2, 3, 6, 7, 9]  # the quoted text spans lines 3-5; line 8 is empty
    usine, commande, avis, rappel, defile = (item for _, item in items)

    assert isinstance(usine, MentionIn)
    assert usine.published_at == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)  # 09:30 in Paris, winter
    assert (usine.author, usine.reach, usine.source, usine.tags) == (
        "Marie Dupont",
        12_500,
        "presse",
        ["usine", "lyon"],
    )
    assert usine.external_id == "https://www.leprogres.fr/acme"  # no id column: the url

    assert isinstance(commande, MentionIn)
    assert commande.text == 'Commande jamais arrivée\n"3 semaines" d\'attente;\nmerci @acme'
    assert commande.reach == 1_200

    assert isinstance(avis, MentionIn)
    assert avis.author == "forum.example.org"  # empty author cell: the link's host
    assert avis.reach is None and avis.tags == []

    assert rappel == LineError(
        7,
        "published_at: 'hier' is not a date (expected ISO 8601 such as 2026-11-21T09:30:00+01:00, "
        "or 21/11/2026 09:30); reach: 'beaucoup' is not an audience size "
        "(expected a number such as 12500, 12 500, 12,5K or 1.2M)",
    )

    assert isinstance(defile, MentionIn)
    assert defile.published_at == datetime(2026, 7, 14, 8, 0, tzinfo=UTC)
    assert (defile.reach, defile.tags) == (1_200_000, ["fête", "été"])

    assert "no id column: each mention's url is used as its id" in reader.warnings
    assert not any("UTF-8" in warning for warning in reader.warnings)


def test_windows_1252_export_is_read_with_a_warning(tmp_path: Path) -> None:
    text = (
        "date,author,text,url\n2026-11-21 09:30,Zoé,Café trop cher – l’été est fini,https://example.com/c\n"
    )
    path = write(tmp_path / "old-excel.csv", text, encoding="cp1252")
    reader = read_mentions(path, source="brandwatch")
    ((line, mention),) = list(reader)

    assert line == 2
    assert isinstance(mention, MentionIn)
    assert (mention.author, mention.text) == ("Zoé", "Café trop cher – l’été est fini")
    assert any(
        w.startswith("line 2 is not valid UTF-8: read it, and any other such line, as Windows-1252")
        for w in reader.warnings
    )


def test_tab_separated_file_and_source_argument(tmp_path: Path) -> None:
    text = (
        "Post ID\tPublished At\tFull Text\tSnippet\tURL\tNetwork\n"
        "991\t2026-11-21T09:30:00+01:00\tLe texte complet\tLe texte…\thttps://example.com/1\t\n"
        "992\t2026-11-21T09:31:00+01:00\tAutre texte\tAutre…\thttps://example.com/2\tlinkedin\n"
    )
    items = list(read_mentions(write(tmp_path / "brandwatch.tsv", text), source="brandwatch"))
    first, second = mentions_of(items)

    assert (first.external_id, first.text, first.source) == ("991", "Le texte complet", "brandwatch")
    assert second.source == "linkedin"  # a row's own source wins over the argument


def test_mapping_overrides_column_recognition(tmp_path: Path) -> None:
    text = (
        "Posted,Author Name,Content,Permalink,Message\n"
        "21/11/2026 09:30,Marie,Le vrai texte,https://example.com/m,pas celui-ci\n"
    )
    mapping = parse_mapping(["text=Content", "author=Author Name", "url=Permalink", "published_at=Posted"])
    reader = read_mentions(write(tmp_path / "custom.csv", text), mapping=mapping, source="meltwater")
    (mention,) = mentions_of(list(reader))

    assert (mention.text, mention.author, str(mention.url)) == (
        "Le vrai texte",
        "Marie",
        "https://example.com/m",
    )
    assert "columns not used: Message" in reader.warnings


def test_bad_lines_report_every_faulty_field_and_reading_goes_on(tmp_path: Path) -> None:
    text = (
        "id,date,author,text,url,reach,language\n"
        "1,2026-11-21T09:30:00Z,A,ok,https://example.com/1,,fr\n"
        "2,31/02/2026 10:00,B,  ,not a link,-5,klingon\n"
        '3,2026-11-21T09:30:00Z,C,a;b,https://example.com/3,"12,500",EN-gb,extra\n'
        "4,2026-11-21T09:30:00Z,D,ok,https://example.com/4,10,\n"
    )
    items = list(read_mentions(write(tmp_path / "bad.csv", text), source="csv"))

    assert [line for line, _ in items] == [2, 3, 4, 5]
    error = items[1][1]
    assert isinstance(error, LineError) and error.line == 3
    parts = error.message.split("; ")
    assert [part.split(":")[0] for part in parts] == ["published_at", "language", "reach", "url", "text"]
    assert "'-5' is not an audience size" in parts[2]
    assert parts[4] == "text: is required"  # the cell is blank
    assert items[2][1] == LineError(4, "8 cells but the header has 7 (an unquoted ',' in a text?)")
    last = items[3][1]
    assert isinstance(last, MentionIn) and last.reach == 10 and last.language is None


def test_a_whole_file_problem_is_one_clear_value_error(tmp_path: Path) -> None:
    no_url = write(tmp_path / "no-url.csv", "date,text,author\n2026-11-21,x,y\n")
    with pytest.raises(ValueError, match=r"no column for url \(looked for: url, link, lien, permalink\)"):
        list(read_mentions(no_url, source="s"))
    with pytest.raises(ValueError, match="no column for source"):
        list(read_mentions(write(tmp_path / "ok.csv", "date,text,url\n2026-11-21,x,https://e.com\n")))
    with pytest.raises(ValueError, match="column 'Texte' \\(mapped to text\\) is not in the file"):
        list(read_mentions(tmp_path / "ok.csv", mapping={"text": "Texte"}, source="s"))
    with pytest.raises(ValueError, match="cannot tell the format"):
        read_mentions(tmp_path / "export.xlsx")
    with pytest.raises(ValueError, match="unknown time zone"):
        read_mentions(tmp_path / "ok.csv", default_timezone="Paris")
    utf16 = tmp_path / "unicode.csv"
    utf16.write_bytes("date\ttext\turl\n2026-11-21,x,https://e.com\n".encode("utf-16"))
    # Issue 14: a UTF-16 file with its BOM is read, no longer refused.
    assert [line for line, _ in read_mentions(utf16, source="s")] == [2]


def test_streams_are_read_lazily_and_text_streams_work(tmp_path: Path) -> None:
    row = (
        "2026-11-21T09:30:00Z,quelqu'un,un texte assez long pour remplir le fichier,https://example.com/{}\n"
    )
    content = ("date,author,text,url\n" + "".join(row.format(i) for i in range(50_000))).encode()
    stream = io.BytesIO(content)
    reader = read_mentions(stream, fmt="csv", source="s")

    line, first = next(reader)
    assert line == 2 and isinstance(first, MentionIn)
    assert stream.tell() < len(content) // 10  # not slurped
    reader.close()
    assert not stream.closed  # the caller's stream stays the caller's

    text_stream = io.StringIO("\ufeffdate;text;url\n2026-11-21;bonjour;https://example.com/t\n")
    assert [m.text for m in mentions_of(list(read_mentions(text_stream, fmt="csv", source="s")))] == [
        "bonjour"
    ]


# --- JSON Lines ----------------------------------------------------------------------------------------------


def test_jsonl_broken_line_is_reported_at_its_line_and_the_next_lines_are_read(tmp_path: Path) -> None:
    lines = [
        {
            "id": 101,
            "source": "talkwalker",
            "url": "https://example.com/1",
            "text": "un",
            "published": "2026-11-21T09:30:00+01:00",
        },
        {
            "id": "102",
            "source": "talkwalker",
            "url": "https://example.com/2",
            "content": "deux",
            "date": 1795298400000,
        },
        '{"id": "103", "url": "https://example.com/3", "text": "trois",',
        {
            "id": "104",
            "source": "x",
            "url": "https://example.com/4",
            "text": "quatre",
            "date": "2026-11-21",
            "tags": ["a", "b", "a"],
        },
        "",
        "[1, 2]",
        {
            "id": "105",
            "network": "tiktok",
            "link": "https://example.com/5",
            "message": "cinq",
            "created_at": "2026-11-21 10:00:00",
            "followers": "3,4K",
        },
    ]
    content = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    items = list(read_mentions(write(tmp_path / "export.ndjson", content + "\n")))

    assert [line for line, _ in items] == [1, 2, 3, 4, 6, 7]
    one, two, broken, four, not_object, five = (item for _, item in items)
    assert isinstance(one, MentionIn) and one.external_id == "101"
    assert isinstance(two, MentionIn) and two.published_at == datetime(
        2026, 11, 21, 22, 0, tzinfo=UTC
    )  # epoch ms
    assert broken == LineError(
        3, "not valid JSON (Expecting property name enclosed in double quotes at column 63)"
    )
    assert isinstance(four, MentionIn) and four.tags == ["a", "b"]
    assert four.published_at == datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # midnight in Paris
    assert not_object == LineError(6, "expected a JSON object {...}, got a list")
    assert isinstance(five, MentionIn)
    assert (five.source, five.text, five.reach, five.author) == ("tiktok", "cinq", 3_400, "example.com")


def test_jsonl_mapping_can_reach_into_nested_objects(tmp_path: Path) -> None:
    record = {
        "data": {"url": "https://x.com/a/status/9", "content": "nested", "published": "2026-11-21T10:00:00Z"},
        "user": {"screen_name": "acme_fan"},
    }
    mapping = parse_mapping(
        ["url=data.url", "text=data.content", "published_at=data.published", "author=user.screen_name"]
    )
    path = write(tmp_path / "api.jsonl", json.dumps(record) + "\n")
    ((line, mention),) = list(read_mentions(path, mapping=mapping, source="talkwalker"))

    assert line == 1 and isinstance(mention, MentionIn)
    assert (mention.author, mention.text, mention.external_id) == (
        "acme_fan",
        "nested",
        "https://x.com/a/status/9",
    )


# --- options and value parsers ------------------------------------------------------------------------------


def test_parse_mapping() -> None:
    assert parse_mapping([" text = Content ", "author=Author Name", "url=a=b"]) == {
        "text": "Content",
        "author": "Author Name",
        "url": "a=b",
    }
    with pytest.raises(ValueError, match="'body' is not a Vigie field; use one of source, external_id, url"):
        parse_mapping(["body=Content"])
    with pytest.raises(ValueError, match="should look like field=Column"):
        parse_mapping(["text"])
    with pytest.raises(ValueError, match="should look like field=Column"):
        parse_mapping(["text="])
    with pytest.raises(ValueError, match="text is already mapped to 'A'"):
        parse_mapping(["text=A", "text=B"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-21T09:30:00+01:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-11-21T09:30:00Z", datetime(2026, 11, 21, 9, 30, tzinfo=UTC)),
        ("2026-11-21 09:30:00", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("2026-07-21 09:30", datetime(2026, 7, 21, 7, 30, tzinfo=UTC)),  # summer time: +02:00
        ("21/11/2026 09:30", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("21/11/2026 09:30:15", datetime(2026, 11, 21, 8, 30, 15, tzinfo=UTC)),
        ("21/11/2026", datetime(2026, 11, 20, 23, 0, tzinfo=UTC)),
        ("Sat, 21 Nov 2026 09:30:00 +0000", datetime(2026, 11, 21, 9, 30, tzinfo=UTC)),
        (1795251000, datetime(2026, 11, 21, 8, 50, tzinfo=UTC)),
        (1795251000000, datetime(2026, 11, 21, 8, 50, tzinfo=UTC)),
    ],
)
def test_parse_published_at(raw: object, expected: datetime) -> None:
    assert parse_published_at(raw, PARIS) == expected


@pytest.mark.parametrize(
    "raw", ["hier", "01/02/2026 09:30", "2026-13-01", "", True, "0001-01-01T00:00:00+05:00"]
)
def test_parse_published_at_refuses_non_dates(raw: object) -> None:
    with pytest.raises(ImportProblem) as caught:  # a ValueError, told in French unless asked otherwise
        parse_published_at(raw, PARIS)
    assert any(words in str(caught.value) for words in ("n'est pas une date", "est hors limites", "un texte était attendu",
                                                    "se lit jour/mois"))
    assert any(words in caught.value.message("en") for words in ("is not a date", "is out of range", "expected text",
                                                                   "reads as day/month"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12500", 12_500),
        ("12 500", 12_500),
        ("12\u202f500", 12_500),  # French Excel's narrow no-break space
        ("12.500", 12_500),
        ("12,500", 12_500),
        ("1.234.567", 1_234_567),
        ("12,5K", 12_500),
        ("12.5k", 12_500),
        ("1.2M", 1_200_000),
        ("3B", 3_000_000_000),
        ("12500.0", 12_500),
        (42, 42),
        (42.0, 42),
    ],
)
def test_parse_reach(raw: object, expected: int) -> None:
    assert parse_reach(raw) == expected


@pytest.mark.parametrize("raw", ["beaucoup", "12,5", "1.2", "-3", "12 k m", 4.5, True])
def test_parse_reach_refuses_what_is_not_a_count(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_reach(raw)


def test_parse_tags() -> None:
    assert parse_tags("crise; rappel|presse,crise, ") == ["crise", "rappel", "presse"]
    assert parse_tags(["a", " b ", "a", ""]) == ["a", "b"]


# --- properties: whatever the rows hold, one item per record, at the right line --------------------------------

cell = st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=30)
value = st.one_of(
    cell,
    st.sampled_from(
        ["2026-11-21T09:30:00Z", "21/11/2026 09:30", "12,5K", "https://example.com/x", "a|b", "fr"]
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(value, min_size=6, max_size=6), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_random_csv_rows_each_give_one_item_at_their_line(
    rows: list[list[str]], delimiter: str, newline: str
) -> None:
    header = ["id", "date", "text", "url", "reach", "tags"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    expected_lines: list[int] = []
    line = 2
    for row in rows:
        start = out.tell()
        writer.writerow(row)
        if any(c.strip() for c in row):  # blank records are skipped, by design
            expected_lines.append(line)
        line += out.getvalue()[start:].count("\n")

    items = list(read_mentions(io.BytesIO(out.getvalue().encode()), fmt="csv", source="prop"))

    assert [n for n, _ in items] == expected_lines
    for number, item in items:
        assert isinstance(item, (MentionIn, LineError))
        if isinstance(item, LineError):
            assert item.line == number and item.message


json_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    cell,
    st.lists(cell, max_size=3),
    st.dictionaries(cell, cell, max_size=2),
)
json_record = st.dictionaries(
    st.sampled_from(["id", "source", "url", "text", "date", "author", "reach", "tags", "language", "other"]),
    json_value,
)
raw_line = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=40)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(json_record.map(json.dumps), raw_line), max_size=12))
def test_random_jsonl_lines_each_give_one_item_at_their_line(lines: list[str]) -> None:
    content = "".join(line + "\n" for line in lines).encode()

    items = list(read_mentions(io.BytesIO(content), fmt="jsonl", source="prop"))

    assert [n for n, _ in items] == [i for i, line in enumerate(lines, start=1) if line.strip()]
    assert all(isinstance(item, (MentionIn, LineError)) for _, item in items)


# --- languages -------------------------------------------------------------------------------------------------


def test_a_bad_row_is_told_in_french_by_default_and_in_english_when_asked(tmp_path: Path) -> None:
    text = (
        "id,date,author,text,url,reach\n"
        "1,2026-11-21T09:30:00Z,A,ok,https://example.com/1,\n"
        "2,hier,B,ok,https://example.com/2,beaucoup\n"
    )
    path = write(tmp_path / "export.csv", text)
    [(_, ok), (line, french)] = list(files.read_mentions(path, source="csv"))
    assert isinstance(ok, MentionIn) and line == 3
    assert french == LineError(
        3,
        fr("published_at : 'hier' n'est pas une date (attendu : ISO 8601 comme 2026-11-21T09:30:00+01:00, ou "
           "21/11/2026 09:30) ; reach : 'beaucoup' n'est pas une audience (attendu : un nombre comme 12500, "
           "12 500, 12,5K ou 1.2M)"),
    )
    [_, (line, english)] = list(files.read_mentions(path, source="csv", lang="en"))
    assert line == 3 and english == LineError(
        3,
        "published_at: 'hier' is not a date (expected ISO 8601 such as 2026-11-21T09:30:00+01:00, or "
        "21/11/2026 09:30); reach: 'beaucoup' is not an audience size (expected a number such as 12500, "
        "12 500, 12,5K or 1.2M)",
    )
    no_id = write(tmp_path / "no-id.csv", "date,text,url,author,Note\n2026-11-21,x,https://example.com/1,a,n\n")
    for lang, expected in [
        ("fr", [fr("pas de colonne d'identifiant : l'url de chaque mention lui sert d'identifiant"),
                fr("colonnes non utilisées : Note")]),
        ("en", ["no id column: each mention's url is used as its id", "columns not used: Note"]),
    ]:
        reader = files.read_mentions(no_id, source="csv", lang=lang)
        assert [type(item) for _, item in reader] == [MentionIn]
        assert reader.warnings == expected


def test_whole_file_and_map_problems_in_both_languages(tmp_path: Path) -> None:
    no_url = write(tmp_path / "no-url.csv", "date,text,author\n2026-11-21,x,y\n")
    with pytest.raises(ImportProblem) as caught:
        list(files.read_mentions(no_url, source="s"))
    assert str(caught.value).startswith(
        fr("aucune colonne pour url (cherché : url, link, lien, permalink). Les colonnes sont : date, text, author."))
    assert caught.value.message("en").startswith(
        "no column for url (looked for: url, link, lien, permalink). Columns are: date, text, author.")
    with pytest.raises(ValueError, match="la correspondance 'text' doit s'écrire champ=Colonne"):
        files.parse_mapping(["text"])
    with pytest.raises(ValueError, match="mapping 'text' should look like field=Column"):
        files.parse_mapping(["text"], lang="en")
