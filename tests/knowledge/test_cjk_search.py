"""Chinese and Japanese words found by keyword search, with the real parsers, SQLite and chromadb."""

from __future__ import annotations

import sqlite3

import pytest
import sqlite_utils

from assistant.knowledge.base import KnowledgeBase
from assistant.knowledge.cjk import index_terms
from assistant.knowledge.evidence import content_terms, sentence_spans, word_overlap
from assistant.knowledge.retriever import Retriever, keyword_query
from assistant.store.db import open_database
from assistant.store.migrations import migrations
from tests.knowledge.helpers import assert_consistent, write_corpus

PENALTY = "合同终止通知期限为三十天，违约金为五万元人民币。双方应在签字后七日内备案。Clause 9 applies."
# GB18030: holds 违约 ("breach") but not 违约金 ("penalty"), and 租金 ("rent").
LEASE = ("租赁期间，承租人应按月支付租金，每月租金为八千元。承租人违约的，出租人有权解除本合同。"
         "房屋维修费用由出租人承担，日常保养由承租人负责。\n")
RULING = "最高裁判所は本件について判決を言い渡した。被告の控訴は棄却され、損害賠償額は三百万円とされた。\n"
ENGLISH = ("Clause 14.2: the tenant may not sublet the premises without written consent.\n\n"
           "The landlord repairs the roof; the tenant pays for damage caused by negligence.\n")


@pytest.fixture
def kb(core, tmp_path):
    kb = KnowledgeBase(core)
    folder = tmp_path / "enc"
    folder.mkdir()
    (folder / "penalty_utf8.txt").write_text(PENALTY + "\n", encoding="utf-8")
    (folder / "lease_gb18030.txt").write_bytes(LEASE.encode("gb18030"))
    (folder / "ruling_sjis.txt").write_bytes(RULING.encode("shift_jis"))
    (folder / "lease_en.txt").write_text(ENGLISH, encoding="utf-8")
    kb.collections.add_source("enc", folder)
    report = kb.index("enc")
    assert (report.indexed, report.skipped) == (4, [])
    return kb


def paths(hits) -> list[str]:
    return [h.path.rsplit("/", 1)[-1] for h in hits]


def test_a_word_inside_a_run_is_found_in_each_encoding(kb):
    for query, expected in [("违约金", "penalty_utf8.txt"), ("五万元", "penalty_utf8.txt"),
                            ("租金", "lease_gb18030.txt"), ("维修费用", "lease_gb18030.txt"),
                            ("判決", "ruling_sjis.txt"), ("損害賠償", "ruling_sjis.txt")]:
        hits = kb.search(query, ["enc"], k=5, mode="keyword")
        assert hits and paths(hits)[0] == expected, (query, paths(hits))
        assert query in hits[0].text
    # The parsers read the legacy encodings as the text written, or the words above would be lost.
    assert LEASE.strip() in kb.search("租金", ["enc"], k=1, mode="keyword")[0].text
    assert_consistent(kb)


def test_the_whole_word_ranks_above_a_passage_holding_part_of_it(kb):
    # 违约金 (penalty) in one file, only 违约 (breach) in the other: both found, the word first.
    hits = kb.search("违约金", ["enc"], k=5, mode="keyword")
    assert paths(hits)[:2] == ["penalty_utf8.txt", "lease_gb18030.txt"]
    assert hits[0].scores["keyword"] > hits[1].scores["keyword"] > 0
    # A one-character query finds the character wherever it stands in a run, at its end too.
    assert "ruling_sjis.txt" in paths(kb.search("円", ["enc"], k=5, mode="keyword"))  # 三百万円
    assert paths(kb.search("民币", ["enc"], k=5, mode="keyword")) == ["penalty_utf8.txt"]


def test_a_question_written_without_spaces_finds_its_passage(kb):
    hits = kb.search("违约金是多少？", ["enc"], k=5, mode="keyword")
    assert paths(hits)[0] == "penalty_utf8.txt"
    assert paths(kb.search("判決を言い渡したのは誰ですか", ["enc"], k=5, mode="keyword"))[0] == "ruling_sjis.txt"


def test_mixed_chinese_and_english_query(kb):
    hits = kb.search("违约金 sublet 14.2", ["enc"], k=5, mode="keyword")
    assert set(paths(hits)[:2]) == {"penalty_utf8.txt", "lease_en.txt"}
    english = next(h for h in hits if h.path.endswith("lease_en.txt"))
    assert "14.2" in english.text
    # Words in other scripts inside Chinese text are still words: "Clause 9" is in the Chinese file.
    assert paths(kb.search("clause 9", ["enc"], k=5, mode="keyword"))[0] == "penalty_utf8.txt"


def test_punctuation_only_queries_find_nothing_without_error(kb):
    assert keyword_query("，。？！「」") is None
    assert kb.search("，。？！「」", ["enc"], k=5, mode="keyword") == []
    assert all(r.scores["keyword"] is None for r in kb.search("，。？", ["enc"], k=5, mode="hybrid"))


def test_numbers_and_latin_words_written_against_a_run_are_found(core, tmp_path):
    # The tokenizer keeps "第709条" as one token with its characters: an article number a lawyer searches.
    folder = tmp_path / "jp"
    folder.mkdir()
    (folder / "tort.txt").write_text("民法第709条による損害賠償。使用Python编写的程序。\n", encoding="utf-8")
    (folder / "other.txt").write_text("民法第3条の規定。\n", encoding="utf-8")
    kb = KnowledgeBase(core)
    kb.collections.add_source("jp", folder)
    kb.index("jp")
    for query in ("709", "第709条", "python"):
        assert paths(kb.search(query, ["jp"], k=5, mode="keyword"))[0] == "tort.txt", query
    assert paths(kb.search("709", ["jp"], k=5, mode="keyword")) == ["tort.txt"]
    assert index_terms("第709条") == "第 条 709" and index_terms("ジョン・スミス") == "ジョ ョン ン スミ ミス ス"


def old_keyword_ranking(db, question: str) -> list[tuple[str, float]]:
    """The ranking before the CJK column: an index of text and heading alone, with their weights."""
    query = keyword_query(question)
    assert "cjk_terms" not in query
    db.execute("create virtual table old_fts using fts5(text, heading, "
               "tokenize='porter unicode61 remove_diacritics 2', content=chunks)")
    try:
        db.execute("insert into old_fts(old_fts) values ('rebuild')")
        return [(r[0], r[1]) for r in db.execute(
            "select c.id, -bm25(old_fts, 1.0, 0.5) as s from old_fts join chunks c on c.rowid = old_fts.rowid "
            "where old_fts match ? order by s desc", [query])]
    finally:
        db.execute("drop table old_fts")


ENGLISH_QUESTIONS = ["Can the tenant sublet the premises?", "roof damage negligence", "clause 14.2",
                     "notice period for termination of the lease", "supplier warranty invoice",
                     "document section"]  # words of the headings


def test_english_queries_score_as_before(core, tmp_path):
    """Over English text the extra column is empty: the same chunks come back with the same scores."""
    kb = KnowledgeBase(core)
    folder = tmp_path / "en"
    write_corpus(folder, files=4, paragraphs=4)
    (folder / "lease_en.txt").write_text(ENGLISH, encoding="utf-8")
    kb.collections.add_source("en", folder)
    kb.index("en")
    assert kb.db.execute("select count(*) from chunks where cjk_terms is not null").fetchone()[0] == 0
    compared = 0
    for question in ENGLISH_QUESTIONS:
        before = old_keyword_ranking(kb.db, question)
        now = kb.retriever.keyword(question, kb.collection_ids(["en"]))
        compared += len(now)
        assert [c for c, _ in now] == [c for c, _ in before[:len(now)]], question
        assert [s for _, s in now] == pytest.approx([s for _, s in before[:len(now)]], rel=1e-9), question
    assert compared > 10


def test_english_queries_rank_as_before_beside_chinese_and_japanese(kb):
    """FTS5's BM25 divides by the average length of a whole row, which the pairs of the CJK files
    raise, so English scores move a little; the order of the English passages does not."""
    for question in ENGLISH_QUESTIONS[:3]:
        before = old_keyword_ranking(kb.db, question)
        now = kb.retriever.keyword(question, kb.collection_ids(["enc"]))
        assert now and [c for c, _ in now] == [c for c, _ in before], question


def test_an_index_from_before_the_column_gets_it_filled(tmp_path):
    db = sqlite_utils.Database(sqlite3.connect(str(tmp_path / "a.db"), isolation_level=None))
    migrations.apply(db, stop_before="m014_chunk_cjk_terms")
    assert "cjk_terms" not in db["chunks"].columns_dict
    rows = [("zh", PENALTY, "违约责任"), ("ja", RULING, ""), ("en", ENGLISH, "Lease")]
    for i, (cid, text, heading) in enumerate(rows):
        db["chunks"].insert({"id": cid, "content_hash": f"h{i}", "ordinal": 0, "text": text, "heading": heading,
                             "start": 0, "end": len(text), "embedded": 1, "version": 1})
        db["documents"].insert({"collection_id": 1, "path": f"/{cid}.txt", "content_hash": f"h{i}",
                                "status": "indexed", "n_chunks": 1})
    # The defect: unicode61 makes one token of the whole run, so the word inside it is not there.
    assert db.execute("select count(*) from chunks_fts where chunks_fts match '违约金'").fetchone()[0] == 0
    db.conn.close()

    db = open_database(tmp_path / "a.db")
    assert migrations.pending(db) == []
    terms = dict(db.execute("select id, cjk_terms from chunks").fetchall())
    assert terms == {"zh": index_terms(PENALTY, "违约责任"), "ja": index_terms(RULING), "en": None}
    assert "违约 约金 金为" in terms["zh"] and terms["zh"].endswith("违约 约责 责任 任")
    db.execute("insert into chunks_fts(chunks_fts, rank) values ('integrity-check', 1)")
    retriever = Retriever(db, None, None)
    assert [cid for cid, _ in retriever.keyword("违约金")] == ["zh"]
    assert [cid for cid, _ in retriever.keyword("判決")] == ["ja"]
    assert [cid for cid, _ in retriever.keyword("sublet")] == ["en"]
    # The triggers keep the new column in step: an edited or deleted chunk leaves the index.
    db.execute("update chunks set cjk_terms = ? where id = 'ja'", [index_terms("控訴")])
    assert retriever.keyword("判決") == [] and [c for c, _ in retriever.keyword("控訴")] == ["ja"]
    db.execute("delete from chunks where id = 'zh'")
    assert retriever.keyword("违约金") == []
    db.execute("insert into chunks_fts(chunks_fts, rank) values ('integrity-check', 1)")


def test_index_terms_pairs_each_run_and_ends_it_with_its_last_character():
    assert index_terms("违约金") == "违约 约金 金"
    assert index_terms("金") == "金"
    assert index_terms("abc 违约。金额", None, "ｶﾀｶﾅ") == "违约 约 金额 额 ｶﾀ ﾀｶ ｶﾅ ﾅ"
    assert index_terms("plain English, café") is None
    # Two runs are not one phrase: "约金" is not held across the full stop.
    assert '"约金"' not in keyword_query("违约。金额")


def test_query_terms():
    assert keyword_query("违约金") == 'cjk_terms : "违约 约金" OR cjk_terms : "违约" OR cjk_terms : "约金"'
    assert keyword_query("判決") == 'cjk_terms : "判決"'
    assert keyword_query("第14条") == 'cjk_terms : "第"* OR cjk_terms : "条"* OR "14"'
    assert keyword_query("Pythonの使い方 guide") == ('cjk_terms : "の使 使い い方" OR "python" OR "guide" OR '
                                                 'cjk_terms : "の使" OR cjk_terms : "使い" OR cjk_terms : "い方"')
    # A lone particle between words is left out; alone, it is what was asked.
    assert keyword_query("Python の guide") == '"python" OR "guide"'
    assert keyword_query("の") == 'cjk_terms : "の"*'
    assert keyword_query("What does section 4.2 require?") == '"4 2" OR "section" OR "require"'


def test_sentences_of_chinese_and_japanese_text_share_terms_with_a_question():
    text = PENALTY + "\n" + RULING
    sentences = [text[a:b] for a, b in sentence_spans(text)]
    assert sentences[:2] == ["合同终止通知期限为三十天，违约金为五万元人民币。", "双方应在签字后七日内备案。"]
    assert "最高裁判所は本件について判決を言い渡した。" in sentences
    question = content_terms("违约金是多少？")
    assert {"违约", "约金"} <= question
    weights = [word_overlap(question, s, lambda _t: 1.0) for s in sentences]
    assert weights[0] == max(weights) > 0 and weights[1] == 0
    # English is split into words as before.
    assert content_terms("The conquest of England") == {"conque", "englan"}
    assert [ENGLISH[a:b] for a, b in sentence_spans(ENGLISH)][0].startswith("Clause 14.2: the tenant")
    marks = "本当ですか？！そうです。注意！！危険です。"  # two marks end one sentence, leaving no "！" alone
    assert [marks[a:b] for a, b in sentence_spans(marks)] == ["本当ですか？！", "そうです。", "注意！！", "危険です。"]
