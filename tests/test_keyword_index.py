"""The keyword index (assistant/keyword.py): BM25 equal to bm25s's, merges equal to rebuilds, and one saved index
opened memory-mapped by several processes, each paying little memory for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from assistant.chunking import chunk, search_text
from assistant.keyword import KeywordIndex, rows_path
from assistant.loading import load_document
from assistant.text import query_terms, tokenize

QUERIES = ["长治高新区2017年营业收入是多少", "产业链现代化攻坚战", "研发经费投入", "招商引资项目落地", "高端人才政策",
           "常德经开区规模工业产值"]


@pytest.fixture(scope="module")
def corpus(bundled):
    """(ids, texts, metas, tokens) of the bundled passages."""
    ids, texts, metas, tokens = [], [], [], []
    for name, path in sorted(bundled.items()):
        doc = load_document(path)
        for p in chunk(doc.text):
            ids.append(f"{name}:{p.start}")
            texts.append(p.text)
            metas.append({"doc": name, "start": p.start, "end": p.end, "section": p.section, **p.meta})
            tokens.append(tokenize(p.section + "\n" + search_text(p.text, p.meta)))
    return ids, texts, metas, tokens


def built(corpus, keep=lambda m: True, fingerprint="fp") -> KeywordIndex:
    ids, texts, metas, tokens = corpus
    sel = [i for i, m in enumerate(metas) if keep(m)]
    index = KeywordIndex()
    index.build([ids[i] for i in sel], [texts[i] for i in sel], fingerprint, [metas[i] for i in sel], None,
                [tokens[i] for i in sel])
    return index


def test_scores_are_bm25s_scores(corpus):
    import bm25s

    _, _, _, tokens = corpus
    reference = bm25s.BM25()
    reference.index([t or ["∅"] for t in tokens], show_progress=False)
    index = built(corpus)
    for q in QUERIES:
        terms = list(query_terms(q)) + ["营业收入"]  # a term given twice counts twice in both
        known = [t for t in terms if t in reference.vocab_dict]
        want = np.asarray(reference.get_scores(known), dtype=np.float32)
        assert np.allclose(index.scores(terms), want, rtol=1e-5, atol=1e-5), q


def test_a_merge_equals_a_rebuild_and_survives_save_and_open(corpus, tmp_path):
    ids, texts, metas, tokens = corpus
    names = sorted({m["doc"] for m in metas})
    gone, late = names[1], names[3]
    first = built(corpus, keep=lambda m: m["doc"] != late)
    first.save(tmp_path / "kw")
    opened = KeywordIndex.load(tmp_path / "kw")
    assert opened is not None and opened.records == first.records
    sel = [i for i, m in enumerate(metas) if m["doc"] == late]
    merged = opened.updated({gone}, [ids[i] for i in sel], [texts[i] for i in sel], [metas[i] for i in sel],
                            [tokens[i] for i in sel], "fp2")
    merged.save(tmp_path / "kw")
    again = KeywordIndex.load(tmp_path / "kw")
    rebuilt = built(corpus, keep=lambda m: m["doc"] != gone, fingerprint="fp2")
    for index in (merged, again):
        assert index.fingerprint == "fp2" and sorted(index.ids) == sorted(rebuilt.ids)
        assert dict(index.records.items()) == dict(rebuilt.records.items())
        for q in QUERIES:
            terms = list(query_terms(q))
            got, want = dict(index.search(terms, 30)), dict(rebuilt.search(terms, 30))
            assert got.keys() == want.keys() and all(abs(got[k] - want[k]) < 1e-4 for k in got), q
            only = {names[0], late}
            assert {index.records[p]["meta"]["doc"] for p, _ in index.search(terms, 30, docs=only)} <= only
    assert KeywordIndex.load(tmp_path / "kw", verify=True) is not None


def test_a_damaged_row_is_never_served(corpus, tmp_path):
    import sqlite3

    index = built(corpus)
    index.save(tmp_path / "kw")
    pid = index.ids[7]
    with sqlite3.connect(str(rows_path(tmp_path / "kw"))) as db:
        db.execute("UPDATE p SET text = '被篡改' || text WHERE id = ?", (pid,))
    opened = KeywordIndex.load(tmp_path / "kw")  # opening does not read rows
    assert opened is not None and not opened.damaged
    with pytest.raises(KeyError):  # no fallback given: the row is refused, not served
        opened.records[pid]
    assert opened.damaged
    opened.fallback = lambda p: {"text": "from chroma", "meta": {}}
    assert opened.records[pid]["text"] == "from chroma"
    assert KeywordIndex.load(tmp_path / "kw", verify=True) is None


OPEN_AND_SEARCH = r"""
import json, sys, time
from pathlib import Path

def status():
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) // 1024  # MB
    return out

from assistant.keyword import KeywordIndex
from assistant.text import query_terms
query_terms("长治高新区营业收入")  # jieba's dictionary (~60 MB) is the tokenizer's, not the index's
before = status()
t = time.perf_counter()
index = KeywordIndex.load(Path(sys.argv[1]))
opened_s = time.perf_counter() - t
results = {}
for q in json.loads(sys.argv[2]):
    hits = index.search(list(query_terms(q)), 10)
    results[q] = [[pid, round(score, 4), index.records[pid]["text"][:20]] for pid, score in hits]
after = status()
maps = Path("/proc/self/maps").read_text()
print(json.dumps({"results": results, "before": before, "after": after, "opened_s": opened_s,
                  "mapped": [name for name in ("post_doc.npy", "post_tf.npy", "doclen.npy") if name in maps]}))
"""


def test_two_processes_share_one_saved_index(corpus, tmp_path):
    """40 copies of the bundled passages (~9,500, ~60 MB of passage rows): each process opens the saved index
    memory-mapped, searches it and reads its hits, and its private memory grows by a small fraction of what
    the passages take on disk (the previous format read every passage into each process)."""
    ids, texts, metas, tokens = corpus
    copies = 40
    index = KeywordIndex()
    index.build([f"{c}-{pid}" for c in range(copies) for pid in ids], [t for _ in range(copies) for t in texts],
                "fp", [{**m, "doc": f"{c}-{m['doc']}"} for c in range(copies) for m in metas], None,
                [t for _ in range(copies) for t in tokens])
    index.save(tmp_path / "kw")
    expected = {q: [[pid, round(score, 4), index.records[pid]["text"][:20]] for pid, score in
                    index.search(list(query_terms(q)), 10)] for q in QUERIES}
    rows_mb = rows_path(tmp_path / "kw").stat().st_size / 2**20
    procs = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(OPEN_AND_SEARCH), str(tmp_path / "kw"),
                               json.dumps(QUERIES, ensure_ascii=False)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    for out in outs:
        assert json.loads(json.dumps(out["results"])) == json.loads(json.dumps(expected, ensure_ascii=False))
        assert set(out["mapped"]) == {"post_doc.npy", "post_tf.npy", "doclen.npy"}  # mapped, not read
        anon = out["after"]["RssAnon"] - out["before"]["RssAnon"]
        print(f"\nopen + 6 searches of {len(index.ids)} passages: +{anon} MB private "
              f"(+{out['after']['VmRSS'] - out['before']['VmRSS']} MB RSS), opened in {out['opened_s']:.3f} s; "
              f"passage rows on disk {rows_mb:.0f} MB")
        assert anon < max(24.0, rows_mb / 3), (anon, rows_mb, out)
