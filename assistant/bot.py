"""The `Assistant`: one object the app, the CLI, the benchmarks and the tests all use."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable

from .config import Settings
from .store import IngestReport, Progress, Store


class Assistant:
    def __init__(self, settings: Settings | None = None, *, progress: Progress | None = None,
                 embeddings=None) -> None:
        from .retrieval import HybridRetriever

        self.settings = settings or Settings.from_env()
        self.store = Store(self.settings, embeddings=embeddings)
        self.retriever = HybridRetriever(store=self.store, k=self.settings.top_k)
        self._ingest_lock = threading.Lock()
        if self.settings.auto_ingest and self.store.is_empty():
            self.ensure_corpus(progress)

    def ensure_corpus(self, progress: Progress | None = None) -> IngestReport | None:
        """An empty store ingests the bundled corpus once (other threads wait for it)."""
        with self._ingest_lock:
            if self.store.is_empty():
                return self.store.ingest_bundled(progress)
        return None

    def warm_up(self) -> None:
        """Load now what a process's first questions would otherwise load, each on the request path and, under
        load, in several threads at once: the query model, jieba's dictionary and its part-of-speech tables
        (jieba.posseg: 0.5 s alone, up to 3 s with 16 clients on 2 cores, first needed by a list or topic
        question), the registry and the keyword index. The app calls it in a thread at start; a worker before
        it takes requests."""
        from .text import jieba_module

        jieba_module()
        from jieba import posseg

        list(posseg.cut("园区"))
        self.store.embeddings.embed_query("园区")
        if self.documents():
            self.search("园区 营业收入", k=1)

    # -------------------------------------------------------------------------------- corpus

    def documents(self) -> dict[str, dict]:
        return self.store.documents()

    def ingest(self, paths: Iterable[Path | str], progress: Progress | None = None,
               wait: bool = True) -> IngestReport:
        """Add or update documents. `wait=False` (keyword first: the app's upload): returns as soon as the
        documents are committed with their passages and keyword index, answerable by keyword; the vectors the
        embedding cache does not have are then filled by a background thread (`vector_progress`)."""
        report = self.store.ingest(paths, progress, wait=wait)
        if not wait:
            self.start_filling()
        return report

    def vector_progress(self) -> dict:
        """How far the vectors of keyword-first ingests are (Store.vector_progress): {"pending": passages
        still without a vector, "passages": all passages, "documents": {name: pending passages}, "filling":
        whether a filler runs, "error": why this process's filler stopped, if it failed}. Cheap to poll."""
        return self.store.vector_progress()

    def start_filling(self) -> bool:
        """Fill missing vectors in a background thread (those a killed process left too); False when none
        are missing."""
        if self.store.vector_progress(max_age=0)["pending"] == 0 and not any(
                m.get("vectors") == "pending" for m in self.store.documents(max_age=0).values()):
            return False
        self.store.start_filling()
        return True

    def remove(self, name: str) -> int:
        return self.store.remove(name)

    def search(self, query: str, k: int | None = None, zone: str | None = None, doc: str | None = None,
               year: int | None = None):
        return self.retriever.search(query, k=k, zone=zone, doc=doc, year=year)

    # -------------------------------------------------------------------------------- curating

    def explain(self, query: str, k: int | None = None, zone: str | None = None, doc: str | None = None,
                year: int | None = None):
        """A retrieval test (命中测试): the passages `search` finds, each with its keyword, vector and fused
        score in 0-1, the scope applied and the tokens searched (retrieval.Explanation)."""
        return self.retriever.explain(query, k=k, zone=zone, doc=doc, year=year)

    def set_meta(self, doc: str, zone: str | None = None, title: str | None = None, year: int | str | None = None,
                 date: str | None = None, speaker: str | None = None, kind: str | None = None) -> dict:
        """Correct a document's metadata (None: unchanged); returns its record. Used at once by scope and
        answers, kept across restarts and re-ingest of the file (Store.set_meta)."""
        return self.store.set_meta(doc, zone=zone, title=title, year=year, date=date, speaker=speaker, kind=kind)

    def set_enabled(self, doc: str, enabled: bool) -> dict:
        """Disable a document (kept, but never retrieved, quoted, summarised or compared) or enable it again."""
        return self.store.set_enabled(doc, enabled)

    def lexicon_entries(self) -> list[dict]:
        """The user lexicon: [{"word", "synonyms", "kind": "synonym" | "zone"}]."""
        return [e.to_dict() for e in self.store.user_lexicon().entries]

    def lexicon_add(self, word: str, synonyms: list[str], kind: str = "synonym") -> dict:
        """Add a synonym group ("营收" -> ["营业收入"]) or, with kind="zone", an alias of a zone; applied to the
        next question, nothing re-embedded."""
        from . import userlex

        return userlex.add(userlex.path_in(self.settings.home), word, list(synonyms), kind).to_dict()

    def lexicon_remove(self, word: str) -> list[dict]:
        from . import userlex

        return [e.to_dict() for e in userlex.remove(userlex.path_in(self.settings.home), word)]

    def lexicon_problems(self) -> list[str]:
        """What is wrong with the user lexicon (parse errors, empty words, a word its own synonym, a zone alias
        for no document's zone)."""
        from . import userlex

        zones = {m.get("zone", "") for m in self.documents().values()}
        return userlex.check(userlex.path_in(self.settings.home), zones)

    # -------------------------------------------------------------------------------- answers

    def mode_of(self, mode: str | None) -> str:
        """"extractive" or "llm"; by default the LLM when one is configured (ASSISTANT_LLM)."""
        from .errors import QueryError

        mode = mode or ("llm" if self.settings.llm else "extractive")
        if mode not in ("extractive", "llm"):
            raise QueryError(f"未知的回答方式 {mode!r}；可用: extractive, llm。")
        if mode == "llm" and not self.settings.llm:
            raise QueryError("没有配置 LLM（ASSISTANT_LLM），只能用抽取式回答 (mode=extractive)。")
        return mode

    def _composer(self, question: str, history: list[dict] | None, mode: str | None, filters: dict):
        """Plan the question, and the composer for it over what it may see (no LLM in extractive mode)."""
        from .answering import Composer
        from .plan import plan

        mode = self.mode_of(mode)
        request = plan(question, history or [], self.store.enabled_documents(), mode=mode, filters=filters,
                       max_chars=self.settings.max_question_chars, lexicon=self.store.user_lexicon())
        return Composer(self._library(mode), request, filters), request

    @staticmethod
    def _decided(comp, request):
        """The answers decided by the plan alone: a zone not in the corpus, a comparison."""
        if request.kind == "not_in_corpus":
            return comp.unknown_zone()
        if request.kind == "mentions":
            from .compare import mentions_request

            ans = mentions_request(comp, request)
            if ans is not None:
                return ans
        if request.kind == "compare":
            from .compare import compare_request

            ans = compare_request(comp, request, missing=request.unknown_zones)
            if ans is not None:
                return ans
        return None

    def ask(self, question: str, history: list[dict] | None = None, mode: str | None = None, **filters):
        """Answer a question (with the conversation so far) as a typed Answer."""
        comp, request = self._composer(question, history, mode, filters)
        if request.in_parts:
            return self._in_parts(request, history, mode, filters)
        ans = self._decided(comp, request)
        if ans is not None:
            return ans
        if request.mode == "llm":
            from .llm import llm_answer

            return llm_answer(comp)
        return comp.compose()

    def _in_parts(self, request, history: list[dict] | None, mode: str | None, filters: dict):
        """A question that asks several things ("叫什么？他说…是什么？"): each part asked in turn, the later ones
        as follow-ups of the earlier (so "他" and the zone carry over), and one answer made of their answers."""
        from .answer import combine

        turns = list(history or [])
        answers = []
        for part in request.parts:
            ans = self.ask(part, turns, mode, **filters)
            answers.append((part, ans))
            turns += [{"role": "user", "content": part}, {"role": "assistant", "content": ans.text, "answer": ans}]
        return combine(answers)

    def _library(self, mode: str | None):
        from .context import Library

        mode = self.mode_of(mode)
        return Library(self.retriever, self.store, self.settings if mode == "llm" else self.settings.with_(llm=""))

    def summarize(self, doc: str, length: str = "medium", request: str = "", mode: str | None = None):
        """Summary of one document, named by file name or loosely ("常德", "务虚会那篇")."""
        from .answering import Composer
        from .conversation import Resolved
        from .errors import QueryError
        from .summarize import BUDGETS, pick_document, summarize_doc

        if length not in BUDGETS:
            raise QueryError(f"未知的长度 {length!r}；可用: {', '.join(BUDGETS)}。")
        docs = self.store.enabled_documents()
        if doc not in docs and doc in self.documents():
            raise QueryError(f"文档 {doc!r} 已停用。用 `assistant enable {doc}` 重新启用后再总结。")
        comp = Composer(self._library(mode), Resolved(request or doc), {})
        name = doc if doc in docs else pick_document(comp, doc)
        if name is None or name not in docs:
            raise QueryError(f"找不到文档 {doc!r}。用 `assistant docs` 查看已有文档。")
        return summarize_doc(comp, name, request, length)

    def compare(self, zones: list[str], aspect: str = "", mode: str | None = None):
        """Side-by-side quotes for two or more zones (named loosely), on an aspect or an overview."""
        from .answering import Composer
        from .compare import compare_request
        from .conversation import Resolved
        from .errors import QueryError
        from .retrieval import resolve_scope

        docs_meta = self.store.enabled_documents()
        docs, missing = [], []
        for z in zones:
            scope = resolve_scope(z, docs_meta)
            found = scope.docs or [n for n, m in docs_meta.items() if m.get("zone") == z]
            if not found:
                missing.append(z)
            docs.extend(d for d in found if d not in docs)
        if not docs:
            known = "、".join(sorted({m.get("zone", "") for m in docs_meta.values() if m.get("zone")}))
            raise QueryError(f"语料中没有这些园区: {'、'.join(zones)}。已有: {known}。")
        query = "和".join(zones) + (f"的{aspect}有什么不同?" if aspect else "有什么不同?")
        comp = Composer(self._library(mode), Resolved(query, docs=docs), {})
        ans = compare_request(comp, comp.resolved, missing=missing)
        if ans is None:
            raise QueryError("对比至少需要两个园区的文档。")
        return ans

    def stream(self, question: str, history: list[dict] | None = None, mode: str | None = None, **filters):
        """Yield the answer's Markdown in pieces (an LLM's tokens as they arrive); return the Answer
        (`ans = yield from bot.stream(...)`)."""
        import re

        comp, request = self._composer(question, history, mode, filters)
        ans = self._in_parts(request, history, mode, filters) if request.in_parts else self._decided(comp, request)
        if ans is None and request.mode == "llm":
            from .llm import llm_stream

            return (yield from llm_stream(comp))
        if ans is None:
            ans = comp.compose()
        for piece in re.split(r"(?<=\n)", ans.text):
            yield piece
        return ans
