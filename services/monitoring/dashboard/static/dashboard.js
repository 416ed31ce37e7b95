// The monitoring dashboard: reads #province=72&year=2562&month=6&token=<jwt> (or quarter=3 for a quarter of
// the fiscal year), calls the monitoring APIs with the token, and draws what they answer. Data is put into
// the page as text nodes only (never as HTML): the page holds a bearer token.

import {barChart, stackedBar} from "./charts.js";
import {MONTHS, MONTHS_EN, baht, beYear, count, shortDate, thaiDigits} from "./thai.js";

const TOKEN_KEY = "otop-dashboard-token";
const $ = (selector) => document.querySelector(selector);

const STATUS = {held: ["จัดแล้ว", "held"], scheduled: ["กำหนดจัด", "scheduled"], cancelled: ["ยกเลิก", "cancelled"]};
const EVALUATION = {
  on_time: ["ประเมินตรงเวลา", "on time"], late: ["ประเมินล่าช้า", "late"],
  missing: ["เลยกำหนด ยังไม่ประเมิน", "overdue"], pending: ["รอประเมิน", "pending"],
  not_expected: ["ไม่ต้องประเมิน", "not expected"],
};
const CATEGORY_EN = {food: "food", beverage: "beverages", textile: "textiles, clothing",
  houseware: "housewares, souvenirs", herbal: "herbal, non-food", unknown: "unknown"};
const QUARTERS = ["ต.ค.-ธ.ค.", "ม.ค.-มี.ค.", "เม.ย.-มิ.ย.", "ก.ค.-ก.ย."]; // of the fiscal year

/** h("p", {class: "x"}, "text", node, [more]) */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.flat());
  return node;
}

/** Thai, with its English alongside (hidden by the English toggle). */
function bi(thai, english) {
  return [`${thai} `, h("span", {class: "en"}, english)];
}

// --- where the view comes from: the URL fragment (the token moves to this tab's session storage)

class Problem extends Error {
  constructor(status, detail = "") {
    super(`${status} ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    params.delete("token");
    history.replaceState(null, "", `${location.pathname}${location.search}#${params}`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** What the token (Keycloak's access token) says of its holder, to choose the controls (the service checks
 * every call itself). Its payload is base64url-encoded UTF-8 JSON (names may be Thai). */
function claimsOf(token) {
  try {
    const bytes = Uint8Array.from(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function viewOf(claims) {
  const params = new URLSearchParams(location.hash.slice(1));
  const now = new Date();
  const quarter = Number(params.get("quarter")) || null;
  return {
    province: params.get("province") ?? claims.province ?? "",
    year: beYear(Number(params.get("year")) || now.getFullYear()),
    month: quarter ? null : Number(params.get("month")) || now.getMonth() + 1,
    quarter,
  };
}

function fragmentOf(view) {
  const params = new URLSearchParams();
  if (view.province) params.set("province", view.province);
  params.set("year", view.year);
  params.set(view.quarter ? "quarter" : "month", view.quarter ?? view.month);
  return `#${params}`;
}

async function call(path, token) {
  let answer;
  try {
    answer = await fetch(path, {headers: {Authorization: `Bearer ${token}`, Accept: "application/json"}});
  } catch {
    throw new Problem("network");
  }
  if (!answer.ok) {
    const body = await answer.json().catch(() => ({}));
    const detail = typeof body.detail === "string" ? body.detail
      : (body.detail ?? []).map((e) => `${(e.loc ?? []).join(".")}: ${e.msg}`).join("; ");
    throw new Problem(answer.status, detail);
  }
  return answer.json();
}

// --- loading

let loads = 0; // a newer load makes an older one's answers stale
let shown = null; // the view asked for last: {province, year, month, quarter, department}

async function load() {
  const token = takeToken();
  const mine = ++loads;
  document.body.dataset.state = "loading";
  $("#loading").hidden = false;
  $("#message").hidden = true;
  try {
    if (!token) throw new Problem("no-token");
    const claims = claimsOf(token);
    const view = viewOf(claims);
    const department = (claims.realm_access?.roles ?? []).includes("department");
    const period = view.quarter ? `${view.year}/quarters/${view.quarter}` : `${view.year}/${view.month}`;
    const province = encodeURIComponent(view.province);
    shown = {...view, department};
    showControls(view, department);
    $("#heading").textContent = askedFor(view); // until the answer names it
    const [report, national] = await Promise.all([
      view.province ? call(`provinces/${province}/reports/${period}?digits=thai`, token) : null,
      department ? call(`national/reports/${period}`, token) : null,
    ]);
    const evaluations = report ? await completeness(province, report.period, token) : null;
    if (mine !== loads) return;
    if (department) showProvinces(view, report, national);
    $("#heading").replaceChildren(...headingOf(report ?? national));
    $("#province-view").hidden = !report;
    if (report) showProvince(report, evaluations);
    $("#national-view").hidden = !national;
    if (national) showNational(national, view);
    document.body.dataset.state = "ready";
  } catch (error) {
    if (mine !== loads) return;
    showProblem(error);
  } finally {
    if (mine === loads) $("#loading").hidden = true;
  }
}

/** Completeness is asked by month: a quarter is its three months. */
async function completeness(province, period, token) {
  const first = new Date(period.first_day);
  const last = new Date(period.last_day);
  const months = [];
  for (let d = new Date(first); d <= last; d.setUTCMonth(d.getUTCMonth() + 1)) {
    months.push([d.getUTCFullYear(), d.getUTCMonth() + 1]);
  }
  const answers = await Promise.all(months.map(([year, month]) =>
    call(`provinces/${province}/evaluations/completeness?year=${year}&month=${month}`, token)));
  const sum = (key) => answers.reduce((total, answer) => total + answer[key], 0);
  return {
    due_days: answers[0].due_days, expected: sum("expected"), on_time: sum("on_time"), late: sum("late"),
    missing: sum("missing"), pending: sum("pending"), items: answers.flatMap((answer) => answer.items),
  };
}

function showProblem(error) {
  const messages = {
    "no-token": bi("ไม่พบโทเค็นสำหรับเข้าใช้งาน: เปิดลิงก์ที่มี #token=…",
      "No access token: open the dashboard with a link that carries #token=…"),
    network: bi("ติดต่อบริการติดตามผลไม่ได้ ลองใหม่อีกครั้ง", "Cannot reach the monitoring service; try again."),
    401: bi("โทเค็นไม่ถูกต้องหรือหมดอายุ (401)", "The access token is invalid or has expired (401)."),
    403: bi("ไม่มีสิทธิ์ดูข้อมูลนี้ (403)", "This token may not see this province or report (403)."),
  };
  const message = messages[error.status]
    ?? bi(`เกิดข้อผิดพลาด (${error.status ?? "?"})`, `The service refused the request (${error.status ?? error}).`);
  const detail = error.detail ? [h("br"), h("small", {class: "detail"}, error.detail)] : [];
  $("#message").replaceChildren(...message, ...detail);
  $("#message").hidden = false;
  $("#province-view").hidden = true;
  $("#national-view").hidden = true;
  document.body.dataset.state = "error";
}

// --- controls

function showControls(view, department) {
  $("#province-control").hidden = !department;
  if (department) showProvinces(view, null, null);
  $("#year").value = view.year;
  $("#period").replaceChildren(
    ...MONTHS.map((name, i) => h("option", {value: `month-${i + 1}`}, `${name} · ${MONTHS_EN[i]}`)),
    ...QUARTERS.map((months, i) =>
      h("option", {value: `quarter-${i + 1}`}, `ไตรมาส ${i + 1} ปีงบฯ (${months}) · FY Q${i + 1}`)));
  $("#period").value = view.quarter ? `quarter-${view.quarter}` : `month-${view.month}`;
}

/** The department's choice: the national roll-up, or a province of it (or the one asked for). */
function showProvinces(view, report, national) {
  const provinces = new Map((national?.provinces ?? []).map((row) => [row.province_code, row.province_name]));
  if (view.province) provinces.set(view.province, report?.province_name ?? view.province);
  $("#province").replaceChildren(
    h("option", {value: ""}, "ภาพรวมทุกจังหวัด · National"),
    ...[...provinces].sort().map(([code, name]) => h("option", {value: code}, `${name} (${code})`)));
  $("#province").value = view.province;
}

function controlsChanged(event) {
  if (event.target.id === "english") {
    document.body.classList.toggle("thai-only", !event.target.checked);
    return;
  }
  const [kind, number] = $("#period").value.split("-");
  const view = {province: shown?.department ? $("#province").value : shown?.province ?? "",
    year: Number($("#year").value), month: null, quarter: null};
  view[kind] = Number(number);
  location.hash = fragmentOf(view);
}

function askedFor(view) {
  const place = view.province ? `จังหวัด ${view.province}` : "ภาพรวมทุกจังหวัด";
  const period = view.quarter ? `ไตรมาส ${view.quarter} ปีงบประมาณ ${view.year}` : `${MONTHS[view.month - 1]} ${view.year}`;
  return `${place} · ${period}`;
}

/** Whose report (a province's, or the national roll-up), which period, as of when. */
function headingOf(answer) {
  const place = answer.province_name ? `จังหวัด${answer.province_name} (${answer.province_code})` : "ภาพรวมทุกจังหวัด";
  return [`${place} · ${answer.period.label} `, h("span", {class: "as-of"},
    ...bi(`ข้อมูล ณ วันที่ ${shortDate(answer.as_of)}`, `as of ${answer.as_of}`))];
}

// --- a province

function figure(key, label, value, detail) {
  return h("div", {class: "figure", "data-figure": key},
    h("span", {class: "label"}, ...label), h("strong", {class: "value"}, value),
    h("span", {class: "detail"}, ...detail));
}

function showProvince(report, evaluations) {
  const s = report.results.summary;
  const done = evaluations.on_time + evaluations.late;
  $("#figures").replaceChildren(
    figure("sales", bi("ยอดจำหน่ายรวม (บาท)", "total sales (baht)"), baht(s.sales_thb),
      bi(`${count(s.sales)} รายการขาย`, "sales")),
    figure("market-days", bi("ตลาดที่จัดแล้ว / ตามแผน", "market days held / planned"),
      `${count(s.market_days_held)} / ${count(s.market_days_planned)}`,
      bi(`ยกเลิก ${count(s.market_days_cancelled)}`, "cancelled")),
    figure("products", bi("ผลิตภัณฑ์เฉลี่ยต่อตลาด", "products per market"),
      s.average_products_per_market ?? "-",
      [...bi(`เป้าหมาย ${s.products_target_per_market}`, "target"), " · ",
        ...bi(`ถึงเป้า ${s.markets_meeting_target}/${s.markets_counted} ตลาด`, "markets meeting it")]),
    figure("producers", bi("ผู้ผลิตที่เข้าร่วม", "producers taking part"), count(s.producers_taking_part),
      [...bi(`รายใหม่ ${count(report.results.new_producers_taking_part)}`, "new"), " · ",
        ...bi(`ผลิตภัณฑ์ ${count(s.products_taking_part)}`, "products")]),
    figure("evaluations", bi("ตลาดที่ประเมินแล้ว", "market days evaluated"),
      `${count(done)} / ${count(evaluations.expected)}`,
      bi(`เลยกำหนด ${count(evaluations.missing)}`, "overdue")),
  );

  const markets = report.results.markets;
  chart("#chart-market-days", markets.map((m) => ({
    label: `${shortDate(m.day)} ${m.venue_name}`, value: Number(m.sales_thb),
    kind: m.status === "cancelled" ? "cancelled" : "",
    note: m.status === "held" ? null : `${baht(m.sales_thb)} (${STATUS[m.status]?.join(" · ") ?? m.status})`,
  })), {title: "ยอดจำหน่ายตามตลาด", format: baht});
  chart("#chart-categories", report.results.sales_by_category.map((c) => ({
    label: `${c.label} (${CATEGORY_EN[c.key] ?? c.key})`, value: Number(c.amount_thb),
  })), {title: "ยอดจำหน่ายตามประเภท", format: baht});
  chart("#chart-best-sellers", report.results.best_sellers.map((p) => ({
    label: p.producer_name ? `${p.name} — ${p.producer_name}` : p.name, value: Number(p.amount_thb),
  })), {title: "สินค้าขายดี", format: baht});
  const unsold = report.results.non_selling_products;
  place("#non-selling", unsold.length
    ? h("ul", {class: "products"}, ...unsold.map((p) => h("li", {}, p.name)))
    : h("p", {class: "empty"}, ...bi("ไม่มี", "none")),
  h("p", {class: "count"}, ...bi(`${count(unsold.length)} รายการ`, "products")));

  chart("#chart-plan", [
    {label: "ตามแผน · planned", value: s.market_days_planned, kind: "planned"},
    {label: "กำหนดจัด (ไม่รวมที่ยกเลิก) · scheduled", value: s.market_days_scheduled},
    {label: "จัดแล้ว · held", value: s.market_days_held, kind: "held"},
    {label: "ยกเลิก · cancelled", value: s.market_days_cancelled, kind: "cancelled"},
  ], {title: "จำนวนตลาด", format: count});
  chart("#chart-products", markets.filter((m) => m.status === "held" && m.products_shown !== null).map((m) => ({
    label: `${shortDate(m.day)} ${m.venue_name}`, value: m.products_shown, kind: m.meets_target ? "met" : "short",
  })), {title: "ผลิตภัณฑ์ต่อตลาด", format: count, target: s.products_target_per_market,
    targetLabel: `เป้าหมาย ${s.products_target_per_market} · target`});

  place("#chart-evaluations", stackedBar(["on_time", "late", "missing", "pending"].map((state) => ({
    label: EVALUATION[state][0], en: EVALUATION[state][1], value: evaluations[state], kind: state,
  })), {title: "การประเมินตลาด"}), h("p", {class: "count"},
    ...bi(`ต้องประเมินภายใน ${evaluations.due_days} วันหลังวันจัดตลาด`,
      `due within ${evaluations.due_days} days of the market day`)));
  $("#evaluation-table tbody").replaceChildren(...evaluations.items.map((item) => h("tr", {
    class: item.state, "data-state": item.state,
  }, h("td", {}, shortDate(item.day)), h("td", {}, item.venue_name),
  h("td", {}, item.state === "not_expected" ? "-" : shortDate(item.due_on)), h("td", {}, String(item.evaluations)),
  h("td", {}, ...bi(...EVALUATION[item.state])))));

  $("#report").replaceChildren(...reportPreview(report));
}

function place(selector, ...nodes) {
  const figureNode = $(selector);
  figureNode.replaceChildren(figureNode.querySelector("figcaption"), ...nodes);
}

function chart(selector, rows, options) {
  place(selector, rows.length ? barChart(rows, options)
    : h("p", {class: "empty"}, ...bi("ยังไม่มีข้อมูล", "no data yet")));
}

// --- the report's sections, as the department receives them (services/monitoring/report/text.py)

function reportPreview(r) {
  const t = r.thai_digits ? thaiDigits : String;
  const numbered = (texts, style) => texts.map((text, i) => h("p", {}, `${t(style.replace("n", i + 1))} ${text}`));
  const table = (columns, rows) => h("table", {},
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, ...rows.map((row) => h("tr", {}, ...row.map((cell) => h("td", {}, cell))))));
  const issues = (items) => items.length ? h("ol", {class: "thai"}, ...items.map((item, i) =>
    h("li", {}, `${t(`${i + 1})`)} ${item.text}`))) : h("p", {}, "- ไม่มี");
  const {progress, plan, results, issues: section} = r;
  return [
    h("h3", {}, r.heading), h("h4", {class: "subheading"}, r.subheading),
    h("h4", {}, `${progress.number} ${progress.heading}`), h("p", {}, progress.intro),
    h("h5", {}, `${t("1)")} ${progress.meetings_heading}`),
    ...numbered(progress.activities.length ? progress.activities.map((a) => a.text)
      : ["ยังไม่มีการบันทึกกิจกรรมในช่วงนี้"], "(n)"),
    h("h5", {}, `${t("2)")} ${progress.monitoring_heading}`),
    ...numbered([...progress.committees.map((c) => c.text), progress.evaluations.text], "(n)"),
    h("h4", {}, `${plan.number} ${plan.heading}`),
    plan.rows.length ? table(plan.columns, plan.rows.map((row) => [t(row.number), row.project_name,
      row.target_group, row.period, row.place, row.budget_source])) : h("p", {}, "ยังไม่มีแผนในช่วงนี้"),
    h("h5", {}, results.heading),
    h("ul", {}, ...results.text.map((line) => h("li", {}, line))),
    results.markets.length ? table(["วันที่", "สถานที่", "สถานะ", "ผลิตภัณฑ์", "ยอดจำหน่าย (บาท)", "การประเมิน"],
      results.markets.map((m) => [t(shortDate(m.day)), m.venue_name, STATUS[m.status]?.[0] ?? m.status,
        m.products_shown === null ? "-" : t(m.products_shown), t(baht(m.sales_thb)),
        EVALUATION[m.evaluation]?.[0] ?? m.evaluation])) : "",
    h("h4", {}, `${section.number} ${section.heading}`),
    h("h5", {}, section.problems_heading), issues(section.problems),
    h("h5", {}, section.recommendations_heading), issues(section.recommendations),
  ];
}

// --- the national roll-up (department)

function showNational(national, view) {
  const rows = national.provinces;
  chart("#chart-national", rows.map((row) => ({
    label: `${row.province_name} (${row.province_code})`, value: Number(row.sales_thb),
  })), {title: "ยอดจำหน่ายรายจังหวัด", format: baht});
  const cells = (s) => [count(s.market_days_planned), count(s.market_days_held), s.average_products_per_market ?? "-",
    count(s.producers_taking_part), baht(s.sales_thb),
    `${count(s.evaluations_on_time + s.evaluations_late)} / ${count(s.evaluations_expected)}`];
  $("#national-table tbody").replaceChildren(...rows.map((row) => h("tr", {"data-province": row.province_code},
    h("td", {}, h("a", {href: fragmentOf({...view, province: row.province_code})},
      `${row.province_name} (${row.province_code})`)),
    ...cells(row).map((cell) => h("td", {}, cell)))));
  $("#national-table tfoot").replaceChildren(h("tr", {},
    h("th", {}, ...bi("รวม", "total")), ...cells(national.totals).map((cell) => h("td", {}, cell))));
}

// --- wiring

$("#controls").addEventListener("change", controlsChanged);
$("#controls").addEventListener("submit", (event) => event.preventDefault());
window.addEventListener("hashchange", load);
load();
