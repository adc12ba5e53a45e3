"""Every vendor fixture (tests/fixtures/exports, see SOURCES.md) imports without --map, exactly as expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.intake.files import LineError, read_mentions
from bot.intake.presets import PRESETS, detect_preset, find_header, join_author, join_text, list_presets

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
FIXTURES = sorted(path for path in EXPORTS.glob("*/*.csv"))


def _read(path: Path, **extra):
    options = json.loads(path.with_suffix(".options.json").read_text())
    with read_mentions(path, default_timezone=options["timezone"], date_order=options["date_order"],
                       preset=options["preset"], skip_rows=options["skip_rows"], lang="en", **extra) as reader:
        items = [item for _, item in reader]
    return reader, items


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_fixture_reads_as_expected(path: Path):
    expected = [json.loads(line) for line in path.with_suffix(".expected.jsonl").read_text().splitlines()]
    reader, items = _read(path)
    assert reader.preset is not None and reader.preset.name == path.parent.name
    assert len(items) == len(expected)
    for number, (item, want) in enumerate(zip(items, expected, strict=True), start=1):
        if "error" in want:
            assert isinstance(item, LineError), (number, want["error"], item)
            continue
        assert not isinstance(item, LineError), (number, item)
        got = item.model_dump(mode="json")
        got["url"] = str(item.url)
        got["published_at"] = item.published_at.isoformat()
        assert {key: got[key] for key in want} == want, number


def test_every_vendor_has_a_fixture_and_a_source():
    assert {path.parent.name for path in FIXTURES} == {preset.name for preset in PRESETS}
    assert all(preset.source_note for preset in PRESETS)


def test_detection_most_specific_first_and_generic_otherwise():
    assert detect_preset(["Date (GMT)", "Post", "Post URL", "Author"]).name == "hootsuite"
    assert detect_preset(["date", "url", "text", "author"]) is None
    assert find_header(["Report:,Mentions", "", "date,url,text"]) == 2
    assert find_header(["nothing here", "at all"]) == 0


def test_forced_preset_and_unknown_preset(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Date (GMT),Post,Post URL\n2026-11-21 08:30,Bonjour,https://a.example/1\n")
    mapping = {"text": "Post", "url": "Post URL", "published_at": "Date (GMT)"}
    reader, items = _read_with(path, preset="generic", mapping=mapping)
    assert reader.preset is None and not isinstance(items[0], LineError)
    assert items[0].published_at.isoformat() == "2026-11-21T07:30:00+00:00"  # generic: Paris time
    reader, items = _read_with(path)
    assert reader.preset.name == "hootsuite" and items[0].published_at.isoformat() == "2026-11-21T08:30:00+00:00"
    with pytest.raises(ValueError, match="unknown preset"):
        _read_with(path, preset="nope")


def _read_with(path, **options):
    with read_mentions(path, source="test", lang="en", **options) as reader:
        items = [item for _, item in reader]
    return reader, items


def test_skip_rows_and_ignore(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("junk,junk\nmore junk\nDate,Texte,Lien,Auteur\n"
                    "21/11/2026 09:30,Bonjour,https://a.example/1,Bob\n")
    _, items = _read_with(path, skip_rows=2, ignore=["Auteur"])
    assert items[0].author == "a.example"  # the author column was left out: the link's host stands in
    _, items = _read_with(path)
    assert items[0].author == "Bob"


def test_utf16_with_bom_is_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("date\ttext\turl\r\n2026-11-21 09:30\tÉté\thttps://a.example/1\r\n".encode("utf-16"))
    _, items = _read_with(path)
    assert items[0].text == "Été"


def test_ambiguous_dates_refused_without_order(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("date,text,url\n05/11/2026 09:30,a,https://a.example/1\n")
    _, items = _read_with(path)
    assert isinstance(items[0], LineError) and "--date-order" in items[0].message
    _, items = _read_with(path, date_order="mdy")
    assert items[0].published_at.isoformat() == "2026-05-11T07:30:00+00:00"


def test_text_and_author_joins():
    assert join_text("Title", "Body") == "Title\n\nBody"
    assert join_text("Tweet", "Tweet") == "Tweet" and join_text("", "Body") == "Body"
    assert join_author("Julien R.", "@julien_r75") == "Julien R. (@julien_r75)"
    assert join_author("", "julien_r75") == "julien_r75" and join_author("kettlehead", "kettlehead") == "kettlehead"


def test_list_presets_names_columns():
    rows = {name: columns for name, _, columns in list_presets()}
    assert rows["brandwatch"]["reach"] == ("Reach (new)", "Reach") and "generic" in rows


def test_cli_lists_the_presets_with_their_columns():
    from typer.testing import CliRunner

    from bot.cli import app

    result = CliRunner().invoke(app, ["import", "--list-presets"])
    assert result.exit_code == 0
    assert all(preset.name in result.output for preset in PRESETS) and "Reach (new)" in result.output
