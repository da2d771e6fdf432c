"""Chat questions a demanding user sends: too long, after failures. Real SQLite and SmolLM2."""

from __future__ import annotations

from assistant.chat import Finished, ask, history_for_model, regenerate


def _answer(core, text, conversation_id=None):
    (finished,) = [e for e in ask(core, text, conversation_id) if isinstance(e, Finished)]
    return finished.message


def test_a_question_too_long_for_the_context_does_not_fail_the_next_ones(smol_core):
    failed = _answer(smol_core, "word " * 20_000)
    assert failed.status == "error" and "too long" in failed.error
    cid = failed.conversation_id

    answered = _answer(smol_core, "What is 2 + 2?", cid)
    assert answered.status == "complete" and answered.content.strip()
    # The model saw the new question alone.
    assert history_for_model(smol_core, cid, upto_id=answered.id)[1:] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert [m.content for m in smol_core.conversations.messages(cid) if m.role == "user"] == [
        "word " * 20_000, "What is 2 + 2?"]  # nothing the user wrote is dropped from the store


def test_a_failed_answer_can_be_regenerated_and_a_question_stopped_before_a_word_is_left_out(smol_core):
    store = smol_core.conversations
    cid = store.create("t")
    store.add_message(cid, "user", "Say hello.")
    store.add_message(cid, "assistant", "", status="error", error="The model engine stopped unexpectedly")
    (finished,) = [e for e in regenerate(smol_core, cid) if isinstance(e, Finished)]
    assert finished.message.status == "complete"
    assert history_for_model(smol_core, cid, upto_id=finished.message.id)[1:] == [
        {"role": "user", "content": "Say hello."}]

    # A question stopped before its first word: the user moved on, so the next one is asked alone
    # (merged, "Tell me a story" would be answered instead of the question after it).
    store.add_message(cid, "user", "Tell me a long story about a dragon.")
    store.add_message(cid, "assistant", "", status="stopped")
    store.add_message(cid, "user", "Name a fruit.")
    assert history_for_model(smol_core, cid)[-2:] == [{"role": "assistant", "content": finished.message.content},
                                                     {"role": "user", "content": "Name a fruit."}]
    assert "dragon" in store.messages(cid)[-3].content  # still in the conversation
