"""A TOTP code is good once at Keycloak: processes sharing a demo account's state directory (the local stack's
demo, the command line, the tests) must not hand out the same code twice."""

from deploy.keycloak.admin import OneTimeCodes

SECRET = "a-demo-secret-of-enough-bits"


def test_processes_sharing_the_state_file_never_hand_out_the_same_code(tmp_path):
    kept = tmp_path / "demo-department.last-one-time-code"
    stack, command_line = OneTimeCodes(SECRET, kept), OneTimeCodes(SECRET, kept)
    assert stack() != command_line()  # the second is the next period's, which Keycloak accepts early


def test_without_a_shared_file_two_processes_collide(tmp_path):
    """What the file prevents: each process alone would give this period's code again."""
    assert OneTimeCodes(SECRET)() == OneTimeCodes(SECRET)()
