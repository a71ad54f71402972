"""Generated prompt files and workspaces for the benchmarks (deterministic per seed).

Texts are drawn from a word list with a per-file random generator, so no two files share text and
the estimator's memo never answers for a file it has not seen. Assets are tiny but real: PNGs from
Pillow and a one-page PDF from pypdf, so the loaders take their normal path.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

_VOCABULARY = ("the revenue report quarter analyst growth margin customer churn forecast pipeline model "
         "budget region product launch pricing segment cohort retention survey support ticket "
         "latency outage release roadmap hiring vendor contract renewal invoice audit risk policy "
         "summary compare explain list draft review careful concise table chart figure appendix "
         "Überblick naïve café 2024 Q3 €1.2M 17% (see p.4) — «quoted» ½ x² ✓")
WORDS = _VOCABULARY.split()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def paragraph(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        s = sentence(rng, rng.randint(6, 18))
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


def _block(text: str, indent: str) -> str:
    return "|\n" + "\n".join(indent + line for line in text.splitlines())


def prompt_text(messages: int, *, seed: int, chars: int = 300, schema_error_at: int | None = None,
                tools: int = 0, images: tuple[str, ...] = (), documents: tuple[str, ...] = ()) -> str:
    """A prompt file with `messages` alternating user/assistant turns (ending on a user turn)."""
    rng = random.Random(seed)
    lines = ["model: claude-sonnet-4-6", f"system: {_block(paragraph(rng, chars), '  ')}", "messages:"]
    count = messages if messages % 2 else messages + 1
    for i in range(count):
        role = "robot" if i == schema_error_at else ("user" if i % 2 == 0 else "assistant")
        lines.append(f"  - role: {role}")
        if i == 0 and (images or documents):
            lines.append("    content:")
            lines.append(f"      - text: {paragraph(rng, 80)}")
            lines.extend(f"      - image: {p}" for p in images)
            lines.extend(f"      - document: {p}" for p in documents)
        else:
            lines.append(f"    content: {_block(paragraph(rng, rng.randint(chars // 2, chars * 3 // 2)), '      ')}")
    if tools:
        lines.append("tools:")
        for t in range(tools):
            lines += [f"  - name: tool_{t}", f"    description: {sentence(rng, 12)}",
                      "    input_schema: {type: object, properties: {q: {type: string}}, required: [q]}"]
    return "\n".join(lines) + "\n"


def png(width: int, height: int, seed: int) -> bytes:
    from PIL import Image

    img = Image.new("RGB", (width, height), ((seed * 37) % 256, (seed * 91) % 256, 120))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def pdf(seed: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_metadata({"/Title": f"bench {seed}"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def workspace(root: Path, files: int, *, seed: int = 0, config: str = "") -> list[Path]:
    """`files` prompt files under `root` in folders of 100: sizes mixed like real prompt
    repositories (mostly 1-5 turns, a few up to 21; some with tools), every tenth with an image or
    a PDF. Returns the prompt paths."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    (root / "promptls.toml").write_text(config or 'default_model = "claude-sonnet-4-6"\n', encoding="utf-8")
    assets = root / "assets"
    assets.mkdir(exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(files):
        folder = root / f"team{i // 100:03d}"
        folder.mkdir(exist_ok=True)
        images: tuple[str, ...] = ()
        documents: tuple[str, ...] = ()
        if i % 10 == 0:
            if i % 20 == 0:
                name = f"img{i}.png"
                (assets / name).write_bytes(png(rng.randint(40, 400), rng.randint(40, 400), i))
                images = (f"../assets/{name}",)
            else:
                name = f"doc{i}.pdf"
                (assets / name).write_bytes(pdf(i))
                documents = (f"../assets/{name}",)
        size = rng.choice((1, 1, 2, 3, 5, 8, 13, 21))
        text = prompt_text(size, seed=seed * 1_000_003 + i, chars=rng.choice((100, 250, 600)),
                           tools=rng.choice((0, 0, 0, 2)), images=images, documents=documents)
        path = folder / f"p{i:05d}.prompt.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
