"""Curator tools (issue 14): the retrieval test (explain), metadata fixes, enable / disable, the user lexicon.

Every test builds a real store from documents written for it (tests/library_kit.library_with) and asserts on
typed fields: Answer / Quote, Explanation / ExplainedHit, the registry records. The CLI cases run the real
console script against such a store.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading

import pytest

from library_kit import library_with

SUMMARY = "2019年工作总结.txt"  # says no zone: the loader cannot tell which zone it is about
CHANGDE = "常德经开区2019年工作报告.txt"
DOCS = {
    SUMMARY: "2019年工作总结\n\n"
             "一、主要经济指标\n"
             "2019年，全区实现技工贸总收入520亿元，同比增长12.5%。规模以上工业增加值增长9.1%。"
             "新增众创空间12家，新认定高新技术企业35家。\n\n"
             "二、下一步工作\n"
             "2020年，力争技工贸总收入突破600亿元，加快推进项目建设。\n",
    CHANGDE: "常德经开区2019年工作报告\n\n"
             "一、2019年工作回顾\n"
             "2019年，常德经开区实现地区生产总值180亿元，增长8%。税收收入完成21亿元，同比增长6.2%。\n\n"
             "二、2020年工作安排\n"
             "推进项目建设，优化营商环境，新增规模以上工业企业20家。\n",
}
ZONE_QUESTION = "青山高新区2019年技工贸总收入是多少?"
SYNONYM_QUESTION = "2019年总营收是多少?"  # 总营收: the curator's word; the built-in lexicon reads 营收 as 营业收入


@pytest.fixture
def bot(tmp_path_factory, shared_cache):
    """A fresh library per test: the tests below change it."""
    return library_with(tmp_path_factory, shared_cache, DOCS, label="curator")


def _fresh(bot):
    """Another Assistant on the same home: what a restart, or another session, sees."""
    from assistant.bot import Assistant

    return Assistant(bot.settings)


# ------------------------------------------------------------------------------------ retrieval test


def test_explain_ranks_exactly_as_search_with_scores_in_unit_range(bot):
    for query, kwargs in [("常德经开区2019年税收收入是多少?", {}), ("项目建设", {"k": 4}),
                          ("总结一下工作", {}), ("新增多少家企业", {"zone": "常德经开区"})]:
        ex = bot.explain(query, **kwargs)
        hits = bot.search(query, **kwargs)
        assert [(h.doc, h.start, h.end) for h in ex.hits] == [(h.doc, h.start, h.end) for h in hits]
        assert [h.rank for h in ex.hits] == list(range(1, len(hits) + 1))
        for h in ex.hits:
            assert 0.0 <= h.keyword <= 1.0 and 0.0 <= h.vector <= 1.0 and 0.0 <= h.fused <= 1.0, h
            assert h.title and h.text
        fused = [h.fused for h in ex.hits]
        assert fused == sorted(fused, reverse=True)
    summary = bot.explain("总结一下工作")
    assert summary.ceiling > 1.0  # a summary may get a bonus: fused is over the most it could score


def test_explain_reports_scope_signal_and_tokens(bot):
    ex = bot.explain("常德经开区2019年税收收入是多少?")
    assert ex.scope["via"] == "metadata" and ex.scope["zones"] == ["常德经开区"]
    assert ex.scope["docs"] == [CHANGDE]
    assert "税收收入" in ex.tokens and not any("常德" in t for t in ex.tokens)  # scope-naming words dropped
    assert {h.doc for h in ex.hits} == {CHANGDE}
    filtered = bot.explain("项目建设", zone="常德经开区")
    assert filtered.scope["via"] == "filter" and filtered.scope["zones"] == ["常德经开区"]
    assert filtered.scope["filters"] == {"zone": "常德经开区"}
    everywhere = bot.explain("项目建设")
    assert everywhere.scope["via"] == "" and everywhere.scope["docs"] == []
    data = json.loads(json.dumps(ex.to_dict(), ensure_ascii=False))
    assert data["query"] == ex.query and data["tokens"] == ex.tokens and data["scope"]["via"] == "metadata"
    assert set(data["hits"][0]) >= {"rank", "doc", "title", "zone", "section", "start", "end", "text",
                                    "keyword", "vector", "fused"}


# ------------------------------------------------------------------------------------ metadata


def test_wrong_zone_fixed_with_meta_makes_the_question_answer(bot):
    before = bot.documents()[SUMMARY]
    assert not before.get("zone")
    declined = bot.ask(ZONE_QUESTION)
    assert declined.kind == "not_found"
    record = bot.set_meta(SUMMARY, zone="青山高新区")
    assert record["zone"] == "青山高新区" and "zone:curator" in record["meta_sources"]
    assert record["doc_hash"] == before["doc_hash"] and record["n_passages"] == before["n_passages"]  # no re-ingest
    ans = bot.ask(ZONE_QUESTION)
    assert ans.kind == "answer", ans.reason
    assert ans.lead[0].doc == SUMMARY and ans.lead[0].zone == "青山高新区"
    assert "520亿元" in ans.lead[0].text
    # the same at once in another session (the registry is the store's, not this object's)
    again = _fresh(bot).ask(ZONE_QUESTION)
    assert again.kind == "answer" and again.lead[0].zone == "青山高新区"
    # retrieval reads the corrected fields too: the hit, its explanation and the year filter
    hit = bot.search("技工贸总收入", zone="青山高新区")[0]
    assert hit.doc == SUMMARY and hit.zone == "青山高新区"


def test_meta_title_year_kind_speaker_date_are_used_at_once(bot):
    record = bot.set_meta(SUMMARY, title="青山高新区2019年工作总结", speaker="王明", kind="工作总结",
                          date="2020年1月15日")
    assert record["title"] == "青山高新区2019年工作总结" and record["speaker"] == "王明"
    assert record["date"] == "2020-01-15" and record["year"] == 2020  # a date sets the year unless one is given
    record = bot.set_meta(SUMMARY, year="2019")
    assert record["year"] == 2019 and record["date"] == "2020-01-15"
    assert json.loads(record["user_meta"]) == {"title": "青山高新区2019年工作总结", "speaker": "王明",
                                               "kind": "工作总结", "date": "2020-01-15", "year": 2019}
    assert [h.doc for h in bot.search("技工贸总收入", year=2019, doc=SUMMARY)] == [SUMMARY] * 3
    ex = bot.explain("技工贸总收入", doc=SUMMARY)
    assert {h.title for h in ex.hits} == {"青山高新区2019年工作总结"}
    ans = bot.ask("2019年技工贸总收入是多少?", doc=SUMMARY)
    assert ans.kind == "answer" and ans.lead[0].title == "青山高新区2019年工作总结" and ans.lead[0].speaker == "王明"


def test_meta_survives_restart_and_reingest(bot, tmp_path):
    bot.set_meta(SUMMARY, zone="青山高新区", year=2019)
    assert _fresh(bot).documents()[SUMMARY]["zone"] == "青山高新区"
    path = tmp_path / SUMMARY
    path.write_text(DOCS[SUMMARY], "utf-8")
    assert bot.ingest([path]).results[0].status == "unchanged"
    path.write_text(DOCS[SUMMARY] + "\n三、其他\n加强党的建设。\n", "utf-8")
    result = bot.ingest([path]).results[0]
    assert result.status == "replaced"
    record = _fresh(bot).documents()[SUMMARY]
    assert record["zone"] == "青山高新区" and record["year"] == 2019
    assert "zone:curator" in record["meta_sources"] and record["n_passages"] == result.passages
    ans = _fresh(bot).ask(ZONE_QUESTION)
    assert ans.kind == "answer" and ans.lead[0].zone == "青山高新区"


def test_meta_errors_are_clear(bot):
    from assistant.errors import AssistantError, EditError

    with pytest.raises(EditError, match="没有名为"):
        bot.set_meta("不存在.txt", zone="青山高新区")
    with pytest.raises(EditError, match="年份"):
        bot.set_meta(SUMMARY, year="abc")
    with pytest.raises(EditError, match="未知的文档类型"):
        bot.set_meta(SUMMARY, kind="小说")
    with pytest.raises(EditError, match="日期"):
        bot.set_meta(SUMMARY, date="去年春天")
    with pytest.raises(AssistantError, match="没有名为"):
        bot.set_enabled("不存在.txt", False)
    assert not bot.documents()[SUMMARY].get("user_meta")  # nothing half-written


def test_concurrent_askers_see_the_old_or_the_new_zone(bot):
    bot.search("技工贸总收入")  # warm up the keyword index and the model
    seen: list[set] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        try:
            while not stop.is_set():
                hits = [h for h in bot.search("技工贸总收入", k=3) if h.doc == SUMMARY]
                seen.append({h.zone for h in hits})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for zone in ["青山高新区", "青石高新区", "青山高新区"]:
        bot.set_meta(SUMMARY, zone=zone)
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert seen and all(len(zones) == 1 for zones in seen)  # never passages of one document in two states


# ------------------------------------------------------------------------------------ enable / disable


def test_disabled_document_is_never_retrieved_or_quoted(bot, tmp_path):
    from assistant.errors import QueryError

    assert bot.ask("2019年技工贸总收入是多少?").lead[0].doc == SUMMARY
    record = bot.set_enabled(SUMMARY, False)
    assert record["enabled"] is False and bot.documents()[SUMMARY]["enabled"] is False
    assert bot.documents()[CHANGDE]["enabled"] is True
    assert SUMMARY not in {h.doc for h in bot.search("技工贸总收入", k=10)}
    assert SUMMARY not in {h.doc for h in bot.explain("技工贸总收入 众创空间", k=10).hits}
    ans = bot.ask("2019年技工贸总收入是多少?")
    assert SUMMARY not in {q.doc for q in ans.quotes} and SUMMARY not in {q.doc for q in ans.nearest}
    with pytest.raises(QueryError, match="已停用"):
        bot.summarize(SUMMARY)
    with pytest.raises(QueryError, match="已停用"):
        bot.search("技工贸总收入", doc=SUMMARY)
    # kept across a restart and a re-ingest of a new version of the file
    path = tmp_path / SUMMARY
    path.write_text(DOCS[SUMMARY] + "\n三、其他\n加强党的建设。\n", "utf-8")
    assert bot.ingest([path]).results[0].status == "replaced"
    later = _fresh(bot)
    assert later.documents()[SUMMARY]["enabled"] is False
    assert SUMMARY not in {h.doc for h in later.search("技工贸总收入", k=10)}
    later.set_enabled(SUMMARY, True)
    assert later.ask("2019年技工贸总收入是多少?").lead[0].doc == SUMMARY


# ------------------------------------------------------------------------------------ user lexicon


def test_synonym_added_turns_a_decline_into_an_answer(bot):
    declined = bot.ask(SYNONYM_QUESTION)
    assert declined.kind == "not_found"
    hashes = {n: m["doc_hash"] for n, m in bot.documents().items()}
    entry = bot.lexicon_add("总营收", ["技工贸总收入"])
    assert entry == {"word": "总营收", "synonyms": ["技工贸总收入"], "kind": "synonym"}
    assert bot.lexicon_entries() == [entry]
    ans = bot.ask(SYNONYM_QUESTION)
    assert ans.kind == "answer", ans.reason
    assert ans.lead[0].doc == SUMMARY and "技工贸总收入520亿元" in ans.lead[0].text
    assert {n: m["doc_hash"] for n, m in bot.documents().items()} == hashes  # nothing re-ingested
    ex = bot.explain(SYNONYM_QUESTION)
    assert "技工贸总收入" in ex.expanded and "技工贸总收入" in ex.tokens  # the query expanded, not the documents
    removed = bot.lexicon_remove("总营收")
    assert [e["word"] for e in removed] == ["总营收"] and bot.lexicon_entries() == []
    assert bot.ask(SYNONYM_QUESTION).kind == "not_found"


def test_synonyms_widen_what_a_sentence_says():
    from assistant.text import normalize
    from assistant.userlex import parse

    lex = parse('[synonyms]\n"孵化器" = ["众创空间", "孵化载体"]\n'.encode())
    assert lex.expansion("有几家孵化器?") and "众创" in " ".join(lex.expansion("有几家孵化器?"))
    said = lex.widen(normalize("新增众创空间12家"))
    assert "孵化器" in said and said.startswith("新增众创空间12家")
    assert lex.widen("没有关系的句子") == "没有关系的句子"


def test_zone_alias_names_the_zone_in_scope(bot):
    bot.set_meta(SUMMARY, zone="青山高新区")
    assert bot.explain("青高的技工贸总收入").scope["docs"] == []
    bot.lexicon_add("青高", ["青山高新区"], kind="zone")
    ex = bot.explain("青高的技工贸总收入")
    assert ex.scope["docs"] == [SUMMARY] and ex.scope["via"] == "metadata" and ex.scope["mentions"] == ["青高"]
    assert bot.documents()[SUMMARY]["user_aliases"] == ["青高"]
    ans = bot.ask("青高2019年技工贸总收入是多少?")
    assert ans.kind == "answer" and ans.lead[0].doc == SUMMARY


def test_user_lexicon_is_reread_when_its_file_changes(bot):
    from assistant.userlex import path_in

    path = path_in(bot.settings.home)
    path.write_text('[synonyms]\n"总营收" = ["技工贸总收入"]\n', "utf-8")  # written by hand, or another process
    assert bot.ask(SYNONYM_QUESTION).kind == "answer"
    path.write_text('[synonyms]\n"总营收" = [\n', "utf-8")  # a broken file: read as empty, reported by doctor
    assert bot.ask(SYNONYM_QUESTION).kind == "not_found"
    assert any("无法解析" in p for p in bot.lexicon_problems())
    path.write_text('[synonyms]\n"营收额" = ["营收额", ""]\n"" = ["营业收入"]\n[zones]\n"青山园" = ["青山高新区"]\n',
                    "utf-8")
    problems = bot.lexicon_problems()
    assert any("它自己的同义词" in p for p in problems) and any("空" in p for p in problems)
    assert any("不是任何文档的园区" in p for p in problems)


def test_lexicon_errors_are_clear(bot):
    from assistant.errors import EditError

    with pytest.raises(EditError, match="自己的同义词"):
        bot.lexicon_add("营收", ["营收"])
    with pytest.raises(EditError, match="同义词"):
        bot.lexicon_add("营收", [])
    with pytest.raises(EditError, match="不能为空"):
        bot.lexicon_add(" ", ["营业收入"])
    with pytest.raises(EditError, match="没有「"):
        bot.lexicon_remove("从未添加")
    bot.lexicon_add("营收额", ["营业收入"])
    bot.lexicon_add("营收额", ["营业总收入", "营业收入"])  # a word added again gains the new synonyms
    assert bot.lexicon_entries() == [{"word": "营收额", "synonyms": ["营业收入", "营业总收入"], "kind": "synonym"}]


# ------------------------------------------------------------------------------------ CLI


def _run(assistant_exe, home, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_AUTO_INGEST": "0"}
    env.pop("ASSISTANT_DEBUG", None)
    return subprocess.run([assistant_exe, *args], env=env, capture_output=True, text=True, timeout=300)


def _user_error(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误"), res.stderr
    return lines[0]


def test_cli_search_explain(bot, assistant_exe):
    home = bot.settings.home
    res = _run(assistant_exe, home, "search", "常德经开区2019年税收收入是多少?", "--explain", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["scope"]["via"] == "metadata" and data["scope"]["zones"] == ["常德经开区"]
    assert "税收收入" in data["tokens"]
    assert data["hits"] and data["hits"][0]["doc"] == CHANGDE
    for h in data["hits"]:
        assert all(0.0 <= h[key] <= 1.0 for key in ("keyword", "vector", "fused"))
    res = _run(assistant_exe, home, "search", "项目建设", "--explain", "--zone", "常德经开区", "-k", "2")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "检索: 项目建设" and lines[1].startswith("词: ") and "项目" in lines[1]
    assert lines[2].startswith("范围: 指定的筛选条件") and "常德经开区" in lines[2]
    ranked = [ln for ln in lines if ln.startswith("[")]
    assert len(ranked) == 2 and ranked[0].startswith("[1] fused ") and "keyword" in ranked[0] and "vector" in ranked[0]


def test_cli_meta_disable_enable_and_lexicon(bot, assistant_exe):
    home = bot.settings.home
    res = _run(assistant_exe, home, "meta", SUMMARY, "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["doc"] == SUMMARY and not json.loads(res.stdout).get("zone")
    res = _run(assistant_exe, home, "meta", SUMMARY, "--zone", "青山高新区", "--year", "2019", "--json")
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert shown["zone"] == "青山高新区" and shown["year"] == 2019 and "zone:curator" in shown["meta_sources"]
    res = _run(assistant_exe, home, "meta", SUMMARY)
    assert res.returncode == 0 and any(ln.split() == ["zone", "青山高新区"] for ln in res.stdout.splitlines())
    assert "年份" in _user_error(_run(assistant_exe, home, "meta", SUMMARY, "--year", "abc"))
    assert "没有名为" in _user_error(_run(assistant_exe, home, "meta", "不存在.txt", "--zone", "青山高新区"))

    res = _run(assistant_exe, home, "disable", SUMMARY)
    assert res.returncode == 0 and res.stdout.startswith(f"disabled {SUMMARY}"), res.stderr
    res = _run(assistant_exe, home, "docs")
    rows = {ln.split()[0]: ln.split() for ln in res.stdout.splitlines()[2:]}
    assert rows[SUMMARY][-1] == "disabled" and rows[CHANGDE][-1] == "enabled"
    assert json.loads(_run(assistant_exe, home, "docs", "--json").stdout)[0]["enabled"] is False
    res = _run(assistant_exe, home, "ask", ZONE_QUESTION, "--json")
    assert res.returncode == 0 and SUMMARY not in {q["doc"] for q in json.loads(res.stdout)["quotes"]}
    assert "没有名为" in _user_error(_run(assistant_exe, home, "disable", "不存在.txt"))
    res = _run(assistant_exe, home, "enable", SUMMARY)
    assert res.returncode == 0 and res.stdout.strip() == f"enabled {SUMMARY}"

    res = _run(assistant_exe, home, "lexicon", "add", "总营收", "技工贸总收入")
    assert res.returncode == 0 and res.stdout.startswith("added 总营收"), res.stderr
    res = _run(assistant_exe, home, "lexicon", "add", "青山园", "青山高新区", "--zone")
    assert res.returncode == 0, res.stderr
    res = _run(assistant_exe, home, "lexicon", "list", "--json")
    assert json.loads(res.stdout) == [{"word": "总营收", "synonyms": ["技工贸总收入"], "kind": "synonym"},
                                      {"word": "青山园", "synonyms": ["青山高新区"], "kind": "zone"}]
    res = _run(assistant_exe, home, "lexicon", "list")
    assert res.stdout.splitlines()[0].split() == ["word", "synonyms", "kind"] and len(res.stdout.splitlines()) == 4
    res = _run(assistant_exe, home, "ask", SYNONYM_QUESTION, "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["kind"] == "answer", res.stdout
    assert "自己的同义词" in _user_error(_run(assistant_exe, home, "lexicon", "add", "营收", "营收"))
    res = _run(assistant_exe, home, "lexicon", "remove", "总营收")
    assert res.returncode == 0 and res.stdout.strip() == "removed 总营收 (synonym)"
    assert "没有「总营收」" in _user_error(_run(assistant_exe, home, "lexicon", "remove", "总营收"))


def test_cli_doctor_reports_user_lexicon_problems(bot, assistant_exe):
    from assistant.userlex import path_in

    home = bot.settings.home
    res = _run(assistant_exe, home, "doctor", "--check")
    assert res.returncode == 0 and "user lexicon" not in res.stdout, res.stdout
    path_in(home).write_text('[synonyms]\n"营收" = ["营收"]\n', "utf-8")
    res = _run(assistant_exe, home, "doctor", "--check")
    assert res.returncode == 1 and "它自己的同义词" in res.stdout and "user lexicon: problems found" in res.stdout
