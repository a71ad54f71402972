"""Our model of what a count_tokens request adds around its text, with the evidence for each constant.

ctok counts text exactly as the content of one user message and knows that message's frame (7
tokens in v3, 11 in v4.7, 6 in v4.8: the `⟨pad⟩` tokens `ctok.tokenize` puts first). Everything
else here is ours. Anthropic publishes four whole-request examples (token-counting page, identical
in every revision 2024–2026) and no per-part rules, so each constant below says where it comes
from and how sure it is. Calibration (`correction`) learns a per-model factor from exact counts
but scales text only; these constants stay as they are.

Evidence, in v3 (ctok content tokens):
- basic: system "You are a scientist" (4) + user "Hello, Claude" (3) → 14 = 4 + 3 + frame 7.
  So a system prompt adds nothing beyond its text: SYSTEM_FRAME = 0. Exact.
- tools: one `get_weather` tool + user "What's the weather like in San Francisco?" (9) → 403, in
  the Claude 3.5 Sonnet (Oct) era whose auto tool overhead was 346. 403 − 346 − 9 − 7 = 41 tokens
  for the tool. No rendering we tried gives exactly 41: compact JSON of the whole tool gives 61,
  pretty JSON 70. We count a tool as its name, its description and the compact JSON of its
  input_schema, each as text (50 tokens here), on the reading that the keys that hold them are
  part of the published per-model overhead ("figures exclude the tools' own tokens"). Result:
  412, TOOL_EXAMPLE_GAP = +9 (+2.2 %), an over-estimate.
- thinking: thinking enabled (budget 16000), user (19) / assistant with an earlier thinking block
  and text (21) / user (7) → 88. Earlier-turn thinking is not counted (docs), so 88 = 47 + frame
  7 + two turn frames + the thinking config. With TURN_FRAME = 3 that leaves 28 for the config:
  THINKING_CONFIG_TOKENS = 28, fitted to this one example, so it comes out exact by construction
  and the split between the two constants is a guess.
- image (1551, Wikimedia ant) and PDF (2188, `document.pdf`): the inputs are not published with
  sizes, so they test nothing here.

Reasoned, not measured (each could be off by a few tokens per use):
- TURN_FRAME = 3: each further message opens a turn. The one-message frame of 7 reads like a
  start marker plus a "Human:"-style opener and an "Assistant:"-style closer, ~3 tokens each; a
  later turn adds one role marker. ±2 per message.
- MERGED_TURN_FRAME = 1: consecutive same-role messages are "combined into a single turn" (API
  docs), so they cost a separator, not a new turn.
- TOOL_USE_FRAME = 8, TOOL_RESULT_FRAME = 6: a tool call renders its name, id and input inside
  markup; a result its content. Pure guesses, ±8.
- DOCUMENT_FRAME = 10: a document block's wrapper (source/title/content markers). Guess, ±10.
- PDFs: per page, its share of the extracted text plus one page image at the tier's full image
  budget (PDF_PAGE_IMAGE_TOKENS: 1,568 standard, 4,784 high). INFERRED in the reference: a dense
  10-Q page ≈ 750 text + ≈ 1,560 image ≈ 2,300, matching a published 51-page 10-Q at 118,967 tokens
  (2,333/page, Claude 3.5 Sonnet). The high-tier page render size is not published.
- Unknown sizes (url/file sources, undecodable data): an image costs its tier's full budget, a PDF
  one page with PDF_TEXT_TOKENS_PER_PAGE of text. Labelled estimates, never exact.
- Anthropic-defined tools (bash, text editor, computer use): third-party figures, UNVERIFIED.
- Texts longer than one request may be (HUGE_TEXT_CHARS: more characters than the API's 32 MiB
  request limit has bytes, so the limit finding already says it cannot be sent) are sized at
  BYTES_PER_TOKEN instead of tokenized: v3 3.5 and v4.x 2.7 bytes per token, the middle of two
  samples measured with ctok here (English prose README: 2.9 / 2.3; Python source: 4.0 / 3.1).
  Every shorter text is counted whole, as ctok counts it. Redacted thinking (opaque data) is
  sized the same way.
"""

from __future__ import annotations

from ..limits import MAX_REQUEST_BYTES

SYSTEM_FRAME = 0
TURN_FRAME = 3
MERGED_TURN_FRAME = 1
THINKING_CONFIG_TOKENS = 28
TOOL_FRAME = 0
TOOL_USE_FRAME = 8
TOOL_RESULT_FRAME = 6
DOCUMENT_FRAME = 10
IMAGE_FRAME = 0

PDF_PAGE_IMAGE_TOKENS = {"standard": 1568, "high": 4784}
PDF_TEXT_TOKENS_PER_PAGE = 750
UNKNOWN_PDF_PAGES = 1

# Third-party summaries only (reference §2, UNVERIFIED): the definition tokens of Anthropic-defined
# client tools, by type prefix.
ANTHROPIC_TOOL_TOKENS = {"bash_": 245, "text_editor_": 700, "computer_": 735}

HUGE_TEXT_CHARS = MAX_REQUEST_BYTES
BYTES_PER_TOKEN = {"3.0": 3.5, "4.7": 2.7, "4.8": 2.7}

# The published examples this model is checked against (tests/test_estimate.py).
TOOL_EXAMPLE_GAP = 9


def turn_frame(role: str, previous_role: str | None) -> int:
    """Frame tokens a message adds on top of the one-message frame ctok already counts."""
    if previous_role is None:
        return 0
    return MERGED_TURN_FRAME if role == previous_role else TURN_FRAME
