"""Text in Latin single-byte codepages other than windows-1252 (Central European, Baltic, Turkish,
Mac Roman), and UTF-8 files with a few single-byte words in them."""

from __future__ import annotations

import pytest

from assistant.knowledge.parsers import parse_file
from assistant.knowledge.parsers.text import decode_text
from tests.knowledge.corpus import assert_valid_document


def parse(tmp_path, data: bytes, name: str = "note.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    doc = parse_file(path)
    assert_valid_document(doc)
    return doc


CZECH = "Nájemce je povinen zaplatit nájemné do pátého dne měsíce. Smlouva se řídí českým právem."
POLISH = "Najemca zobowiązuje się płacić czynsz do piątego dnia miesiąca. Umowa podlega prawu polskiemu."
CZECH_LEASE = (
    "Nájemní smlouva č. 2024/17. Pronajímatel Jiří Dvořák, bytem Brno, Údolní 12, a nájemce Petra "
    "Nováková uzavírají tuto smlouvu.\n\nNájemné činí 25 000 Kč měsíčně a je splatné vždy do pátého "
    "dne měsíce. Záloha na služby (voda, teplo, úklid) činí 3 500 Kč.\n\nŽádná ze stran nesmí smlouvu "
    "vypovědět dříve než po uplynutí jednoho roku. Spory řeší příslušný soud v Brně.\n"
)
POLISH_LEASE = (
    "Umowa najmu lokalu mieszkalnego zawarta w Łodzi dnia 3 marca 2024 r. pomiędzy Żanetą Wąsowską a "
    "Grzegorzem Brzęczyszczykiewiczem.\n\nCzynsz wynosi 2 500 zł miesięcznie i płatny jest z góry do "
    "dziesiątego dnia każdego miesiąca. Kaucja zwrotna wynosi dwukrotność czynszu.\n\nŚwiadczenia za "
    "media rozlicza się kwartalnie. Spory rozstrzyga sąd właściwy dla położenia nieruchomości.\n"
)


@pytest.mark.parametrize(
    ("note", "codec"),
    [
        # QA's files: windows-1250 read as windows-1252 gave "Jiøí Dvoøák", "£odzi", "¯aneta W¹sowska".
        ("Nájemní smlouva: pronajímatel Jiří Dvořák, Brno, částka 25 000 Kč.", "cp1250"),
        ("Umowa najmu zawarta w Łodzi przez Żaneta Wąsowska.", "cp1250"),
        (CZECH, "cp1250"),
        (POLISH, "cp1250"),
        (CZECH_LEASE, "cp1250"),
        (POLISH_LEASE, "cp1250"),
        ("Nájomca je povinný zaplatiť nájomné do piateho dňa v mesiaci.", "cp1250"),
        ("A bérlő köteles a bérleti díjat a hónap ötödik napjáig megfizetni. Győr, Szőlő utca.", "cp1250"),
        ("Najmoprimac je dužan platiti najamninu do petog dana u mjesecu. Đakovo, Čakovec.", "cp1250"),
        ("Chiriaşul este obligat să plătească chiria până în a cincea zi a lunii.", "cp1250"),
        # The same letters on Unix (ISO-8859-2): š, ž and ą are other bytes than in windows-1250.
        (CZECH + " Šťastný, žádný.", "iso8859_2"),
        (POLISH_LEASE, "iso8859_2"),
        ("Kiracı kirayı her ayın beşinci gününe kadar ödemekle yükümlüdür. İstanbul, Şişli.", "cp1254"),
        # Old Mac files: windows-1252 read "Grš§e der FlŠche", "†bergabe".
        ("Größe der Fläche: 120 qm, Übergabe am 1. März.", "mac_roman"),
        ("Le délai de préavis est fixé à trois mois; l'indemnité s'élève à 2 000 €.", "mac_roman"),
        ("El año próximo, señor Muñoz.", "mac_roman"),
    ],
)
def test_latin_codepages_read_as_their_own_letters(tmp_path, note, codec):
    doc = parse(tmp_path, note.encode(codec))
    assert (doc.text, doc.encoding) == (note.strip(), codec)


WESTERN = [
    "Le délai de préavis est fixé à trois mois; l'indemnité s'élève à 2 000 €.",
    "Il contratto è valido fino al 31 dicembre; la caparra è già stata versata.",
    "El arrendatario pagará la renta antes del día cinco. Año 2024, señal de 500 €.",
    "O inquilino obriga-se a pagar a renda até ao quinto dia de cada mês, não havendo exceções.",
    "De huurder betaalt de huur vóór de vijfde dag; één maand opzegtermijn.",
    "Hyresgästen ska betala hyran före den femte dagen i varje månad. Malmö.",
    "Lejeren skal betale lejen før den femte dag i hver måned. Århus, Ærø.",
    "Leigjandi skal greiða leigu fyrir fimmta dag hvers mánaðar. Þórður Sæmundsson.",
    "Dr. José Muñoz Pérez und Jürgen Weiß trafen sich in Zürich.",
    "Müller & Söhne, Café Crème, Hôtel Ørsted",
    "Zahlung: 1.250,00 €; Skonto 2 %. Nº 5, 1ª parte, 3º andar. Dosis 5 µg, 37 °C, 12 m², ± 3 %.",
    "Ordre du jour : « budget », « travaux »… Approuvé à l’unanimité.",
    "FRAU SCHRÖDER, STRAßE 5, GRÜNWALD",
    # Smart quotes and dashes only: charset-normalizer took this for Mac Icelandic ("Itís ìgreatî").
    "It’s a “great” deal — isn’t it? Price: £5, ½ off, 20°C, § 5, © 2024 ACME™",
]


@pytest.mark.parametrize("note", WESTERN)
def test_western_text_stays_windows_1252(tmp_path, note):
    doc = parse(tmp_path, note.encode("cp1252"))
    assert (doc.text, doc.encoding) == (note, "cp1252")


@pytest.mark.parametrize(
    ("note", "codec"),
    [
        ("Kč", "cp1250"),  # "Kè" is French or Italian too
        ("Café", "mac_roman"),  # "CafŽ": one odd letter is not enough
        ("søndag", "mac_roman"),  # windows-1250's "sżndag" reads as well as Mac Roman's: a tie
    ],
)
def test_weak_evidence_leaves_windows_1252(tmp_path, note, codec):
    assert parse(tmp_path, note.encode(codec)).encoding == "cp1252"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # QA's file: one UTF-8 letter and one Latin-1 letter; it was read wholly as Latin-1 ("MÃ¼ller").
        (
            "Müller (utf8) und ".encode() + "Schröder (latin1)".encode("latin-1"),
            "Müller (utf8) und Schröder (latin1)",
        ),
        ("Café ".encode() + "crème".encode("cp1252"), "Café crème"),
        # The stray bytes are read in the codepage their lines read best in, not always windows-1252.
        (
            f"{CZECH}\n".encode() + "Jiří Dvořák, Šťastný, částka 25 000 Kč.".encode("cp1250"),
            f"{CZECH}\nJiří Dvořák, Šťastný, částka 25 000 Kč.",
        ),
        ("Straße: ".encode() + "Łódź i Kraków, Wąsowska".encode("cp1250"), "Straße: Łódź i Kraków, Wąsowska"),
        (
            "Договор аренды заключён в Москве.\n".encode() * 3 + "Арендатор Иванов.".encode("cp1251"),
            "Договор аренды заключён в Москве.\n" * 3 + "Арендатор Иванов.",
        ),
    ],
)
def test_utf8_with_single_byte_words_keeps_both(data, expected):
    assert decode_text(data) == (expected, "utf-8")


def test_single_byte_text_with_an_accidental_utf8_pair_is_not_utf8():
    # "ŮŽ" in windows-1250 happens to be a valid UTF-8 pair (U+064E, an Arabic vowel sign).
    note = "Pronajímatel MŮŽE smlouvu vypovědět; nájemce ji může vypovědět kdykoli, řádně a písemně."
    assert decode_text(note.encode("cp1250")) == (note, "cp1250")


def test_an_undeclared_web_page_in_windows_1250(tmp_path):
    page = f"<html><body><h1>Nájemní smlouva</h1><p>{CZECH}</p></body></html>"
    doc = parse(tmp_path, page.encode("cp1250"), "smlouva.html")
    assert (doc.text, doc.encoding) == (f"Nájemní smlouva\n\n{CZECH}", "cp1250")
