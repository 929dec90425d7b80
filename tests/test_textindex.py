"""Kratos' own texts are recognised wherever they stand (bot/textindex.py), and lead the answer."""

from __future__ import annotations

import pytest

from bot.textindex import KratosTexts, fold


@pytest.fixture(scope="module")
def texts(kb):
    return KratosTexts.build(kb.facts)


@pytest.mark.parametrize(
    ("message", "kind", "key"),
    [
        # a log line of the Kratos container, text without its id
        ("level=info msg=no resumable session found audience=application", "reason", "no resumable session found"),
        # a UI message transcribed from a screenshot, another case and a line break
        (
            "the page says: AN ACCOUNT WITH THE SAME IDENTIFIER (email, phone,\nusername, ...) exists already.",
            "ui_message",
            4000007,
        ),
        # a placeholder filled in, inside pasted HTML with escaped quotes
        ("<span>Property phone is missing.</span>", "ui_message", 4000002),
        # JSON-escaped inside a log field
        (
            '"msg":"Requested return_to URL \\"https://evil.example/x\\" is not allowed."',
            "reason",
            "Requested return_to URL %q is not allowed.",
        ),
    ],
)
def test_text_found_without_id(texts, message, kind, key):
    assert (kind, key) in {(h.kind, h.key) for h in texts.find(message)}


def test_placeholder_is_one_value_not_prose(texts):
    assert not any(h.key == 4000002 for h in texts.find("the property in my schema that I think is missing."))


def test_short_generic_words_are_not_texts(texts):
    assert texts.find("Email Password Sign in Submit") == []


def test_fold():
    assert fold('A\n\n  B&quot;C\\"') == 'a b"c"'


def test_quoted_sentence_leads_the_answer(triage):
    # A long report: the quoted sentence is what identifies the problem, not the story around it.
    story = "We set up recovery with the code method and the courier works and the email arrives fine. " * 8
    quoted = "A valid session was detected and thus recovery is not possible."
    reply = triage.answer(story + "Then the page shows: " + quoted)
    assert reply.matches[0].entry_id == "error.session_already_available"


def test_validator_texts_from_knowledge_are_found(kb):
    """`value must be "code"` comes from the JSON schema library (knowledge/library_texts.yaml)."""
    texts = KratosTexts.build(kb.facts, tuple(kb.library_texts))
    hits = texts.find('ui.nodes[3].messages: [{"id": 4000001, "text": "value must be \\"code\\""}]')
    assert any(h.kind == "library" and h.key == 'value must be "%s"' for h in hits)
    assert not texts.find("I think the value must be a URL here")  # prose, no quoted value


def test_library_text_needs_an_entry_and_a_source(tmp_path):
    import shutil
    from pathlib import Path

    from bot.kb.loader import KnowledgeError, load_knowledge

    target = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parent.parent / "knowledge" / "facts", target / "facts")
    (target / "library_texts.yaml").write_text("texts:\n- {text: 'x %s', entry: topic.nope}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(target)
    assert "does not exist" in str(info.value) and "verified_by" in str(info.value)


def test_placeholder_text_in_prose_does_not_lead(triage):
    # "Sign in with %s" (1010002) is a provider button; a sentence that starts the same way is not that message.
    reply = triage.answer(
        'passwordless webauthn still asks for the identifier. I want a single "Sign in with security key" '
        "button that uses discoverable credentials, without typing an id first"
    )
    assert all(m.entry_id != "ui.1010002" for m in reply.matches[:1])
    assert "1010002" not in reply.headline


def test_form_labels_are_ordinary_phrases_in_prose(texts):
    # 1070011 "Verification code" is a field label; in a sentence it is just words.
    assert not any(h.key == 1070011 for h in texts.find("I sent the verification code again and the old one fails"))
    # Short but Kratos' own (an identifier with an underscore): still found.
    assert any(h.key == "invalid login_challenge" for h in texts.find("hydra said: invalid login_challenge"))


def test_first_sentence_of_a_message_is_enough(texts):
    # 4060004 has two sentences; users quote the first and drop "Please retry the flow."
    hits = texts.find("the email scanner clicks it and then: The recovery token is invalid or has already been used.")
    assert any(h.kind == "ui_message" and h.key == 4060004 for h in hits)
