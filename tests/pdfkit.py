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
