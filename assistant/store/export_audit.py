"""What an export adds for someone auditing a document answer: each source's retrieval scores and
what they mean, the answer's timings, and the prompt the model read, fenced so nothing in it can
end the block early."""

from __future__ import annotations

import re

from assistant.knowledge.retriever import CANDIDATES, RRF_K
from assistant.store.conversations import Message
from assistant.store.source_rows import only_checked

# Stated once per export. Each sentence follows the code that makes the number
# (knowledge/retriever.py, knowledge/evidence.py, answer.py, llm/worker.py): if one changes, so must this.
LEGEND = (
    ("rank", "the passage's place among those retrieved for the question, 1 first, in the order the "
             "answer used: by 'order' when it is given, else by 'fused'. The prompt's sources come from the top."),
    ("keyword", "BM25 score from the keyword index (SQLite FTS5). Higher is better; it has no fixed scale, so "
                "compare it only between passages of the same question. '(#n)': the passage's place in the "
                f"keyword search's list; '–': not among its {CANDIDATES} best."),
    ("vector", "cosine similarity of the embeddings of the question and the passage: at most 1, higher is "
               "closer in meaning (in practice between about 0 and 1). '(#n)' and '–' as for keyword."),
    ("fused", "the two combined into one order. Weighted fusion (the default): the keyword score divided by "
              "the question's best, the vector score scaled 0 to 1 between the lowest and highest of this "
              "question's candidates, then added in shares (half "
              "each unless the settings say otherwise), so 0 to 1 and comparable only within one question. "
              f"Reciprocal rank fusion: the sum of 1/({RRF_K} + place) over both lists."),
    ("best sentence", "how well the passage's best sentence matches the question: half the share of the "
                      "question's content words it holds (rarer words weigh more), half the cosine similarity "
                      "of their embeddings."),
    ("order", "best sentence plus a small share of the fused score: what a document answer orders its "
              "passages by."),
    ("in the prompt as [n]", "sentences of the passage were shown to the model numbered [n]; 'read by the "
                             "check': shown only to the yes/no question that held the answer back; 'not in "
                             "the prompt': retrieved, but no model saw it."),
    ("cited", "the answer cites [n]; an answer that cited none counts the source its words come from. A "
              "cited passage that runs over a page break is placed on the page of the sentence the answer "
              "drew on (cited_page), with the passage's pages after it."),
    ("timings", "retrieval: searching and ordering the passages; sentences: choosing the sentences shown; "
                "check: asking the model whether they answer the question; first token: from the prompt "
                "reaching the model to its first word, reading the prompt included; total: the model's whole "
                "answer from the prompt reaching it (retrieval and check not included); prompt: its length in "
                "tokens, and how many of them the model reused from the previous turn's cache."),
)


def legend_markdown() -> list[str]:
    return ["## How to read the sources", "", *(f"- **{term}**: {meaning}" for term, meaning in LEGEND)]


def _num(value, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def score_summary(row: dict, details: dict | None) -> str:
    """Whether the passage reached the model and was cited, then its rank and each score (see LEGEND)."""
    number = row.get("number")
    if not row.get("in_prompt"):
        parts = ["not in the prompt"]
    elif only_checked(details):
        parts = [f"read by the check as [{number}]"]
    else:
        parts = [f"in the prompt as [{number}]", "cited" if row.get("cited") else "not cited"]
    if row.get("rank") is not None:
        parts.append(f"rank {row['rank']}")
    scores, ranks = row.get("scores"), row.get("ranks") or {}
    if scores:  # sources stored before scores were kept have none
        for name, digits in (("keyword", 2), ("vector", 3)):
            text = f"{name} {_num(scores.get(name), digits)}"
            parts.append(text + (f" (#{ranks[name]})" if ranks.get(name) else ""))
        parts.append(f"fused {_num(scores.get('fused'), 4)}")
        if "sentence" in scores:
            parts.append(f"best sentence {_num(scores['sentence'], 3)}")
        if "rerank" in scores:
            parts.append(f"order {_num(scores['rerank'], 3)}")
    return " · ".join(parts)


def timings_summary(message: Message) -> str:
    """The answer's recorded timings, '' when none were (see LEGEND)."""
    details = message.details or {}
    parts = [f"{label} {details[key]:.0f} ms" for key, label in
             (("retrieval_ms", "retrieval"), ("evidence_ms", "sentences"), ("check_ms", "check"))
             if details.get(key) is not None]
    if message.ttft_s is not None:
        parts.append(f"first token {message.ttft_s:.2f} s")
    # An answer no model wrote (held back before asking) is stored with a total of 0.
    if message.total_s:
        parts.append(f"total {message.total_s:.2f} s")
    if message.prompt_tokens:
        reused = details.get("cached_tokens")
        parts.append(f"prompt {message.prompt_tokens} tokens" + (f" ({reused} reused)" if reused else ""))
    return "Timings: " + " · ".join(parts) if parts else ""


def fenced(text: str, info: str = "text") -> str:
    """`text` as a fenced code block whose fence is longer than any run of backticks in it, so the
    text cannot close it (CommonMark: a closing fence is at least as long as the opening one)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}"
