// Which province the screens work on. A province officer or committee member works in the province of their
// login and nowhere else: another province named in the address is refused here, before any request.
// The department picks one (kept in the address and in localStorage).
import { session } from "./auth.svelte";
import { t } from "./i18n.svelte";
import { route } from "./router.svelte";

export function chosenProvince(): string | null {
  return route.query.get("province") ?? localStorage.getItem("otop.province");
}

export function pickProvince(code: string): void {
  localStorage.setItem("otop.province", code);
  const query = new URLSearchParams(route.query);
  query.set("province", code);
  location.hash = `#/${route.path.join("/")}?${query}`;
}

/** The province of the screen, or the sentence saying why there is none. */
export function workingProvince(): { code: string | null; refusal: string | null } {
  const principal = session.principal;
  if (!principal) return { code: null, refusal: null };
  const asked = route.query.get("province");
  if (principal.role !== "department") {
    if (asked && asked !== principal.province) {
      return { code: null, refusal: t(`คุณทำงานได้เฉพาะจังหวัดของคุณ (${principal.province}) เท่านั้น`,
                                      `You work in your own province (${principal.province}) only.`) };
    }
    return { code: principal.province, refusal: null };
  }
  const code = chosenProvince();
  return code ? { code, refusal: null }
    : { code: null, refusal: t("เลือกจังหวัดก่อน", "Choose a province first.") };
}

export function canEdit(): boolean {
  const role = session.principal?.role;
  return role === "province_officer" || role === "department";
}

/** A link to a route that keeps the department's chosen province. */
export function href(path: string): string {
  const province = session.principal?.role === "department" ? chosenProvince() : null;
  return `#/${path}${province ? `${path.includes("?") ? "&" : "?"}province=${province}` : ""}`;
}
