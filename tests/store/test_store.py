import sqlite3
import subprocess
import sys

import pytest

from assistant.store.conversations import Conversations, process_alive, this_process
from assistant.store.db import open_database
from assistant.store.migrations import migrations


def test_migrating_an_empty_database_creates_the_schema(tmp_path):
    db = open_database(tmp_path / "a.db")
    assert {"models", "conversations", "messages", "messages_fts"} <= set(db.table_names())
    assert {m.name for m in migrations.applied(db)} >= {"m001_models", "m002_conversations", "m003_messages", "m004_knowledge"}
    message_columns = set(db["messages"].columns_dict)
    assert {"role", "content", "model", "settings", "status", "ttft_s", "tokens_per_s", "prompt_tokens",
            "completion_tokens", "total_s", "sources", "writer"} <= message_columns
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db["messages"].foreign_keys[0].other_table == "conversations"


def test_migrations_are_idempotent(tmp_path):
    open_database(tmp_path / "a.db").conn.close()
    db = open_database(tmp_path / "a.db")
    assert len(migrations.applied(db)) == len(migrations._migrations)
    assert migrations.pending(db) == []


def test_a_file_that_is_not_a_database_gives_a_clear_error(tmp_path):
    bad = tmp_path / "a.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    from assistant.errors import UserFacingError

    with pytest.raises(UserFacingError, match="cannot be opened"):
        open_database(bad)


def test_conversations_messages_and_full_text_search(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    first = store.create("Contracts")
    second = store.create("Recipes")
    store.add_message(first, "user", "What does clause 14.2 of the lease say about subletting?")
    store.add_message(second, "user", "How long do I bake sourdough bread?")
    answer = store.add_message(second, "assistant", "", status="streaming", model="m", settings={"seed": 1})
    store.update_message(answer, content="About 45 minutes at 230 °C.", status="complete", ttft_s=0.2)

    assert [c["id"] for c in store.list()] == [second, first]  # newest activity first
    hits = store.search("subletting")
    assert [(h["conversation_id"], h["role"]) for h in hits] == [(first, "user")]
    assert "[subletting]" in hits[0]["snippet"]
    assert store.search("minut")[0]["id"] == answer  # prefix match on the last term
    assert store.search("sourd")[0]["conversation_id"] == second and store.search("sourd ") == []  # only while typed
    third = store.create("Code")
    question = store.add_message(third, "user", "Is C++ faster than C# for this?")
    reply = store.add_message(third, "assistant", "It can be; compilers create fast code.")
    found = {h["id"] for h in store.search("C++")}
    assert question in found and reply not in found  # "C", not "can" nor "create"
    # FTS syntax in what a user types is just text, never an error.
    assert store.search('clause "14.2')[0]["conversation_id"] == first
    assert store.search('AND OR NOT ( "') == []
    message = store.message(answer)
    assert message.settings == {"seed": 1} and message.ttft_s == 0.2 and message.status == "complete"
    with pytest.raises(ValueError):
        store.update_message(answer, status="exploded")


def test_a_conversation_is_found_by_its_title_first_in_any_case_and_accents(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    dossier = store.create("Dossier Dupont – bail commercial")
    store.add_message(dossier, "user", "Quel est le loyer ?")
    other = store.create("Notes")
    store.add_message(other, "user", "Call Mr Dupont about the lease.")
    hits = store.search("dupont")
    assert [(h["conversation_id"], h["role"]) for h in hits] == [(dossier, "title"), (other, "user")]
    assert [h["conversation_id"] for h in store.search("Dossier Dup")] == [dossier]  # typed: a word's start
    assert store.search("Dossier Dup ") == []  # a finished word must be whole
    accents = store.create("Vertrag Müller")
    assert store.search("muller")[0]["conversation_id"] == accents
    assert store.search("MÜLLER")[0]["conversation_id"] == accents


def test_delete_removes_messages_and_their_search_entries(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    cid = store.create()
    store.add_message(cid, "user", "a unique zebra question")
    store.delete(cid)
    assert store.get(cid) is None
    assert store.search("zebra") == []
    # search() joins back to messages, so a stale index entry would not show there: FTS5's own
    # check compares the index with the messages table.
    store.db.execute("insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)")
    assert store.db.execute("select count(*) from messages_fts where messages_fts match 'zebra'").fetchone()[0] == 0


def test_interrupted_answers_are_kept_and_marked_stopped(tmp_path):
    """An answer whose process is gone becomes 'stopped' with its text; one still being written
    by a live process (this one) is left alone."""
    path = tmp_path / "a.db"
    store = Conversations(open_database(path))
    cid = store.create()
    live = store.add_message(cid, "assistant", "still coming", status="streaming")
    script = ("import sys\n"
              "from assistant.store.conversations import Conversations\n"
              "from assistant.store.db import open_database\n"
              "s = Conversations(open_database(sys.argv[1]))\n"
              f"print(s.add_message({cid}, 'assistant', 'partial ans', status='streaming'))\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    dead = int(done.stdout.strip())
    store.db.conn.close()
    store = Conversations(open_database(path))
    assert store.recover_interrupted() == 1
    message = store.message(dead)
    assert (message.status, message.content) == ("stopped", "partial ans")
    assert "interrupted" in message.error
    assert store.message(live).status == "streaming"
    assert process_alive(this_process()) and not process_alive(None) and not process_alive("1:0.00")


def test_two_connections_write_without_locking_errors(tmp_path):
    path = tmp_path / "a.db"
    a = Conversations(open_database(path))
    b = Conversations(open_database(path))
    cid = a.create()
    for i in range(50):
        (a if i % 2 else b).add_message(cid, "user", f"message {i}")
    assert len(a.messages(cid)) == 50
    assert sqlite3.connect(path).execute("pragma integrity_check").fetchone()[0] == "ok"


def test_a_failed_transaction_leaves_nothing_behind(tmp_path):
    from assistant.store.db import insert_row, transaction

    db = open_database(tmp_path / "a.db")
    store = Conversations(db)
    cid = store.create("kept")
    with pytest.raises(RuntimeError):
        with transaction(db):
            insert_row(db, "messages", {"conversation_id": cid, "role": "user", "content": "half", "status": "complete"})
            db.execute("update conversations set title = 'changed' where id = ?", [cid])
            raise RuntimeError("the disk filled up")
    assert store.get(cid)["title"] == "kept" and store.messages(cid) == []
    assert store.search("half") == []


def test_the_keyword_index_follows_a_chunks_words_but_not_its_flags(tmp_path):
    db = open_database(tmp_path / "a.db")
    db.execute("insert into chunks (id, content_hash, ordinal, text, heading, embedded) "
                "values ('c1', 'h', 0, 'The deposit is returned', 'Deposit', 0)")

    def found(word):
        return [r[0] for r in db.execute("select rowid from chunks_fts where chunks_fts match ?", [word])]

    assert found("deposit") == [1]
    db.execute("update chunks set embedded = 1 where id = 'c1'")
    assert found("deposit") == [1] and found("returned") == [1]
    db.execute("update chunks set text = 'The rent is due monthly' where id = 'c1'")
    assert found("returned") == [] and found("rent") == [1] and found("deposit") == [1]  # the heading stays
    db.execute("update chunks set heading = 'Payment' where id = 'c1'")
    assert found("deposit") == [] and found("payment") == [1]
    db.execute("insert into chunks_fts(chunks_fts, rank) values ('integrity-check', 1)")  # raises if out of step
    sql = db.execute("select sql from sqlite_master where name = 'chunks_au'").fetchone()[0]
    assert 'AFTER UPDATE OF "text", "heading", "cjk_terms"' in sql


def test_a_chinese_or_japanese_word_inside_a_sentence_is_found_in_conversations(tmp_path):
    store = Conversations(open_database(tmp_path / "a.db"))
    contract = store.create("合同")
    lease = store.create("Lease")
    penalty = store.add_message(contract, "user", "违约金为合同总额的百分之二十，第709条另有规定。")
    notice = store.add_message(lease, "assistant", "解約の通知は三十日前までに行う必要があります。The notice is 30 days.")
    hits = store.search("违约金")
    assert [(h["id"], h["conversation_id"], h["title"]) for h in hits] == [(penalty, contract, "合同")]
    assert hits[0]["snippet"].startswith("[违约金]为合同")
    assert [h["id"] for h in store.search("通知")] == [notice]
    assert [h["id"] for h in store.search("709条")] == [penalty]  # a number written against a run
    assert [h["id"] for h in store.search("通知 NOTICE")] == [notice]  # Latin words too, any case
    assert store.search("通知 rent") == [] and store.search("賃料") == []
    long = store.add_message(lease, "user", "x" * 200 + " 賃料は毎月末日に支払う。 " + "y" * 200)
    cut = store.search("賃料")[0]
    assert cut["id"] == long and cut["snippet"].startswith("…") and cut["snippet"].endswith("…")
    assert "[賃料]は毎月" in cut["snippet"]
