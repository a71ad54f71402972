"""Regenerate the example attachments: tiny files with known sizes, so nothing is downloaded.

Run from anywhere: `python examples/assets/make_assets.py`. Images are flat colour so they compress
to a few KB while keeping the pixel sizes the docs' token table uses; the PDF is built by hand (two
pages of real, extractable text in a standard font) so pypdf reads it exactly as it reads any PDF.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent

REPORT_PAGES = [
    [
        "ACME Corp quarterly report, third quarter.",
        "Revenue rose 12 percent to 4.2 million dollars.",
        "Operating margin improved to 18 percent.",
    ],
    [
        "Outlook for the fourth quarter.",
        "Management expects revenue between 4.4 and 4.6 million dollars.",
        "Risks: supply chain delays and currency movements.",
    ],
]


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})".encode("latin-1")


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF 1.4: one Helvetica text page per entry, with a correct xref table."""
    font_id = 3
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        font_id: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    next_id = 4
    for lines in pages:
        page_id, content_id = next_id, next_id + 1
        next_id += 2
        ops = [b"BT", b"/F1 12 Tf", b"72 720 Td", b"16 TL"]
        for line in lines:
            ops.append(_pdf_string(line) + b" Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops)
        objects[content_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
        objects[page_id] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font_id, content_id)
        )
        kids.append(b"%d 0 R" % page_id)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (oid, objects[oid])
    xref_at = len(out)
    count = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % count
    for oid in range(1, count):
        out += b"%010d 00000 n \n" % offsets[oid]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref_at)
    return bytes(out)


def make_all(target: Path = HERE) -> list[Path]:
    """Write every fixture into `target` and return the paths written."""
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(name: str, image: Image.Image, **options: object) -> None:
        path = target / name
        image.save(path, **options)
        written.append(path)

    # 1092×1092 is the largest square the standard tier reads unresized: 39 × 39 = 1521 tokens.
    save("square.png", Image.new("RGB", (1092, 1092), (32, 96, 160)), optimize=True)
    # 1920×1080 is shrunk to 1456×819 (1560 tokens) on the standard tier, kept (2691) on the high tier.
    save("screenshot.jpg", Image.new("RGB", (1920, 1080), (240, 240, 236)), quality=25, optimize=True)
    frames = [Image.new("P", (400, 300), i) for i in (1, 2)]
    for frame in frames:
        frame.putpalette([0, 0, 0, 200, 40, 40, 40, 160, 60] + [0] * (256 * 3 - 9))
    path = target / "chart.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=500, loop=0)
    written.append(path)
    save("diagram.webp", Image.new("RGB", (800, 600), (250, 250, 250)), quality=50)

    report = target / "report.pdf"
    report.write_bytes(build_pdf(REPORT_PAGES))
    written.append(report)

    notes = target / "notes.md"
    notes.write_text(
        "# Analyst notes\n\n"
        "- Q3 revenue beat guidance by 3 percent.\n"
        "- Watch the supply chain: two vendors slipped in September.\n"
        "- Currency headwinds are expected to ease in Q4.\n",
        encoding="utf-8",
    )
    written.append(notes)
    return written


if __name__ == "__main__":
    for p in make_all():
        print(f"{p.name}: {p.stat().st_size} bytes")
