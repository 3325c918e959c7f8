"""What composers see of the assistant: the retriever, the store and the settings — not the Assistant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    retriever: object  # retrieval.HybridRetriever
    store: object  # store.Store
    settings: object  # config.Settings (its `llm` is empty in extractive mode)
