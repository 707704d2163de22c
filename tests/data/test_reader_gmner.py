"""GMNER: CoNLL text plus Pascal-VOC boxes attached to entities by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.readers import read_posts
from mner.data.readers.gmner import read_voc_boxes


@pytest.fixture
def posts(fixtures: Path) -> dict:
    return {p.id: p for p in read_posts(fixtures / "gmner" / "dev.txt", "gmner")}


def test_an_entity_gets_all_its_boxes_in_xml_order(posts: dict) -> None:
    entity = posts["G1"].entities[0]
    assert (entity.span, entity.text) == ((0, 2, "MISC"), "Basic Instincts")
    assert entity.boxes == [(41.0, 105.0, 99.0, 379.0), (244.0, 65.0, 310.0, 164.0)]


def test_a_repeated_name_grounds_every_occurrence(posts: dict) -> None:
    messi_1, messi_2, paris = posts["G2"].entities
    assert messi_1.boxes == messi_2.boxes == [(10.0, 20.0, 110.0, 220.0)]
    assert paris.boxes == []  # named in the post, not in the xml


def test_names_are_compared_with_whitespace_collapsed(posts: dict) -> None:
    assert posts["G3"].entities[0].boxes == [(5.0, 5.0, 50.0, 80.0)]


def test_unmatched_box_name_is_dropped_with_a_warning(fixtures: Path, caplog: pytest.LogCaptureFixture) -> None:
    read_posts(fixtures / "gmner" / "dev.txt", "gmner")
    assert "G3.xml:14: box name 'Katy Perry' matches no entity" in caplog.text


def test_no_xml_means_no_grounded_entity(posts: dict) -> None:
    assert [e.boxes for e in posts["G4"].entities] == [[]]


def test_format_is_detected_from_the_xml_folder(fixtures: Path) -> None:
    posts = read_posts(fixtures / "gmner" / "dev.txt")
    assert posts[0].entities[0].boxes  # read as gmner, not plain twitter


def test_missing_xml_folder_is_an_error(fixtures: Path) -> None:
    with pytest.raises(DataFormatError, match="xml"):
        read_posts(fixtures / "twitter.txt", "gmner")


def test_bad_xml_names_the_xml_file_and_line(fixtures: Path) -> None:
    xml = fixtures / "gmner_bad" / "xml" / "B1.xml"
    with pytest.raises(DataFormatError) as caught:
        read_posts(fixtures / "gmner_bad" / "dev.txt", "gmner")
    assert str(caught.value).startswith(f"{xml}:12: bad xml: mismatched tag")


def test_non_numeric_coordinate_names_its_line(fixtures: Path) -> None:
    xml = fixtures / "gmner_bad" / "xml" / "B2.xml"
    with pytest.raises(DataFormatError, match=rf"^{xml}:8: <xmin> of 'Raptors' is not a number"):
        read_voc_boxes(xml)


def test_doctype_is_refused(tmp_path: Path) -> None:
    xml = tmp_path / "x.xml"
    xml.write_text('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY e "boom">]>\n<annotation/>\n')
    with pytest.raises(DataFormatError, match=rf"^{xml}:2: bad xml: a DOCTYPE"):
        read_voc_boxes(xml)


def test_inverted_box_is_refused(tmp_path: Path) -> None:
    xml = tmp_path / "x.xml"
    xml.write_text(
        "<annotation><object><name>A</name><bndbox><xmin>50</xmin><ymin>1</ymin>"
        "<xmax>10</xmax><ymax>9</ymax></bndbox></object></annotation>"
    )
    with pytest.raises(DataFormatError, match="empty or inverted"):
        read_voc_boxes(xml)
