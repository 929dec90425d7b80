"""No secret from the input survives in any rendering of the reply."""

import pytest

from bot.render import to_blocks, to_json, to_mrkdwn, to_text
from tests.conftest import SHARED, needs_shared

CASES = [
    (
        "curl http://h/sessions/whoami -H 'X-Session-Token: ory_st_Zm9vYmFyYmF6cXV4MTIzNDU2'",
        "ory_st_Zm9vYmFyYmF6cXV4MTIzNDU2",
    ),
    ("Authorization: Bearer ory_at_ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRw", "ory_at_ZXlKaGJHY2lPaUpTVXpJMU5pSXNJbXRw"),
    (
        "curl http://h:4434/admin/identities -H 'Authorization: Bearer ory_pat_8c2kd9vM1qLz0pXe4TnB'",
        "ory_pat_8c2kd9vM1qLz0pXe4TnB",
    ),
    ("my token is ory_pat_8c2kd9vM1qLz0pXe4TnB why does admin api say 401", "ory_pat_8c2kd9vM1qLz0pXe4TnB"),
    (
        "curl -X POST http://h/self-service/login?flow=530f4a51-19eb-4570-8ebc-068dfbc6f402 "
        '--data \'{"method": "password", "identifier": "a@b.c", "password": "Hunter2Secret!"}\'',
        "Hunter2Secret!",
    ),
    (
        "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX2hlcmU",
        "c2lnbmF0dXJlX2hlcmU",
    ),
    (
        "cookie: ory_kratos_session=MTY5OTk5OTk5OXxEdi1CQkFFQ180SUFBUkFCRUFBQVJfLUNBQUVHYzNSeWFXNW4=",
        "MTY5OTk5OTk5OXxEdi1CQkFFQ180SUFBUkFCRUFBQVJfLUNBQUVHYzNSeWFXNW4",
    ),
    ("dsn: postgres://kratos:s3cr3tPassw0rd@db:5432/kratos?sslmode=disable", "s3cr3tPassw0rd"),
    # Any scheme word stays readable, the credential after it never does.
    (
        "GET https://auth.example.com/sessions/whoami HTTP/1.1\nAuthorization: session Qm9vS3Rva2VuVmFsdWUxMjM0NTY",
        "Qm9vS3Rva2VuVmFsdWUxMjM0NTY",
    ),
    ("curl https://a.example/sessions/whoami -H 'Authorization: Qm9vS3Rva2VuVmFsdWUxMjM0NTY'", "VmFsdWUxMjM0NTY"),
]
# The text patterns behind the structural masking: secrets in prose, where no artifact holds them.
PROSE_CASES = [
    ("my kratos login fails, I set SMTP_PASSWORD=Mail4Pw9xQ in the env", "Mail4Pw9xQ"),
    ("the hook sends Authorization: Basic YWRtaW46QWRtMW5QdzEy and kratos says 401", "YWRtaW46QWRtMW5QdzEy"),
    ("redis at redis://:R3dPw9{x}/z@redis:6379/0 for the kratos sessions?", "R3dPw9{x}/z"),
    ("whoami gives 401 when I pass curl's --oauth2-bearer=k8Zq2mVx9PaLw3", "k8Zq2mVx9PaLw3"),
    ('login body "{\\"method\\":\\"password\\",\\"password\\":\\"Esc4pedPw\\"}" gives 400', "Esc4pedPw"),
    (
        "key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5\n-----END EC PRIVATE KEY-----",
        "MHcCAQEE",
    ),
]


def _all_renderings(reply) -> str:
    return "\n".join((to_mrkdwn(reply), to_text(reply), to_json(reply), repr(to_blocks(reply))))


@pytest.mark.parametrize(("text", "secret"), CASES + PROSE_CASES)
def test_secret_is_never_echoed(triage, text, secret):
    reply = triage.answer(text, thread="t")
    assert secret not in _all_renderings(reply)
    assert secret not in repr(triage.store.history("t"))


@pytest.mark.parametrize(("text", "secret"), CASES[:4] + CASES[6:7])
def test_live_secret_gets_revoke_warning_first(triage, text, secret):
    reply = triage.answer(text)
    assert reply.warning and "revoke" in reply.warning.lower()
    assert to_mrkdwn(reply).startswith(":warning:")


def test_secret_not_kept_in_thread_memory(triage):
    text = CASES[-2][0] + "\ncurl -X POST http://h/self-service/settings --cookie '" + CASES[-2][0][8:] + "'"
    triage.answer(text, thread="mem")
    assert CASES[-2][1] not in repr(triage.store.history("mem"))


@needs_shared
def test_seed_last_turn_masks_session_and_password(triage):
    import yaml

    turns = yaml.safe_load((SHARED / "seed" / "expectations.yaml").read_text())["thread"]
    reply = triage.answer(turns[-1]["text"], thread="seed")
    out = _all_renderings(reply)
    assert "MTc0OTAyODM3N3xncTJX" not in out and "123SupperPassword2025" not in out
    assert "lq4sSeHxUIl9gpC8wT9tNwoAvi0jrumMDZeSkB" not in out
