"""Deterministic varied text for the tokenizer equivalence suite and the counting benchmark.

Each generator writes one kind of text people put in prompts (prose, code, JSON, CJK, emoji, long
numbers, mixed scripts, markup, whitespace-heavy logs); `corpus(total_bytes, seed)` interleaves
them into documents of 8-40 KB. Same seed, same text, on every machine.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

_WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which but have an "
         "they you were her she there one all we their can has been if more when will would who so no model "
         "token prompt budget window cache system message assistant user tool result error value function "
         "return config server client request response latency throughput benchmark native Python parser "
         "don't it's we'll they're I'm you've she'd can't won't isn't Claude Anthropic OpenAI GitHub JSON YAML "
         "HTTP API URL NASA UNESCO McDonald iPhone eBay WiFi GaN naïve café résumé coöperate Straße Øresund "
         "Ελλάδα Москва Київ İstanbul ıspanak ΣΟΦΙΑ ΑΘΗΝΑ")
WORDS = _WORDS.split()
CJK = ("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过"
       "家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知使点些很"
       "日本語のテキストとカタカナ、ひらがなを混ぜた文章です。東京都々〆ー。한국어 텍스트와 한글 음절입니다")
EMOJI = ["😀", "😂", "👍", "👍🏽", "🎉", "🚀", "❤️", "✨", "🇺🇸", "🇯🇵", "👨‍👩‍👧‍👦", "🧑🏿‍💻", "⚖️", "☕", "🔥", "✅", "❌",
         "🤖", "📈", "🙏🏻", "🏳️‍🌈", "1️⃣", "©️", "™️"]
SCRIPTS = ["Здравствуйте, как ваши дела сегодня?", "Γειά σου Κόσμε, ΚΑΛΗΜΕΡΑ", "مرحبا بالعالم ١٢٣ ۴۵۶",
           "नमस्ते दुनिया १२३ क्षत्रिय", "สวัสดีชาวโลก ภาษาไทย ำ", "שלום עולם", "Xin chào thế giới",
           "ሰላም ልዑል", "Բարեւ աշխարհ", "გამარჯობა", "ᚠᚢᚦᚨᚱᚲ ᛒ", "ⓐⓑⒸ Ⅻ ⅻ", "ܫܠܡܐ ܰܳ", "ಕನ್ನಡ ೳ"]
PUNCT = [*"!?.,;:()[]{}<>\"'`~@#$%^&*-_=+|\\/", "—", "–", "…", "«", "»", "„", "“", "”", "‘", "’", "•", "→", "√",
         "（", "）", "。", "？", "！", "、", "·"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(4, 18))]
    words[0] = words[0].capitalize() if rng.random() < 0.8 else words[0].upper()
    if rng.random() < 0.2:
        words.insert(rng.randrange(len(words)), rng.choice(EMOJI))
    return " ".join(words) + rng.choice([".", ".", ".", "!", "?", "...", ":", " —"])


def prose(rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(2, 6)):
        paras.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 7))))
    return "\n\n".join(paras)


def code(rng: random.Random) -> str:
    name = rng.choice(["parse", "load_config", "countTokens", "HTTPHandler", "_private", "visit_node"])
    lines = [f"def {name}(self, value: int = {rng.randint(0, 999)}) -> dict[str, Any]:",
             f'    """{_sentence(rng)}"""']
    for _ in range(rng.randint(3, 14)):
        indent = " " * rng.choice([4, 8, 12])
        lines.append(indent + rng.choice([
            f"if value >= {rng.randint(0, 10**6)} and not self.{rng.choice(WORDS)}:",
            f"result[{rng.randint(0, 99)}] = {{'key': value ** 2, \"other\": [1, 2, 3]}}",
            f"return {rng.choice(WORDS)}.{rng.choice(WORDS)}(x, y=None)  # {rng.choice(WORDS)} TODO",
            f"for i in range(len(items)):  # {_sentence(rng)}",
            "x = (a + b) * c / d - e % f ** g // h",
            "while True: pass",
            f"raise ValueError(f\"bad {{value!r}}: {rng.choice(WORDS)}\")",
            "const x = async () => { await fetch(url); };",
            "if (a === b && c !== d || !e) { return null; }",
            "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
            "\t\tfoo->bar[i++] <<= 2;",
            "SELECT id, name FROM users WHERE age > 30 ORDER BY name DESC;",
        ]))
    return "\n".join(lines) + "\n"


def _json_value(rng: random.Random, depth: int = 0) -> object:
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice([rng.randint(-10**9, 10**9), rng.random() * 1e6, True, None, _sentence(rng),
                           rng.choice(WORDS), rng.choice(CJK) * 3, rng.choice(EMOJI)])
    if r < 0.6:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    return {rng.choice(WORDS) + str(rng.randint(0, 99)): _json_value(rng, depth + 1) for _ in range(rng.randint(1, 6))}


def json_text(rng: random.Random) -> str:
    value = {"items": [_json_value(rng) for _ in range(rng.randint(2, 8))]}
    return json.dumps(value, ensure_ascii=rng.random() < 0.3, indent=rng.choice([None, 2, 4]))


def cjk(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(20, 80)):
        out.append("".join(rng.choice(CJK) for _ in range(rng.randint(1, 12))))
        out.append(rng.choice(["。", "、", "？", "！", " ", "，", "\n", "（注）", "1", "２０２５年"]))
    return "".join(out)


def emoji(rng: random.Random) -> str:
    return " ".join("".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 4))) + rng.choice(["", " ok", "!", "\n"])
                    for _ in range(rng.randint(10, 50)))


def numbers(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(10, 40)):
        parts.append(rng.choice([
            str(rng.randint(0, 10**rng.randint(1, 60))),
            f"{rng.random() * 10**rng.randint(0, 12):.{rng.randint(0, 9)}f}",
            f"0x{rng.getrandbits(64):X}", f"{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.1",
            f"+1 ({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "3.14159265358979323846264338327950288419716939937510",
            f"{rng.randint(1, 9)}e-{rng.randint(1, 300)}", "١٢٣٤٥٦٧٨٩٠", "۱۲۳۴", "१२३४५", "½ ¾ ² ³ ① ②",
        ]))
    return rng.choice([" ", ", ", "\n", "\t"]).join(parts)


def scripts(rng: random.Random) -> str:
    return "\n".join(rng.choice(SCRIPTS) + " " + _sentence(rng) for _ in range(rng.randint(3, 12)))


def markup(rng: random.Random) -> str:
    rows = [f"| {rng.choice(WORDS)} | {rng.randint(0, 10**6):,} | {rng.choice(['✅', '❌', 'n/a'])} |"
            for _ in range(rng.randint(2, 10))]
    return (f"# {_sentence(rng)}\n\n<div class=\"note\">**{rng.choice(WORDS)}** _{_sentence(rng)}_</div>\n\n"
            "| key | value | ok |\n|---|---:|:-:|\n" + "\n".join(rows) + "\n\n```yaml\nmodel: claude\n"
            f"messages:\n  - role: user\n    content: \"{_sentence(rng)}\"\n```\n> {_sentence(rng)}\n")


def whitespace(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(10, 60)):
        out.append(rng.choice([" " * rng.randint(1, 40), "\t" * rng.randint(1, 6), "\n" * rng.randint(1, 35),
                               "\r\n", " \n ", "\u3000", "\u00a0", "\u2003", "\x00", "\x0b", "\x85"]))
        out.append(rng.choice([rng.choice(WORDS), rng.choice(PUNCT), "2025-01-01T00:00:00Z", "ERROR", "  -> ok"]))
    return "".join(out)


def oddities(rng: random.Random) -> str:
    """Characters ctok treats specially: marker lookalikes, private use, combining marks, case edges."""
    pool = ["\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3", "\ufdd4", "\ue000", "\uf8ff", "⟨bow⟩", "⟨0x41⟩", "e\u0301",
            "a\u0308\u0323", "\u0301x", "İ", "ẞ", "ß", "ΣΑΣ", "ϴ", "Ⅻ", "ǅ", "\ufe0f", "\u200d", "\u200b", "\ufeff",
            "\u0e4d\u0e32", "\U0001d400\U0001d401", "\U00020000\U0002a6d6", "\U000e0100", "\u0711", "\u0730",
            "x'S", "it's", "'Tis", "WON'T", "'''", "('", "\u2018quoted\u2019", "\u201cdouble\u201d"]
    joins = ["", " ", "  ", "\n", "a", "1", "."]
    return "".join(rng.choice(pool) + rng.choice(joins) for _ in range(rng.randint(20, 80)))


KINDS: dict[str, Callable[[random.Random], str]] = {
    "prose": prose, "code": code, "json": json_text, "cjk": cjk, "emoji": emoji, "numbers": numbers,
    "scripts": scripts, "markup": markup, "whitespace": whitespace, "oddities": oddities,
}


def document(rng: random.Random, size: int) -> str:
    """About `size` bytes of text mixing the kinds, one kind dominating."""
    main = rng.choice(list(KINDS.values()))
    out: list[str] = []
    n = 0
    while n < size:
        piece = main(rng) if rng.random() < 0.7 else rng.choice(list(KINDS.values()))(rng)
        out.append(piece)
        n += len(piece.encode("utf-8", "surrogatepass"))
        out.append(rng.choice(["\n", "\n\n", " ", ""]))
    return "".join(out)


def corpus(total_bytes: int, seed: int = 17) -> Iterator[str]:
    """Documents of 8-40 KB until `total_bytes` (UTF-8) have been written."""
    rng = random.Random(seed)
    n = 0
    while n < total_bytes:
        doc = document(rng, rng.randint(8_000, 40_000))
        n += len(doc.encode("utf-8", "surrogatepass"))
        yield doc
