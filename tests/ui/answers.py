"""Real document answers for the sources panel and viewer tests, made once per session.

A folder with a three-page PDF and a long Markdown file is indexed into a real
knowledge base (real embedder), and Qwen2.5-0.5B answers three questions over
it through `ask_documents`: one from the PDF, one from the Markdown file, and
one the retrieval abstains on. The tests read the stored Messages back.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.answer import ask_documents
from assistant.chat import Finished
from assistant.config import GenerationSettings
from assistant.core import Core
from assistant.knowledge.base import KnowledgeBase
from assistant.store.conversations import Message
from tests.conftest import QWEN, _paths
from tests.knowledge.corpus import pdf_bytes


def _wrap(text: str) -> str:
    return "\n".join(textwrap.wrap(text, 80))  # the test PDF writer does not wrap lines


PDF_PAGES = [
    ["Tenant handbook",
     _wrap("Welcome to the building. The caretaker lives on the ground floor and can be reached on weekdays "
           "between eight in the morning and four in the afternoon. Outside these hours, call the emergency "
           "number on the notice board in the entrance hall."),
     _wrap("Heating runs from October to April. Each flat has its own thermostat; please do not cover the "
           "radiators, and keep the windows closed while the heating is on so the building stays warm."),
     _wrap("Post is delivered to the letter boxes beside the front door. Parcels that do not fit are left "
           "with the caretaker, who keeps them for a week before they go back to the sender."),
     _wrap("The laundry room in the cellar is open every day from seven until nine. Please clean the filter "
           "of the dryer after use and leave the doors of the machines open.")],
    ["Money matters",
     _wrap("The security deposit is 1,500 euros. It is returned within thirty days after the tenant moves "
           "out, minus the cost of any repairs beyond normal wear and tear."),
     _wrap("Service charges for water, cleaning of the stairwell and the lift are billed once a year. The "
           "statement arrives in March and any balance is due by the end of April."),
     _wrap("Tenants are asked to take out their own contents insurance. The building insurance covers the "
           "structure only, not furniture, bicycles or anything else that belongs to the tenant.")],
    ["House rules",
     _wrap("Quiet hours are from ten in the evening until seven in the morning. Bicycles belong in the "
           "cellar, not in the stairwell, and prams may be left in the room beside the lift."),
     _wrap("Rubbish is sorted into paper, glass, packaging and general waste. The bins are emptied on "
           "Tuesdays; please put them out the evening before and bring them in again on Tuesday evening.")],
]

FILLER = ("The garden is shared by all tenants and is looked after by a volunteer committee that "
          "meets in spring and autumn to plan planting, pruning and the annual clean-up day.")


def notes_markdown() -> str:
    """Long enough that the rent passage is far below the first screen of the viewer."""
    lines = ["# Flat notes", ""]
    for i in range(1, 13):
        lines += [f"## Garden note {i}", "", f"{FILLER} Note {i}.", ""]
    lines += ["## Rent", "", "The monthly rent is 1,250 euros, payable on the first day of each month "
              "by bank transfer to the landlord's account.", ""]
    return "\n".join(lines)


DEPOSIT_Q = "How much is the security deposit?"
RENT_Q = "How much is the monthly rent?"
ABSTAIN_Q = "What was the monthly rent in 1998?"
SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_tokens=40)


@dataclass
class Answered:
    core: Core
    kb: KnowledgeBase
    folder: Path
    deposit: Message
    rent: Message
    abstained: Message

    def source(self, message: Message, suffix: str) -> dict:
        """The best-ranked source of `message` from a file with `suffix`."""
        return min((s for s in message.sources if s["path"].endswith(suffix)), key=lambda s: s["rank"])


def _ask(core: Core, kb: KnowledgeBase, question: str) -> Message:
    events = list(ask_documents(core, kb, question, ["home"], settings=SETTINGS))
    finished = next(e for e in events if isinstance(e, Finished))
    return core.conversations.message(finished.message.id)  # as the window would load it


@pytest.fixture(scope="session")
def answered(answered_once):
    """The test modules alias this fixture; the work is done once, in `answered_once` (conftest)."""
    return answered_once


@pytest.fixture(scope="session")
def answered_once(tmp_path_factory, starter_registry, shared_engine):
    root = tmp_path_factory.mktemp("sources-panel")
    folder = root / "documents"
    folder.mkdir()
    (folder / "handbook.pdf").write_bytes(pdf_bytes(PDF_PAGES))
    (folder / "notes.md").write_text(notes_markdown(), encoding="utf-8")
    core = Core(_paths(root / "home"), engine=shared_engine)
    for model in starter_registry.values():
        core.registry.register(model)
    kb = KnowledgeBase(core)
    kb.collections.add_source("home", folder)
    kb.index("home")
    core.load_model(QWEN, SETTINGS)
    yield Answered(core, kb, folder, _ask(core, kb, DEPOSIT_Q), _ask(core, kb, RENT_Q), _ask(core, kb, ABSTAIN_Q))
    core.close()
