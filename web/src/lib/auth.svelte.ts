// Login with Keycloak (realm otop, public client otop-web): authorization code + PKCE by oidc-client-ts.
// The authority is this origin's /auth/realms/otop (the gateway serves Keycloak under /auth/), so one
// build serves any host; VITE_OIDC_AUTHORITY and VITE_OIDC_CLIENT_ID override them at build time.
// The session is kept in localStorage so that a reload, or a closed browser, at the market keeps it.
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";

export type Role = "department" | "province_officer" | "committee_member";

export interface Principal {
  subject: string;
  name: string;
  role: Role;
  province: string | null;  // null for the department
}

const origin = location.origin;
export const manager = new UserManager({
  authority: import.meta.env.VITE_OIDC_AUTHORITY ?? `${origin}/auth/realms/otop`,
  client_id: import.meta.env.VITE_OIDC_CLIENT_ID ?? "otop-web",
  redirect_uri: `${origin}/`,
  post_logout_redirect_uri: `${origin}/`,
  response_type: "code",
  scope: "openid profile",
  userStore: new WebStorageStateStore({ store: localStorage }),
  automaticSilentRenew: true,  // with the refresh token, before the short-lived access token expires
});

export const session = $state<{ user: User | null; principal: Principal | null }>({ user: null, principal: null });

const ROLES: Role[] = ["department", "province_officer", "committee_member"];

function claims(token: string): Record<string, any> {
  const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function principalOf(user: User): Principal | null {
  const c = claims(user.access_token);
  const roles: string[] = c.realm_access?.roles ?? [];
  const role = ROLES.find((r) => roles.includes(r));
  if (!role) return null;
  return { subject: c.sub, name: c.name || c.preferred_username || c.sub, role,
           province: role === "department" ? null : (c.province ?? null) };
}

function use(user: User | null): void {
  session.user = user;
  session.principal = user ? principalOf(user) : null;
}

manager.events.addUserLoaded((user) => use(user));
manager.events.addUserUnloaded(() => use(null));

/** On start: finish a login that came back from Keycloak, else read the kept session. Returns the route
 * to show (the one the user was on before the login). */
export async function startSession(): Promise<string | null> {
  const query = new URLSearchParams(location.search);
  if (query.has("code") && query.has("state")) {
    const user = await manager.signinRedirectCallback();
    use(user);
    const back = (user.state as { route?: string } | undefined)?.route ?? "#/";
    history.replaceState(null, "", `/${back}`);
    return back;
  }
  use(await manager.getUser());
  return null;
}

/** To Keycloak's login page, and back to `route` afterwards. */
export async function login(route: string = location.hash || "#/"): Promise<void> {
  await manager.signinRedirect({ state: { route } });
}

export async function logout(): Promise<void> {
  await manager.signoutRedirect();
}

/** A valid access token: refreshed when it has expired; null when that is impossible (a new login). */
export async function accessToken(): Promise<string | null> {
  const user = session.user;
  if (user && !user.expired) return user.access_token;
  if (user?.refresh_token) {
    try {
      const renewed = await manager.signinSilent();
      if (renewed) return renewed.access_token;
    } catch {
      // the refresh token has expired too, or the network is down
    }
  }
  return null;
}
