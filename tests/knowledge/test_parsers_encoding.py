"""Short text files in single-byte codepages: Cyrillic, Greek and Hebrew read as words, Western stays Western."""

from __future__ import annotations

import pytest

from assistant.knowledge.parsers import parse_file
from tests.knowledge.corpus import assert_valid_document


def parse(tmp_path, data: bytes):
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    doc = parse_file(path)
    assert_valid_document(doc)
    return doc


RUSSIAN = [
    "Договор аренды помещения на один год.",
    "Договор аренды",
    "Привет",
    "ДОГОВОР",
    "Да",
    "Москва, ул. Ленина, д. 5, кв. 12",
    "Счёт 15 от 3 мая.\nИтого: 1200 руб.",
]


# charset-normalizer read these as Big5, cp932 or Shift JIS ("Привет" as "砎魤殣").
@pytest.mark.parametrize("codec", ["cp1251", "koi8_r"])
@pytest.mark.parametrize("note", RUSSIAN)
def test_short_russian_notes(tmp_path, note, codec):
    doc = parse(tmp_path, note.encode(codec))
    assert (doc.text, doc.encoding) == (note, codec)


@pytest.mark.parametrize(
    "note",
    ["Счёт № 15 от 3 мая.\nИтого: «1200» руб.", "Привіт, як справи?", "Договір оренди", "Здравей, свят"],
)
def test_short_windows_1251_notes_with_symbols_ukrainian_and_bulgarian(tmp_path, note):
    assert parse(tmp_path, note.encode("cp1251")).text == note


GREEK = [
    "Η σύμβαση μίσθωσης ισχύει για ένα έτος.",
    "Καλημέρα σας",
    "Άρθρο 5",  # Ά is a different byte in each codepage
    "Αθήνα, Ελλάδα",
    "Λογαριασμός ρεύματος",
]


@pytest.mark.parametrize("codec", ["cp1253", "iso8859_7"])
@pytest.mark.parametrize("note", GREEK)
def test_short_greek_notes(tmp_path, note, codec):
    # Text without Ά is the same bytes in both codepages, so either name is right for it.
    assert parse(tmp_path, note.encode(codec)).text == note


def test_greek_with_a_euro_sign_is_not_western(tmp_path):
    # windows-1252 read it as "ÔéìÞ: 12 €".
    assert parse(tmp_path, "Τιμή: 12 €".encode("cp1253")).text == "Τιμή: 12 €"


@pytest.mark.parametrize(
    "note",
    [
        "החוזה בתוקף לשנה אחת.",  # was read as windows-1251: "дзежд бъечу мщрд азъ."
        "שלום עולם",
        "שלום",
        "תודה רבה",
        "חשבונית מס׳ 15, סה״כ 1200 ₪",
        "רשימת קניות: לחם וחלב",
        "שָׁלוֹם",  # pointed: was read as EBCDIC
    ],
)
def test_short_hebrew_notes(tmp_path, note):
    doc = parse(tmp_path, note.encode("cp1255"))
    assert (doc.text, doc.encoding) == (note, "cp1255")


@pytest.mark.parametrize(
    "note",
    [
        "Grüße aus Köln",
        "Ça coûte 5 € à l'hôtel.",
        "Rendez-vous à midi",  # one accented word, which reads as Cyrillic "а" on its own
        "Señor Muñoz, año 2024",
        "Åsa Öberg, Göteborg",
        "São Paulo é ótimo",
        "Ørsted Æble",
    ],
)
def test_short_western_notes_stay_windows_1252(tmp_path, note):
    doc = parse(tmp_path, note.encode("cp1252"))
    assert (doc.text, doc.encoding) == (note, "cp1252")


@pytest.mark.parametrize(
    ("note", "codec"),
    [("Příliš žluťoučký kůň", "cp1250"), ("Zażółć gęślą jaźń", "cp1250"), ("한국어 문서", "euc_kr")],
)
def test_other_short_notes_are_not_taken_for_cyrillic_greek_or_hebrew(tmp_path, note, codec):
    assert parse(tmp_path, note.encode(codec)).text == note


def test_a_pasted_windows_1252_letter_and_quote_inside_utf8_text_are_both_kept():
    from assistant.knowledge.parsers.text import decode_text

    data = "Mixed: café and naïve. ".encode() + b"caf\xe9\x92s menu. More caf\xc3\xa9 text and na\xc3\xafve too."
    assert decode_text(data) == ("Mixed: café and naïve. café’s menu. More café text and naïve too.", "utf-8")
