"""Retrieval words (bot/retrieve.py): what counts as a word of the question."""

from __future__ import annotations

from bot.retrieve import stems


def test_pronouns_and_auxiliaries_are_not_question_words():
    assert stems("we have been using it and you should have seen our logs") == stems("seen logs")


def test_order_words_stay():
    # "after registration" is a hook position, "not" flips a question
    assert "after" in stems("webhook after registration")
    assert "not" in stems("email not sent")


def test_url_host_is_not_a_word_but_the_path_is():
    words = stems("GET https://my-project.projects.oryapis.com/self-service/login/api fails")
    assert "oryapi" not in words and "project" not in words
    assert "login" in words and "api" in words


def test_link_to_a_file_is_not_question_words():
    words = stems("the body comes from [sms.body.gotmpl](https://github.com/ory/kratos/blob/master/courier/x.gotmpl)")
    assert "blob" not in words and "master" not in words and "github" not in words
    assert "admin" in stems("curl https://kratos:4434/admin/identities fails")


def test_users_words_for_translation_and_errors_meet_the_entries_words():
    assert stems("can I switch the language of the exception messages?") == stems("can I translate the error messages?")
    assert "translat" in stems("we need i18n / localization of the texts")
    assert "translat" not in stems("Jsonnet is a data templating language")
