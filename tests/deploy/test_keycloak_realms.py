"""The committed realm files are the generator's, name every DOPA province, and hold no secret."""

import json

import geothai

from deploy.keycloak import realm


def test_committed_realm_files_are_generated():
    for path, write in realm.FILES.items():
        assert path.read_text() == write(), "regenerate: python -m deploy.keycloak.realm"


def test_province_attribute_takes_exactly_the_dopa_codes_and_only_admins_set_it():
    components = realm.people_realm()["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(components[0]["config"]["kc.user.profile.config"][0])
    [province] = [a for a in profile["attributes"] if a["name"] == "province"]
    codes = province["validations"]["options"]["options"]
    assert codes == [p.code for p in geothai.provinces()] and len(codes) == 77 and "72" in codes
    assert province["permissions"]["edit"] == ["admin"]  # a user cannot move to another province


def test_people_and_integrations_are_apart():
    people, integrations = realm.people_realm(), realm.integration_realm()
    assert {r["name"] for r in people["roles"]["realm"]} == {
        "department",
        "province_officer",
        "committee_member",
    }
    assert {c["clientId"] for c in people["clients"]} == {"otop-web", "otop-cli"}
    web = next(c for c in people["clients"] if c["clientId"] == "otop-web")
    assert web["publicClient"] and web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert not web["implicitFlowEnabled"] and not web["directAccessGrantsEnabled"]
    # The one client that may create clients lives in the integrations realm only.
    [sales] = integrations["clients"]
    assert sales["clientId"] == "otop-sales" and sales["secret"] == "${OTOP_SALES_KEYCLOAK_SECRET}"
    assert not any("realm-management" in json.dumps(c) for c in people["clients"])
    for each in (people, integrations):
        assert each["bruteForceProtected"] and each["accessTokenLifespan"] <= 300


def test_the_command_line_client_has_no_device_grant_and_only_this_systems_roles():
    """Issue 21: otop-cli's tokens carry the three roles (and offline_access only when asked for), not every
    role of the realm; no device grant; refresh tokens work once; common passwords are refused."""
    people = realm.people_realm()
    cli = next(c for c in people["clients"] if c["clientId"] == "otop-cli")
    assert cli["attributes"]["oauth2.device.authorization.grant.enabled"] == "false"
    assert not cli["fullScopeAllowed"] and not cli["standardFlowEnabled"]
    assert people["scopeMappings"] == [
        {
            "client": "otop-cli",
            "roles": ["department", "province_officer", "committee_member"],
        }
    ]
    for each in (people, realm.integration_realm()):
        assert each["revokeRefreshToken"] and each["refreshTokenMaxReuse"] == 0
    assert f"passwordBlacklist({realm.DENYLIST})" in people["passwordPolicy"]
    denied = set(realm.denylist().splitlines())
    assert len(denied) > 25_000 and {"password", "qwerty123456", "1qaz2wsx3edc"} <= denied


def test_only_account_administrators_manage_users():
    [group] = realm.people_realm()["groups"]
    assert group["name"] == "account-administrators"
    assert group["clientRoles"] == {"realm-management": realm.USER_ADMIN_ROLES}
    assert "manage-users" not in json.dumps(realm.people_realm()["roles"])


def test_no_secret_is_committed():
    for path in [p for p in realm.FILES if p.suffix == ".json"]:
        text = path.read_text()
        assert '"secret"' not in text.replace('"secret": "${OTOP_SALES_KEYCLOAK_SECRET}"', "")
        assert '"credentials"' not in text and '"value"' not in text  # no user with a password
