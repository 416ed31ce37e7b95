// Thai first, with an English toggle: every text is written as t("ไทย", "English") where it is used.
type Lang = "th" | "en";

const saved = typeof localStorage !== "undefined" ? localStorage.getItem("otop.lang") : null;
export const lang = $state<{ current: Lang }>({ current: saved === "en" ? "en" : "th" });

export function t(th: string, en: string): string {
  return lang.current === "th" ? th : en;
}

export function setLang(next: Lang): void {
  lang.current = next;
  localStorage.setItem("otop.lang", next);
  document.documentElement.lang = next;
}
