// Buddhist-Era dates (15 มิ.ย. 2562) and baht (฿1,234.00), with the browser's own Intl (no library needed).
import { lang } from "./i18n.svelte";

const BANGKOK = "Asia/Bangkok";
const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const count = new Intl.NumberFormat("en-US");

export function baht(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined || amount === "") return "-";
  return `฿${money.format(Number(amount))}`;
}

export function number(value: string | number | null | undefined): string {
  return value === null || value === undefined ? "-" : count.format(Number(value));
}

function locale(): string {
  return lang.current === "th" ? "th-TH-u-ca-buddhist" : "en-GB-u-ca-buddhist";
}

/** A calendar day 'YYYY-MM-DD' (or a timestamp) as 15 มิ.ย. 2562. */
export function dateBE(value: string | null | undefined, style: "short" | "long" = "short"): string {
  if (!value) return "-";
  const when = value.length === 10 ? new Date(`${value}T12:00:00+07:00`) : new Date(value);
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: style, year: "numeric", timeZone: BANGKOK })
    .format(when);
}

export function dateTimeBE(value: string | null | undefined): string {
  if (!value) return "-";
  return new Intl.DateTimeFormat(locale(), {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: BANGKOK,
  }).format(new Date(value));
}

/** มิถุนายน 2562 for year 2019 (CE) and month 6. */
export function monthBE(year: number, month: number): string {
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: BANGKOK })
    .format(new Date(Date.UTC(year, month - 1, 15)));
}

export function weekdayShort(day: number): string {  // 0 = Sunday
  return new Intl.DateTimeFormat(lang.current === "th" ? "th-TH" : "en-GB", { weekday: "short", timeZone: "UTC" })
    .format(new Date(Date.UTC(2023, 0, 1 + day)));
}

export function time(value: string | null | undefined): string {
  return value ? value.slice(0, 5) : "";
}

/** Today in Thailand, 'YYYY-MM-DD'. */
export function thaiToday(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: BANGKOK }).format(new Date());
}

/** A baht amount ("1234.5", "10") as whole satang, exactly (no float sums): null if it is not one. */
export function satang(amount: string | number | null | undefined): number | null {
  const match = /^\s*(\d{1,12})(?:\.(\d{1,2}))?\s*$/.exec(String(amount ?? ""));
  return match ? Number(match[1]) * 100 + Number((match[2] ?? "").padEnd(2, "0")) : null;
}
