from datetime import timedelta

import pytest

from shared.auth import Principal, Role, hash_secret, issue_token, new_secret, read_token, secret_matches

SECRET = "unit-test-signing-key-0123456789"


def test_token_round_trip():
    officer = Principal(subject="officer-1", role=Role.PROVINCE_OFFICER, province_code="72")
    assert read_token(SECRET, issue_token(SECRET, officer)) == officer


def test_token_signed_with_another_key_is_refused():
    token = issue_token("another-signing-key-0123456789abcdef", Principal(subject="x", role=Role.DEPARTMENT))
    with pytest.raises(ValueError, match="invalid token"):
        read_token(SECRET, token)


def test_expired_token_is_refused():
    token = issue_token(SECRET, Principal(subject="x", role=Role.DEPARTMENT), ttl=timedelta(seconds=-1))
    with pytest.raises(ValueError, match="expired"):
        read_token(SECRET, token)


@pytest.mark.parametrize(
    ("role", "province"), [(Role.DEPARTMENT, "72"), (Role.PROVINCE_OFFICER, None), (Role.INTEGRATION, None)]
)
def test_role_and_province_must_agree(role, province):
    with pytest.raises(ValueError):
        Principal(subject="x", role=role, province_code=province)


def test_province_scope():
    officer = Principal(subject="o", role=Role.PROVINCE_OFFICER, province_code="72")
    department = Principal(subject="d", role=Role.DEPARTMENT)
    assert officer.may_access("72") and not officer.may_access("10")
    assert department.may_access("72") and department.may_access("10")


def test_secrets_are_stored_hashed():
    secret = new_secret()
    stored = hash_secret(secret)
    assert secret not in stored
    assert secret_matches(secret, stored) and not secret_matches(secret + "x", stored)
