"""A realistic larger corpus for scale tests: the five real documents plus N-5 generated distractors.

    .venv/bin/python benchmarks/gen_corpus.py OUT_DIR [-n 300] [--seed 7] [--dev PATH]

Each distractor is a speech, 工作要点 or 务虚会 outline "of" another zone (株洲高新区, 宝鸡经开区, … never one of the
five corpus zones, never a masked name, never a place a dev question names) and year. It keeps the skeleton
of one real document (title block, opening, numbered parts) for a random share of its parts, and swaps a
third of its body paragraphs for paragraphs of the other documents. In every paragraph the source zone, its
long form, city, province, speaker and masked names (×, XX, X) are replaced by the new ones, years are
shifted, and figures are perturbed, so that distractors read like real documents and hold plausible but
different numbers.

The dev questions stay answerable and their evidence stays unique: any generated paragraph that holds 60% of
a dev evidence string as one run (the rule assistant.evaluate uses for a hit) is dropped, and the generator
asserts that none is left.

Writes OUT_DIR/NNN_<zone>_<year>.txt for the distractors, copies of the five real files, and
OUT_DIR/manifest.json with the metadata of all of them (what a deployment would supply; the Store reads a
manifest.json beside the files). The output is a pure function of (n, seed, dev set): re-runs produce the same
texts, so the Store's embedding cache makes re-ingest cheap.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import clean_docs, dev_path  # noqa: E402

# Places of distractor zones, by province. None is a corpus zone's place (长治 常德 长沙), a masked name, or a
# place a dev question names (苏州); checked again at run time against the dev set.
PLACES = {
    "山西": ["太原", "大同", "晋城", "运城", "临汾", "晋中"],
    "甘肃": ["兰州", "天水", "酒泉", "张掖", "武威"],
    "湖南": ["株洲", "湘潭", "衡阳", "岳阳", "益阳", "郴州", "娄底", "怀化"],
    "河南": ["洛阳", "新乡", "安阳", "南阳", "平顶山", "许昌"],
    "湖北": ["襄阳", "宜昌", "荆门", "孝感", "黄石"],
    "江西": ["赣州", "九江", "吉安", "新余", "鹰潭"],
    "安徽": ["芜湖", "蚌埠", "马鞍山", "滁州", "铜陵"],
    "陕西": ["宝鸡", "咸阳", "渭南", "榆林"],
    "四川": ["绵阳", "德阳", "自贡", "泸州", "乐山"],
    "山东": ["潍坊", "淄博", "济宁", "威海", "临沂"],
    "江苏": ["常州", "泰州", "盐城", "镇江"],
    "广西": ["柳州", "桂林", "北海"],
}
SUFFIX = {"高新区": "高新技术产业开发区", "经开区": "经济技术开发区"}
SURNAMES = "王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "志建国明华军平伟强文斌海东亮林勇杰峰涛超波辉刚健宏宇鹏飞俊晓红春兴德胜永新光荣成安庆"

# What each real document calls itself: replaced in every paragraph taken from it.
SOURCES = {
    "000_bd134bdf4e19f00a.txt": {"zone": "长治高新区", "long": "长治高新技术产业开发区", "place": "长治",
                                 "province": "山西", "speaker": "张志刚", "suffix": "高新区"},
    "001_86a68042849f8c0b.txt": {"zone": "×高新区", "long": "×高新技术产业开发区", "place": "×",
                                 "province": "甘肃", "speaker": "", "suffix": "高新区"},
    "002_e3c827dfd055a908.txt": {"zone": "常德经开区", "long": "常德经济技术开发区", "place": "常德",
                                 "province": "湖南", "speaker": "李育智", "suffix": "经开区"},
    "003_944198d32a153964.txt": {"zone": "长沙经开区", "long": "长沙经济技术开发区", "place": "长沙",
                                 "province": "湖南", "speaker": "", "suffix": "经开区"},
    "004_8f875c1b6a79fb69.txt": {"zone": "XX区", "long": "XX区", "place": "XX", "province": "",
                                 "speaker": "", "suffix": "区"},
}
SOURCE_YEAR = {"000_bd134bdf4e19f00a.txt": 2018, "001_86a68042849f8c0b.txt": 2021,
               "002_e3c827dfd055a908.txt": 2021, "003_944198d32a153964.txt": 2020,
               "004_8f875c1b6a79fb69.txt": 2018}
# Sub-places of the real documents (counties, districts) that would tie a distractor to a real zone.
SUB_PLACES = ["上党", "武陵", "鼎城", "星沙", "白银"]


def _squash(s: str) -> str:
    from assistant.text import squash

    return squash(s)


class EvidenceGuard:
    """True for a paragraph that holds >= 60% of a dev evidence string as one run (assistant.evaluate's rule)."""

    def __init__(self, items: list[dict], shingle: int = 6) -> None:
        self.evidence = sorted({_squash(e) for it in items for e in (it.get("evidence") or []) if e.strip()})
        self.k = shingle
        self.grams: dict[str, set[int]] = {}
        for n, e in enumerate(self.evidence):
            for i in range(max(1, len(e) - self.k + 1)):
                self.grams.setdefault(e[i:i + self.k], set()).add(n)

    def hits(self, text: str) -> bool:
        from assistant.evaluate import longest_run

        t = _squash(text)
        cands: set[int] = set()
        for i in range(max(1, len(t) - self.k + 1)):
            cands |= self.grams.get(t[i:i + self.k], set())
        for n in cands:
            e = self.evidence[n]
            if e in t or longest_run(e, t) >= 0.6 * len(e):
                return True
        # short evidence (< shingle) is checked directly
        return any(len(e) < self.k and e in t for e in self.evidence)


def _heading_level(line: str) -> int | None:
    from assistant.chunking import heading_level

    return heading_level(line)


_CN = "一二三四五六七八九十"


def _cn_num(n: int) -> str:
    if n <= 10:
        return _CN[n - 1]
    return ("" if n < 20 else _CN[n // 10 - 1]) + "十" + (_CN[n % 10 - 1] if n % 10 else "")


class Generator:
    def __init__(self, items: list[dict], seed: int = 7) -> None:
        self.items = items
        self.seed = seed
        self.docs = {d.name: d for d in clean_docs()}
        self.guard = EvidenceGuard(items)
        questions = " ".join(it["question"] + " " + " ".join(h["content"] for h in it.get("history") or [])
                             for it in items)
        self.zones = []
        for prov, places in PLACES.items():
            for place in places:
                assert place not in questions, f"{place} is named by a dev question"
                for suffix in ("高新区", "经开区"):
                    self.zones.append((place + suffix, place, prov, suffix))
        real = {m["zone"] for m in SOURCES.values()}
        assert not real & {z for z, *_ in self.zones}
        # body paragraphs of every real document (no headings, no title block), evidence-free
        self.pool: list[tuple[str, str]] = []
        self.skeletons: dict[str, tuple[list[str], list[list[str]]]] = {}
        for name, d in self.docs.items():
            head, parts = self._split(d.text)
            self.skeletons[name] = (head, parts)
            for part in parts:
                for p in part[1:]:
                    if _heading_level(p) is None and len(p) >= 40:
                        self.pool.append((name, p))
        self.dropped = 0

    @staticmethod
    def _split(text: str) -> tuple[list[str], list[list[str]]]:
        """(title block + opening paragraphs, [part = [heading, paragraphs…], …]) at level-1 headings."""
        paras = [p for p in text.split("\n") if p.strip()]
        head: list[str] = []
        parts: list[list[str]] = []
        for i, p in enumerate(paras):
            level = _heading_level(p)
            if level == 1:
                parts.append([p])
            elif parts:
                parts[-1].append(p)
            else:
                head.append(p)
        return head, parts

    # ------------------------------------------------------------------------------------ rewriting

    def _rewrite(self, text: str, src: str, tgt: dict, rng: random.Random) -> str:
        s = SOURCES[src]
        t = text
        long_tgt = tgt["place"] + SUFFIX[tgt["suffix"]]
        for a, b in ((s["long"], long_tgt), (s["zone"], tgt["zone"])):
            if a:
                t = t.replace(a, b)
        if s["speaker"]:
            t = t.replace(s["speaker"], tgt["speaker"])
        if src == "002_e3c827dfd055a908.txt":
            t = t.replace("李 育 智", tgt["speaker"])
        if s["place"] == "XX":
            t = t.replace("XX", tgt["place"])
        elif s["place"] == "×":
            t = t.replace("×", tgt["place"])
        else:
            t = t.replace(s["place"], tgt["place"])
        if s["province"]:
            t = t.replace(s["province"], tgt["province"])
        for sub in SUB_PLACES:
            t = t.replace(sub, tgt["place"])
        # a zone of the other kind says so ("高新区" -> "经开区" in a 经开区's speech)
        if s["suffix"] != tgt["suffix"] and s["suffix"] in SUFFIX:
            t = t.replace(SUFFIX[s["suffix"]], SUFFIX[tgt["suffix"]]).replace(s["suffix"], tgt["suffix"])
        # masked figures (X%, X亿元, X个) get digits
        t = re.sub(r"(?<![A-Za-z])X(?![A-Za-z])", lambda m: str(rng.randint(2, 9)), t)
        # years move with the document; other figures are perturbed
        shift = tgt["year"] - SOURCE_YEAR[src]
        t = re.sub(r"(?<!\d)(20[012]\d)(?=年|—|-|～|~)", lambda m: str(int(m.group(1)) + shift), t)

        def perturb(m: re.Match) -> str:
            num = m.group(0)
            if re.fullmatch(r"(19|20)\d\d", num):
                return num
            f = rng.uniform(0.55, 1.6)
            if "." in num:
                dec = len(num.split(".")[1])
                return f"{float(num) * f:.{dec}f}"
            v = int(num)
            return str(max(1, round(v * f))) if v >= 10 else num

        t = re.sub(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])", perturb, t)
        return t

    # ------------------------------------------------------------------------------------ documents

    def _title_block(self, src: str, tgt: dict, rng: random.Random) -> tuple[list[str], dict]:
        z, y, sp = tgt["zone"], tgt["year"], tgt["speaker"]
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        date = f"{y}-{month:02d}-{day:02d}"
        if src == "003_944198d32a153964.txt":
            title = f"{tgt['place']}{SUFFIX[tgt['suffix']]}党工委{y}年工作要点"
            meta = {"title": title, "kind": "工作要点", "speaker": f"{z}党工委", "date": date}
            return [title], meta
        if src == "004_8f875c1b6a79fb69.txt":
            title = rng.choice(["凝心聚力抓产业", "聚焦主业谋发展", "抢抓机遇促转型"])
            sub = f"推动{tgt['place']}在更高层次上实现更好发展"
            meta = {"title": f"{title} {sub}", "kind": "发言提纲", "meeting": f"{z}工作务虚会", "date": date}
            return [title, sub, f"——{z}工作务虚会发言提纲"], meta
        if src == "002_e3c827dfd055a908.txt":
            title = rng.choice(["开启新征程 夺取新胜利", "乘势而上 开拓进取", "坚定信心 攻坚克难"])
            sub = rng.choice(["奋力实现高质量发展良好开局", "全力推动经济社会高质量发展"])
            meeting = f"{z}全区经济工作会议"
            meta = {"title": f"{title} {sub}", "kind": "讲话", "meeting": meeting, "date": date}
            return [f"{z}{y - 1}年工作总结及{y}年工作计划", f"{title} {sub}", "——在全区经济工作会议上的讲话",
                    " ".join(sp), f"({y}年{month}月{day}日)", "同志们:"], meta
        if src == "001_86a68042849f8c0b.txt":
            title = f"在{z}{y}年工作会议上的讲话"
            meta = {"title": title, "kind": "讲话", "meeting": f"{z}{y}年工作会议", "date": date}
            return [title, sp, "同志们:"], meta
        title = rng.choice(["实施创新驱动 加速转型升级", "聚焦高质量发展 奋力开创新局面", "坚持项目为王 推动二次创业"])
        meeting = f"{z}{y}年工作会议"
        meta = {"title": title, "kind": "讲话", "meeting": meeting, "date": date}
        return [title, f"——在{meeting}上的讲话", sp, "同志们:"], meta

    def document(self, i: int) -> tuple[str, str, dict]:
        rng = random.Random(f"{self.seed}:{i}")
        zone, place, province, suffix = self.zones[i % len(self.zones)]
        year = 2016 + (i * 7 + rng.randint(0, 3)) % 8
        speaker = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        tgt = {"zone": zone, "place": place, "province": province, "suffix": suffix, "year": year,
               "speaker": speaker}
        names = sorted(self.docs)
        src = rng.choices(names, weights=[3, 3, 3, 2, 2])[0]
        head, parts = self.skeletons[src]
        target_chars = rng.randint(3000, 12000)
        block, meta = self._title_block(src, tgt, rng)
        lines = list(block)
        body_start = next((k for k, p in enumerate(head) if p.startswith(("同志们", "各位"))), None)
        opening = head[body_start + 1:] if body_start is not None else [p for p in head if len(p) > 60]
        size = 0
        for p in opening:
            lines.append(self._rewrite(p, src, tgt, rng))
            size += len(p)
        keep = [k for k in range(len(parts))]
        if len(parts) > 2:
            n_keep = max(2, len(parts))
            while n_keep > 2 and sum(len("".join(parts[k])) for k in keep) > target_chars:
                keep.remove(rng.choice(keep))
                n_keep -= 1
        for n, k in enumerate(keep, 1):
            heading, *body = parts[k]
            heading = re.sub(f"^[{_CN}]{{1,3}}、", _cn_num(n) + "、", heading)
            lines.append(self._rewrite(heading, src, tgt, rng))
            for p in body:
                if _heading_level(p) is None and len(p) >= 40 and rng.random() < 0.33:
                    other, q = rng.choice(self.pool)
                    lines.append(self._rewrite(q, other, tgt, rng))
                else:
                    lines.append(self._rewrite(p, src, tgt, rng))
            size += sum(len(p) for p in parts[k])
            if size > target_chars * 1.3:
                break
        kept = []
        for ln in lines:
            if self.guard.hits(ln):
                self.dropped += 1
                continue
            kept.append(ln)
        text = "\n".join(kept) + "\n"
        name = f"{100 + i:03d}_{place}{suffix}_{year}.txt"
        meta.update({"zone": zone, "province": province, "city": place, "year": year})
        if meta.get("kind") != "工作要点":
            meta.setdefault("speaker", speaker)
        return name, text, meta


def generate(out: Path, n: int = 300, seed: int = 7, dev: Path | None = None) -> dict:
    """Write n documents (the 5 real ones + n-5 distractors) and manifest.json to out; return the manifest."""
    from assistant.evaluate import load_items
    from assistant.loading import bundled_files, bundled_manifest

    items = load_items(dev or dev_path())
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    manifest = {}
    real = bundled_manifest()
    for p in bundled_files()[:n]:
        shutil.copyfile(p, out / p.name)
        manifest[p.name] = real.get(p.name, {})
    gen = Generator(items, seed)
    for i in range(max(0, n - len(manifest))):
        name, text, meta = gen.document(i)
        assert not any(gen.guard.hits(p) for p in text.split("\n") if p), name
        (out / name).write_text(text, "utf-8")
        manifest[name] = meta
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return {"files": len(manifest), "dropped_paragraphs": gen.dropped, "manifest": manifest}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("-n", type=int, default=300, help="documents in all, the five real ones included")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dev", type=Path)
    args = ap.parse_args(argv)
    info = generate(args.out, args.n, args.seed, args.dev)
    chars = sum(len(p.read_text("utf-8")) for p in args.out.glob("*.txt"))
    print(f"{info['files']} documents ({chars} characters) in {args.out}; "
          f"{info['dropped_paragraphs']} generated paragraphs dropped for holding dev evidence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
