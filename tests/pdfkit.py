"""A minimal valid PDF, built byte by byte, for the reader tests and the hostile-file corpus."""

from __future__ import annotations


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one Helvetica text object per page, xref offsets computed here."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids, num = [], 4
    for lines in pages:
        shown = b" ".join(b"(%s) Tj T*" % line.encode("ascii") for line in lines)  # T*: next line
        ops = b"BT /F1 12 Tf 72 720 Td 14 TL " + shown + b" ET"
        objects[num] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops)
        objects[num + 1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % num)
        kids.append(b"%d 0 R" % (num + 1))
        num += 2
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (n, objects[n])
    xref, size = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def make_cjk_pdf(pages: list[list[tuple[float, float, str]]], size: float = 10.5) -> bytes:
    """A valid PDF with Chinese text placed where a test says: each page a list of (x, y, text) runs, in points
    from the bottom left of an A4 page. The font is a Type0 font with Identity-H encoding (each character's code is
    its code point) and a ToUnicode map, not embedded: text extraction needs only the map. A Chinese character is
    one em wide, an ASCII one half an em (text_width). A table is drawn as runs at column x's."""
    chars = sorted({ch for page in pages for _, _, text in page for ch in text})
    if any(ord(ch) > 0xFFFF for ch in chars):
        raise ValueError("make_cjk_pdf: characters outside the BMP are not supported")
    entries = "".join(f"<{ord(ch):04X}> <{ord(ch):04X}>\n" for ch in chars)
    blocks = [entries[i:i + 100 * 14] for i in range(0, len(entries), 100 * 14)]  # bfchar: at most 100 each
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "".join(f"{b.count(chr(10))} beginbfchar\n{b}endbfchar\n" for b in blocks)
            + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode("ascii")
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: (b"<< /Type /Font /Subtype /Type0 /BaseFont /TestSong /Encoding /Identity-H "
            b"/DescendantFonts [5 0 R] /ToUnicode 4 0 R >>"),
        4: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),
        5: (b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSong /DW 1000 /W [32 126 500] /CIDToGIDMap /Identity "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 6 0 R >>"),
        6: (b"<< /Type /FontDescriptor /FontName /TestSong /Flags 4 /FontBBox [0 -200 1000 900] /ItalicAngle 0 "
            b"/Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"),
    }
    kids, num = [], 7
    for runs in pages:
        shown = b"".join(b"BT /F1 %g Tf 1 0 0 1 %g %g Tm <%s> Tj ET\n"
                         % (size, x, y, "".join(f"{ord(ch):04X}" for ch in text).encode("ascii"))
                         for x, y, text in runs)
        objects[num] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(shown), shown)
        objects[num + 1] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % num)
        kids.append(b"%d 0 R" % (num + 1))
        num += 2
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (n, objects[n])
    xref, size_ = len(out), max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size_
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, size_))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size_, xref)
    return bytes(out)


def text_width(text: str, size: float = 10.5) -> float:
    """The width of a run in make_cjk_pdf's font, in points."""
    return sum(size / 2 if ch.isascii() else size for ch in text)
