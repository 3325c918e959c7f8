"""The real `assistant` console script, run as a subprocess against the session store (or fresh homes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

D002 = "002_e3c827dfd055a908.txt"
D003 = "003_944198d32a153964.txt"
D004 = "004_8f875c1b6a79fb69.txt"


def run(args: list[str], home, timeout: float = 180, **env_extra) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_HOME": str(home), **env_extra}
    env.pop("ASSISTANT_DEBUG", None)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def assert_user_error(res: subprocess.CompletedProcess, code: int = 2) -> str:
    assert res.returncode == code, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("错误")
    return lines[0]


@pytest.fixture(scope="module")
def home(corpus_home):
    return corpus_home.settings.home


@pytest.fixture
def cli(assistant_exe, home):
    def call(*args, **env):
        return run([assistant_exe, *args], home, **env)
    return call


# ------------------------------------------------------------------------------------ read commands


def test_docs_table(cli):
    res = cli("docs")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["doc", "zone"]
    assert set(lines[1]) <= {"-", " "}
    rows = lines[2:]
    assert len(rows) == 5
    assert [r.split()[0] for r in rows] == sorted(r.split()[0] for r in rows)
    assert "长治高新区" in rows[0] and "张志刚" in rows[0]


def test_docs_json(cli, corpus_home):
    res = cli("docs", "--json")
    assert res.returncode == 0, res.stderr
    docs = json.loads(res.stdout)
    assert len(docs) == 5
    by_name = {d["doc"]: d for d in docs}
    assert set(by_name) == set(corpus_home.documents())
    assert by_name[D002]["zone"] == "常德经开区"
    assert by_name[D002]["speaker"] == "李育智"
    assert all(d["n_passages"] > 0 and d["doc_hash"] for d in docs)


def test_search_json(cli, corpus_home):
    res = cli("search", "常德经开区2020年规模工业产值多少?", "--json", "-k", "4")
    assert res.returncode == 0, res.stderr
    hits = json.loads(res.stdout)
    assert 0 < len(hits) <= 4
    for h in hits:
        assert set(h) == {"doc", "text", "score", "zone", "section", "start", "end"}
        assert corpus_home.store.document_text(h["doc"])[h["start"]:h["end"]] == h["text"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert hits[0]["doc"] == D002 and hits[0]["zone"] == "常德经开区"


def test_search_text_output_and_filters(cli):
    res = cli("search", "高质量发展", "--zone", "长沙经开区", "--year", "2020", "-k", "3")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("[1] ")
    assert res.stdout.count(D003) == 3
    res = cli("search", "高质量发展", "--year", "1999", "--json")
    assert res.returncode == 0 and json.loads(res.stdout) == []
    res = cli("search", "招商", "--doc", D004, "--json")
    assert res.returncode == 0 and {h["doc"] for h in json.loads(res.stdout)} == {D004}


def test_search_explain(cli, corpus_home):
    """The retrieval test: the same passages as `search`, each with keyword, vector and fused scores in 0-1,
    the scope applied and its signal, the tokens searched."""
    query = "常德经开区2020年规模工业产值多少?"
    res = cli("search", query, "--explain", "--json", "-k", "4")
    assert res.returncode == 0, res.stderr
    ex = json.loads(res.stdout)
    plain = json.loads(cli("search", query, "--json", "-k", "4").stdout)
    assert [(h["doc"], h["start"]) for h in ex["hits"]] == [(h["doc"], h["start"]) for h in plain]
    assert [h["rank"] for h in ex["hits"]] == list(range(1, len(plain) + 1))
    for h in ex["hits"]:
        assert all(0.0 <= h[key] <= 1.0 for key in ("keyword", "vector", "fused")), h
        assert corpus_home.store.document_text(h["doc"])[h["start"]:h["end"]] == h["text"]
    assert ex["scope"]["via"] == "metadata" and ex["scope"]["zones"] == ["常德经开区"]
    assert ex["scope"]["docs"] == [D002] and ex["scope"]["mentions"] == ["常德经开区"]
    assert "规模" in ex["tokens"] and "常德" not in ex["tokens"]  # the words that named the scope are dropped
    res = cli("search", "高质量发展", "--explain", "--zone", "长沙经开区", "-k", "2")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "检索: 高质量发展" and lines[2].startswith("范围: 指定的筛选条件")
    assert [ln.split()[:2] for ln in lines if ln.startswith("[")] == [["[1]", "fused"], ["[2]", "fused"]]


def test_search_empty_query(cli):
    assert_user_error(cli("search", ""))


def test_search_overlong_query(cli):
    line = assert_user_error(cli("search", "园" * 10000))
    assert "太长" in line


def test_search_unknown_zone(cli):
    line = assert_user_error(cli("search", "x", "--zone", "苏州"))
    assert "苏州" in line


def test_search_unknown_doc(cli):
    assert "nope.txt" in assert_user_error(cli("search", "营业收入", "--doc", "nope.txt"))


def test_remove_unknown_doc(cli):
    line = assert_user_error(cli("remove", "no_such_doc.txt"))
    assert "no_such_doc.txt" in line


def test_bad_arguments_exit_2(cli):
    res = cli("search")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    res = cli("frobnicate")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_output_piped_into_a_closed_reader(assistant_exe, home):
    """`assistant search … --json | head -1`: the reader goes away; that is not an error to report."""
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    proc = subprocess.Popen([assistant_exe, "search", "营业收入", "-k", "200", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(1) == b"["
    proc.stdout.close()  # ~100 KB of JSON: more than a pipe buffer, so the writer hits EPIPE
    _, err = proc.communicate(timeout=120)
    err = err.decode("utf-8", "replace")
    assert "Traceback" not in err
    assert "BrokenPipe" not in err and "错误" not in err, err
    assert proc.returncode in (0, 141, -13), proc.returncode  # 141 / SIGPIPE: what `head` users expect


def test_python_dash_m(home):
    res = run([sys.executable, "-m", "assistant", "docs"], home)
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.strip().splitlines()) == 7


def test_doctor_check_on_a_healthy_store(cli):
    res = cli("doctor", "--check")
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert "store OK" in res.stdout


def test_eval_retrieval_only(cli, dev_eval_path):
    res = cli("eval", str(dev_eval_path), "--retrieval-only")
    assert res.returncode == 0, res.stderr
    assert "hit@5" in res.stdout
    value = float(res.stdout.split("hit@5", 1)[1].split()[0])
    assert value >= 0.95, res.stdout


# ------------------------------------------------------------------------------------ writing commands (fresh homes)


def test_ingest_bad_file(assistant_exe, tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    res = run([assistant_exe, "ingest", str(bad)], tmp_path / "home")
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["failed", "empty.txt"]
    assert "failed 1" in lines[-1]


def test_ingest_directory_then_remove(assistant_exe, tmp_path, bundled, corpus_home):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(bundled[D003], folder / D003)
    shutil.copy(bundled[D004], folder / "sub" / D004)
    (folder / "notes.txt").write_text("English only.\n", "utf-8")
    home = tmp_path / "home"

    res = run([assistant_exe, "ingest", str(folder)], home)
    assert res.returncode == 1, (res.stdout, res.stderr)  # one file failed
    status = {ln.split()[1]: ln.split()[0] for ln in res.stdout.strip().splitlines()[:-1]}
    assert status == {D003: "added", D004: "added", "notes.txt": "failed"}
    assert res.stdout.strip().splitlines()[-1] == "added 2, unchanged 0, replaced 0, failed 1"

    (folder / "notes.txt").unlink()
    res = run([assistant_exe, "ingest", str(folder)], home)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == "added 0, unchanged 2, replaced 0, failed 0"

    res = run([assistant_exe, "docs", "--json"], home)
    assert sorted(d["doc"] for d in json.loads(res.stdout)) == [D003, D004]  # no auto-ingest on top

    res = run([assistant_exe, "remove", D003], home)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"removed {D003}")
    res = run([assistant_exe, "search", "产业链现代化", "--json"], home)
    assert res.returncode == 0 and {h["doc"] for h in json.loads(res.stdout)} == {D004}
