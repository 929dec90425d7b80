"""Read a message the way a support engineer does before matching it: what is asked, and what is pasted.

A real message mixes the question with logs, configs and issue-template boilerplate ("Preflight checklist",
"Relevant log output"). Topic retrieval on all of it matches on the words of the paste (a log line's
"session" and "flow" point at any topic), so it runs on the question alone:

- GitHub issue templates: the sections that describe the problem ("Describe the bug", "Expected
  behavior", "Is your feature request related to a problem?") are the question; "Reproducing the bug",
  "Relevant log output", "Version", checklists are not.
- Lines that are pastes are dropped: log lines (`time=… level=…`, JSON logs, stack frames, compose prefixes),
  code and config lines, shell commands, checklists, lines with more symbols than words.
- A long narrative keeps its first two and last two sentences, and every sentence with a question mark:
  that is where people put what they want to know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*|\*\*|__)?\s*([A-Za-z][A-Za-z ,'?/().-]{2,80}?)\s*[:?.]?\s*(?:\*\*|__)?\s*:?\s*$"
)
_QUESTION_SECTIONS = re.compile(
    r"(?i)^(describe (the|your) (bug|problem|issue)|bug description|what happened|current behaviou?r|"
    r"actual behaviou?r|expected behaviou?r|is your feature request related to a problem.*|"
    r"describe (the solution you.d like|your ideal solution)|question|problem|summary)$"
)
_OTHER_SECTIONS = re.compile(
    r"(?i)^(reproducing the bug|steps to reproduce|to reproduce|relevant (log output|configuration)|logs?|"
    r"version|kratos version|on which operating system.*|in which environment.*|environment|additional context|"
    r"preflight checklist|screenshots?|ory network project|describe alternatives you.ve considered|"
    r"workarounds or alternatives|"
    r"how do you deploy.*|are you using.*)$"
)
_LOG_LINE = re.compile(
    r"(?i)(\btime=|\blevel=\w|\bmsg=|^\s*\{\s*\"(level|time|msg|audience)\"|^\s*\d{4}-\d\d-\d\d[t ]\d\d:\d\d|"
    r"^\s*[\w.-]{1,40}\s+\|\s|^\s*at\s+\S+\s*\(|\.go:\d+|^\s*goroutine \d+|^\s*panic:|^\s*traceback|"
    r"^\s*\^--|^\s*the configuration contains values or keys which are invalid)"
)
_CODE_LINE = re.compile(
    r"^\s*([-+*]\s*\[[ x]\]|-\s+[\w.\"'-]{1,60}\s*:|\$ |curl\b|--?[a-z][\w-]*[ =]|"
    r"[\w.\[\]\"'-]{1,60}\s*:\s*[\"'{\[|>]?\S*\s*$|"
    r"[{}\[\]();,]+\s*$|"
    # code statements, not English sentences that start with "If" or "For" and hold a parenthesis
    r"(?:const|let|var)\s+[\w{\[]+\s*=|import\s+[\w{*]|export\s+(?:default|const|function|class)\b|"
    r"func\s+[\w(]|def\s+\w+\(|return\b[^.]*;\s*$|await\s+[\w.]+\(|(?:if|for|while)\s*\(|<\/?[a-z][\w-]*[\s>])",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=\S)")
_HOWTO = re.compile(
    r"(?i)\b(how (do|can|should|would|to|does)|is (it|there) (possible|a way|any way)|can (i|we|you|kratos|ory)|"
    r"what (is|are|does|do|happens)|where (is|are|can|do|does)|which|should (i|we)|do (i|we) need|"
    r"is it (recommended|safe|ok)|does kratos|any (example|docs?|documentation|way))\b"
)
MAX_QUESTION = 700
_INLINE_JSON = re.compile(r'\{\s*"(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*\}')  # three levels deep at most


@dataclass(frozen=True)
class Reading:
    question: str  # what the user asks, on one line, for topic retrieval
    howto: bool  # asks how something works or whether it is possible (not only "here is my error")
    template: bool  # the message follows a GitHub issue template


def _is_paste(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    if _LOG_LINE.search(stripped) or _CODE_LINE.match(stripped):
        return True
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", stripped)
    symbols = len(re.findall(r"[{}\[\]<>=|\\;$]", stripped))
    return len(words) < 3 or symbols > max(2, len(words) // 3)


def _sections(lines: list[str]) -> tuple[list[str], bool]:
    """The lines of the question sections of an issue template (all lines when it is not one)."""
    out: list[str] = []
    keep = True
    template = False
    for line in lines:
        m = _HEADING.match(line) if len(line) <= 100 else None
        if m and (_QUESTION_SECTIONS.match(m.group(1).strip()) or _OTHER_SECTIONS.match(m.group(1).strip())):
            template = True
            keep = bool(_QUESTION_SECTIONS.match(m.group(1).strip()))
            continue
        if keep:
            out.append(line)
    return (out if template else lines), template


def _shorten(sentences: list[str]) -> list[str]:
    if len(sentences) <= 5:
        return sentences
    keep = set(range(2)) | set(range(len(sentences) - 2, len(sentences)))
    keep |= {i for i, s in enumerate(sentences) if "?" in s}
    return [s for i, s in enumerate(sentences) if i in keep]


HEAD_CHARS, TAIL_CHARS = 12_000, 4_000  # what people ask is near the start and the end of a long message


def read(text: str) -> Reading:
    if len(text) > HEAD_CHARS + TAIL_CHARS:
        text = text[:HEAD_CHARS] + "\n" + text[-TAIL_CHARS:]
    lines, template = _sections(text.split("\n"))
    # A JSON object pasted inside a sentence is a paste too, not words of the question.
    lines = [_INLINE_JSON.sub(" ", line) if "{" in line else line for line in lines]
    prose_lines = [line.strip() for line in lines if not _is_paste(line)]
    # Short messages are all question, whatever they look like ("totp_code vs code?").
    if not prose_lines and len(text) <= 200:
        prose_lines = [" ".join(text.split())]
    sentences = [s for line in prose_lines for s in _SENTENCE.split(line) if s]
    question = " ".join(_shorten(sentences))[:MAX_QUESTION]
    return Reading(question=question, howto=bool(_HOWTO.search(question)), template=template)
