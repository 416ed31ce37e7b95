"""The two realms Keycloak imports at its first start, written from this module so that the province list
cannot drift from the DOPA codes the services check against (a test fails while a committed file differs):

    python -m deploy.keycloak.realm     # writes deploy/keycloak/otop-realm.json, otop-integrations-realm.json
                                        # and the password denylist otop-password-denylist.txt

- `otop`: people. Realm roles department, province_officer, committee_member; the user attribute
  `province`; the web application's client (code + PKCE) and the command line's.
- `otop-integrations`: one confidential client per POS integration (client credentials), created and
  disabled by the sales service through the admin REST API. It is a realm of its own because whoever may
  create clients in a realm can give them any role (a hard-coded role or claim mapper): the sales
  service's credential must never be able to mint a department token. The services take every token of
  this realm as an integration of the province in its `province` claim, and nothing else.

Values in ${...} are filled in by Keycloak from its environment at import time: OTOP_WEB_ORIGIN (the web
application's origin, e.g. https://otop.example.go.th) and OTOP_SALES_KEYCLOAK_SECRET (the sales service's
client secret; no default: see keycloak.sh). A realm that exists already is not imported again: change it
in the admin console or through the admin API.
"""

import json
from pathlib import Path

import geothai
from zxcvbn.frequency_lists import FREQUENCY_LISTS

REALM, INTEGRATION_REALM = "otop", "otop-integrations"
AUDIENCE = "otop-api"
ROLES = {
    "department": "Community Development Department (กรมการพัฒนาชุมชน): every province",
    "province_officer": "Officer of one province (สพจ./สพอ.): set the user's province",
    "committee_member": "Member of one province's monitoring committee: set the user's province",
}
INTEGRATION_ROLE = "integration"
# Members manage the otop realm's accounts in the admin console; a department role alone does not.
ACCOUNT_ADMINISTRATORS = "account-administrators"
USER_ADMIN_ROLES = ["manage-users", "view-users", "query-users", "query-groups", "view-realm"]
WEB_CLIENT, CLI_CLIENT, SALES_CLIENT = "otop-web", "otop-cli", "otop-sales"
ACCESS_TOKEN_LIFESPAN_S = 300
# Passwords nobody may choose: the 30,000 most common ones of zxcvbn's list (leaked-password corpora), in
# Keycloak's data/password-blacklists/ (keycloak.sh and the image put it there), named by the realms' policy.
DENYLIST = "otop-password-denylist.txt"
PASSWORD_POLICY = (
    f"length(12) and notUsername and notEmail and passwordHistory(3) and passwordBlacklist({DENYLIST})"
)


def province_mapper() -> dict:
    """The user's `province` attribute as the `province` claim."""
    return {
        "name": "province",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-usermodel-attribute-mapper",
        "config": {
            "user.attribute": "province",
            "claim.name": "province",
            "jsonType.label": "String",
            "access.token.claim": "true",
            "id.token.claim": "true",
            "userinfo.token.claim": "true",
            "introspection.token.claim": "true",
        },
    }


def audience_mapper() -> dict:
    """`otop-api` in the access token's `aud`: the services accept no token without it."""
    return {
        "name": "audience otop-api",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-audience-mapper",
        "config": {
            "included.custom.audience": AUDIENCE,
            "access.token.claim": "true",
            "id.token.claim": "false",
            "introspection.token.claim": "true",
        },
    }


def user_profile() -> dict:
    """Keycloak's default user profile plus `province`: one of the 77 DOPA province codes, chosen from a
    list in the admin console, editable by administrators only (a user cannot move to another province)."""
    provinces = geothai.provinces()
    name_rules = {"length": {"max": 255}, "person-name-prohibited-characters": {}}
    admin_edits = {"view": ["admin", "user"], "edit": ["admin"]}
    user_edits = {"view": ["admin", "user"], "edit": ["admin", "user"]}
    return {
        "attributes": [
            {
                "name": "username",
                "displayName": "${username}",
                "permissions": admin_edits,
                "multivalued": False,
                "validations": {
                    "length": {"min": 3, "max": 255},
                    "username-prohibited-characters": {},
                    "up-username-not-idn-homograph": {},
                },
            },
            {
                "name": "email",
                "displayName": "${email}",
                "permissions": user_edits,
                "multivalued": False,
                "validations": {"email": {}, "length": {"max": 255}},
            },
            {
                "name": "firstName",
                "displayName": "${firstName}",
                "permissions": user_edits,
                "multivalued": False,
                "validations": name_rules,
            },
            {
                "name": "lastName",
                "displayName": "${lastName}",
                "permissions": user_edits,
                "multivalued": False,
                "validations": name_rules,
            },
            {
                "name": "province",
                "displayName": "จังหวัด (province, DOPA code)",
                "permissions": admin_edits,
                "multivalued": False,
                "group": "otop",
                "validations": {"options": {"options": [p.code for p in provinces]}},
                "annotations": {
                    "inputType": "select",
                    "inputOptionLabels": {p.code: f"{p.code} {p.name_th} ({p.name_en})" for p in provinces},
                },
            },
        ],
        "groups": [
            {
                "name": "user-metadata",
                "displayHeader": "User metadata",
                "displayDescription": "Attributes, which refer to user metadata",
            },
            {
                "name": "otop",
                "displayHeader": "OTOP Mobile",
                "displayDescription": "Province officers and committee members act in this province only; "
                "leave it empty for department users.",
            },
        ],
    }


def common() -> dict:
    return {
        "enabled": True,
        "sslRequired": "external",
        # Accounts are made by department administrators, not by sign-up; no e-mail server is assumed.
        "registrationAllowed": False,
        "resetPasswordAllowed": False,
        "rememberMe": False,
        "editUsernameAllowed": False,
        # Password guessing: a temporary lockout after 5 failures, growing by a minute per failure up to 15.
        "bruteForceProtected": True,
        "permanentLockout": False,
        "failureFactor": 5,
        "waitIncrementSeconds": 60,
        "maxFailureWaitSeconds": 900,
        "minimumQuickLoginWaitSeconds": 60,
        "quickLoginCheckMilliSeconds": 1000,
        "maxDeltaTimeSeconds": 43200,
        # Short access tokens (the services check them offline, so a disabled account keeps a token at most
        # this long); sessions go on with refresh tokens until idle for 30 minutes or 10 hours old.
        "accessTokenLifespan": ACCESS_TOKEN_LIFESPAN_S,
        "accessTokenLifespanForImplicitFlow": ACCESS_TOKEN_LIFESPAN_S,
        "ssoSessionIdleTimeout": 1800,
        "ssoSessionMaxLifespan": 36000,
        # A refresh token works once: each refresh answers a new one, and a stolen one used after its owner
        # (or the owner after the thief) ends the session.
        "revokeRefreshToken": True,
        "refreshTokenMaxReuse": 0,
    }


def people_realm() -> dict:
    people = [province_mapper(), audience_mapper()]
    return {
        "realm": REALM,
        "displayName": "OTOP Mobile",
        **common(),
        "internationalizationEnabled": True,
        "supportedLocales": ["th", "en"],
        "defaultLocale": "th",
        "loginWithEmailAllowed": True,
        "duplicateEmailsAllowed": False,
        "passwordPolicy": PASSWORD_POLICY,
        "roles": {"realm": [{"name": name, "description": text} for name, text in ROLES.items()]},
        "clients": [
            {
                "clientId": WEB_CLIENT,
                "name": "OTOP Mobile web application",
                "enabled": True,
                "publicClient": True,
                "protocol": "openid-connect",
                "standardFlowEnabled": True,
                "implicitFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "serviceAccountsEnabled": False,
                "frontchannelLogout": True,
                "fullScopeAllowed": True,
                "rootUrl": "${OTOP_WEB_ORIGIN}",
                "baseUrl": "/",
                "redirectUris": ["${OTOP_WEB_ORIGIN}/*"],
                "webOrigins": ["${OTOP_WEB_ORIGIN}"],
                "attributes": {
                    "pkce.code.challenge.method": "S256",
                    "post.logout.redirect.uris": "${OTOP_WEB_ORIGIN}/*",
                },
                "protocolMappers": people,
            },
            {
                "clientId": CLI_CLIENT,
                "name": "OTOP Mobile command line (python -m deploy.local.cli)",
                "enabled": True,
                "publicClient": True,
                "protocol": "openid-connect",
                "standardFlowEnabled": False,
                "implicitFlowEnabled": False,
                "directAccessGrantsEnabled": True,
                "serviceAccountsEnabled": False,
                # Its tokens carry the three roles of this system only (scopeMappings below).
                "fullScopeAllowed": False,
                "attributes": {"oauth2.device.authorization.grant.enabled": "false"},
                "protocolMappers": people,
            },
        ],
        # The offline_access role comes only with the optional scope offline_access, when the caller asks.
        "scopeMappings": [{"client": CLI_CLIENT, "roles": list(ROLES)}],
        "groups": [
            {
                "name": ACCOUNT_ADMINISTRATORS,
                "path": f"/{ACCOUNT_ADMINISTRATORS}",
                "clientRoles": {"realm-management": USER_ADMIN_ROLES},
            }
        ],
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {
                    "providerId": "declarative-user-profile",
                    "subComponents": {},
                    "config": {"kc.user.profile.config": [json.dumps(user_profile(), ensure_ascii=False)]},
                },
            ],
        },
    }


def integration_realm() -> dict:
    return {
        "realm": INTEGRATION_REALM,
        "displayName": "OTOP Mobile integrations",
        **common(),
        "roles": {
            "realm": [
                {
                    "name": INTEGRATION_ROLE,
                    "description": "An external system (POS) of one province: its client's tokens",
                }
            ]
        },
        "clients": [
            # The sales service creates and disables one confidential client per POS integration with it.
            {
                "clientId": SALES_CLIENT,
                "name": "Sales service: manages POS integration clients",
                "enabled": True,
                "publicClient": False,
                "protocol": "openid-connect",
                "clientAuthenticatorType": "client-secret",
                "secret": "${OTOP_SALES_KEYCLOAK_SECRET}",
                "standardFlowEnabled": False,
                "implicitFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "serviceAccountsEnabled": True,
                "fullScopeAllowed": False,
            },
        ],
        "users": [
            {
                "username": f"service-account-{SALES_CLIENT}",
                "enabled": True,
                "serviceAccountClientId": SALES_CLIENT,
                "clientRoles": {"realm-management": ["manage-clients", "view-clients"]},
            },
        ],
        # Its tokens carry these two roles (it sees no other role: fullScopeAllowed is off).
        "clientScopeMappings": {
            "realm-management": [{"client": SALES_CLIENT, "roles": ["manage-clients", "view-clients"]}]
        },
    }


def realm_file(build) -> str:
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


def denylist() -> str:
    """One password a line, lower case (Keycloak compares the lower-cased password)."""
    return "".join(f"{word.lower()}\n" for word in dict.fromkeys(FREQUENCY_LISTS["passwords"]))


FILES = {
    Path(__file__).with_name(f"{REALM}-realm.json"): lambda: realm_file(people_realm),
    Path(__file__).with_name(f"{INTEGRATION_REALM}-realm.json"): lambda: realm_file(integration_realm),
    Path(__file__).with_name(DENYLIST): denylist,
}


if __name__ == "__main__":
    for path, write in FILES.items():
        path.write_text(write())
        print(f"wrote {path}")
