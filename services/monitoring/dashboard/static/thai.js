// Thai presentation, as services/monitoring/thai.py writes it: Buddhist-Era years (BE = CE + 543),
// Thai month names, Thai digits on demand, numbers grouped by thousands.

export const BE_OFFSET = 543;
export const MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
  "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม"];
export const MONTHS_EN = ["January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December"];
const MONTHS_ABBR = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."];

export function thaiDigits(text) {
  return String(text).replace(/[0-9]/g, (d) => "๐๑๒๓๔๕๖๗๘๙"[d]);
}

/** An ISO date (2019-06-08) as a Thai short date in the Buddhist Era: 8 มิ.ย. 2562. */
export function shortDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return `${day} ${MONTHS_ABBR[month - 1]} ${year + BE_OFFSET}`;
}

/** A year given CE or BE (2019 or 2562) as BE, as the monitoring API reads years. */
export function beYear(year) {
  return year >= 2400 ? year : year + BE_OFFSET;
}

const grouped = new Intl.NumberFormat("en-US", {maximumFractionDigits: 0});
const money = new Intl.NumberFormat("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});

export function count(value) {
  return grouped.format(Number(value));
}

/** Baht to the satang: 1,234.50 (the API sends amounts as decimal strings). */
export function baht(value) {
  return money.format(Number(value));
}
