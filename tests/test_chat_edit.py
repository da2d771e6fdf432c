"""Editing a question and asking again, and the settings the window saves (no Qt)."""

from __future__ import annotations

import pytest

from assistant.chat import Finished, Started, ask, edit_and_resend, last_question
from assistant.config import Paths, RetrievalSettings, Settings, paths


def _run(events) -> tuple[Started, Finished]:
    events = list(events)
    return next(e for e in events if isinstance(e, Started)), next(e for e in events if isinstance(e, Finished))


def test_edit_and_resend_drops_what_followed_and_answers_the_new_question(smol_core):
    store = smol_core.conversations
    first, _ = _run(ask(smol_core, "Name a colour."))
    cid = first.conversation_id
    second, _ = _run(ask(smol_core, "Name a fruit.", cid))
    _run(ask(smol_core, "Name an animal.", cid))
    assert len(store.messages(cid)) == 6

    started, finished = _run(edit_and_resend(smol_core, second.user_message_id, "Name a vegetable."))
    messages = store.messages(cid)
    assert started.conversation_id == cid
    assert [(m.role, m.content) for m in messages[:3]] == [
        ("user", "Name a colour."), ("assistant", messages[1].content), ("user", "Name a vegetable.")]
    assert len(messages) == 4 and messages[3].id == finished.message.id
    assert finished.message.status == "complete" and finished.message.content.strip()
    assert "fruit" not in " ".join(m.content for m in messages)
    assert store.search("animal") == []  # the dropped messages left the search index too
    store.db.execute("insert into messages_fts(messages_fts, rank) values ('integrity-check', 1)")
    assert last_question(smol_core, cid).content == "Name a vegetable."

    # Regenerate: the same question again replaces the last answer.
    _, again = _run(edit_and_resend(smol_core, messages[2].id, messages[2].content))
    assert [m.id for m in store.messages(cid)][-1] == again.message.id and len(store.messages(cid)) == 4

    with pytest.raises(ValueError):
        list(edit_and_resend(smol_core, again.message.id, "an answer is not a question"))
    assert len(store.messages(cid)) == 4


def test_without_a_model_nothing_is_dropped(core):
    cid = core.conversations.create("x")
    question = core.conversations.add_message(cid, "user", "kept?")
    from assistant.errors import ModelUnavailable

    core.model = None
    with pytest.raises(ModelUnavailable):
        list(edit_and_resend(core, question, "changed"))
    assert [m.content for m in core.conversations.messages(cid)] == ["kept?"]


def test_settings_keep_retrieval_theme_and_data_folder(tmp_path, monkeypatch):
    where = Paths(data=tmp_path / "d", config=tmp_path / "c", cache=tmp_path / "k", logs=tmp_path / "l")
    settings = Settings()
    settings.retrieval = RetrievalSettings(k=5, prompt_sources=2, min_vector_score=0.3, vector_weight=0.7)
    settings.theme = "dark"
    settings.generation.top_k = 12
    settings.save(where)
    loaded = Settings.load(where)
    assert loaded.retrieval == settings.retrieval and loaded.theme == "dark" and loaded.generation.top_k == 12

    # The check's threshold used to be saved as a fixed 0.30 for every model; that file now gets
    # each model's calibrated one.
    (where.config / "settings.json").write_text('{"retrieval": {"k": 6, "min_answer_belief": 0.3}}')
    assert Settings.load(where).retrieval.k == 6 and Settings.load(where).retrieval.check_threshold is None

    (where.config / "settings.json").write_text('{"theme": "purple", "retrieval": null}')
    assert Settings.load(where).theme == "system" and Settings.load(where).retrieval == RetrievalSettings()

    # A chosen data folder moves the data (only) from the next start on.
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    assert paths().data == (tmp_path / "home" / "data").resolve()
    chosen = Settings(data_folder=str(tmp_path / "elsewhere"))
    chosen.save(paths())
    assert paths().data == tmp_path / "elsewhere"
    assert paths().config == (tmp_path / "home" / "config").resolve()


def test_an_edit_whose_document_search_fails_loses_nothing(smol_core):
    from assistant.answer import ask_documents
    from assistant.errors import UserFacingError
    from assistant.knowledge.base import KnowledgeBase

    store = smol_core.conversations
    first, _ = _run(ask(smol_core, "Name a colour."))
    cid = first.conversation_id
    before = [(m.id, m.content) for m in store.messages(cid)]

    def from_documents(core, text, conversation_id=None, settings=None, stop=None, replaces=None):
        # A collection removed meanwhile (in another window): the search fails before the edit is stored.
        return ask_documents(core, KnowledgeBase(core), text, ["removed meanwhile"], conversation_id, settings,
                             stop=stop, replaces=replaces)

    with pytest.raises(UserFacingError):
        list(edit_and_resend(smol_core, first.user_message_id, "Name a vegetable.", answer=from_documents))
    assert [(m.id, m.content) for m in store.messages(cid)] == before  # the old question and answer are kept
