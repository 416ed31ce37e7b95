// The services' APIs through the gateway (/api/<service>/...), with the user's token. Every refusal becomes
// an ApiError whose `sentence` is written for the user in their language (never the raw JSON); field errors
// are kept by field so that a form can show each one beside its input.
import { accessToken, login } from "./auth.svelte";
import { t } from "./i18n.svelte";

export type Service = "registry" | "scheduling" | "sales" | "monitoring" | "budget";

export interface FieldError { field: string; message: string; type?: string; row?: number }

export class ApiError extends Error {
  constructor(public status: number, public sentence: string, public fields: FieldError[] = []) {
    super(sentence);
  }
}

type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

interface Options {
  method?: string;
  body?: unknown;
  query?: Query;
  raw?: BodyInit;  // a file as it is (with contentType)
  contentType?: string;
  anonymous?: boolean;  // the producer's public link: no token
}

function url(service: Service, path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const search = params.toString();
  return `/api/${service}${path}${search ? `?${search}` : ""}`;
}

async function send(service: Service, path: string, options: Options): Promise<Response> {
  const headers: Record<string, string> = {};
  if (!options.anonymous) {
    const token = await accessToken();
    if (!token) {
      if (navigator.onLine) await login();
      throw new ApiError(401, t("กรุณาเข้าสู่ระบบอีกครั้ง", "Please log in again."));
    }
    headers.Authorization = `Bearer ${token}`;
  }
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  let response: Response;
  try {
    response = await fetch(url(service, path, options.query), { method: options.method ?? "GET", headers, body });
  } catch {
    throw new ApiError(0, t("ติดต่อเซิร์ฟเวอร์ไม่ได้ ตรวจสอบสัญญาณอินเทอร์เน็ตแล้วลองอีกครั้ง",
                            "Cannot reach the server. Check the connection and try again."));
  }
  if (response.status === 401 && !options.anonymous) {
    await login();  // the login page, and back here
  }
  if (!response.ok) throw await refusal(response);
  return response;
}

export async function api<T = any>(service: Service, path: string, options: Options = {}): Promise<T> {
  const response = await send(service, path, options);
  return (response.status === 204 ? null : await response.json()) as T;
}

/** A file answer (report, export) as a Blob with its file name. */
export async function download(service: Service, path: string, query: Query): Promise<void> {
  const response = await send(service, path, { query });
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "")?.[1] ?? "download";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

// --- refusals as sentences

const FIELD_MESSAGES: Record<string, [string, string]> = {
  missing: ["ต้องกรอกช่องนี้", "This field is required."],
  string_too_short: ["ต้องกรอกช่องนี้", "This field is required."],
  string_too_long: ["ข้อความยาวเกินไป", "This text is too long."],
  string_pattern_mismatch: ["รูปแบบไม่ถูกต้อง", "This is not in the expected form."],
  greater_than: ["ต้องมากกว่า {gt}", "Must be more than {gt}."],
  greater_than_equal: ["ต้องไม่น้อยกว่า {ge}", "Must be at least {ge}."],
  less_than_equal: ["ต้องไม่เกิน {le}", "Must be at most {le}."],
  decimal_parsing: ["ต้องเป็นตัวเลข", "Must be a number."],
  decimal_max_places: ["ทศนิยมได้ไม่เกิน {decimal_places} ตำแหน่ง", "At most {decimal_places} decimal places."],
  int_parsing: ["ต้องเป็นจำนวนเต็ม", "Must be a whole number."],
  date_from_datetime_parsing: ["วันที่ไม่ถูกต้อง", "Not a valid date."],
  date_parsing: ["วันที่ไม่ถูกต้อง", "Not a valid date."],
  enum: ["กรุณาเลือกจากรายการ", "Choose one of the list."],
  literal_error: ["กรุณาเลือกจากรายการ", "Choose one of the list."],
  uuid_parsing: ["กรุณาเลือกจากรายการ", "Choose one of the list."],
  uuid_type: ["กรุณาเลือกจากรายการ", "Choose one of the list."],
  int_type: ["ต้องกรอกเป็นจำนวนเต็ม", "Enter a whole number."],
  int_from_float: ["ต้องเป็นจำนวนเต็ม", "Must be a whole number."],
  decimal_type: ["ต้องกรอกเป็นตัวเลข", "Enter a number."],
  string_type: ["ต้องกรอกช่องนี้", "This field is required."],
  date_type: ["กรุณาเลือกวันที่", "Choose a date."],
  time_parsing: ["เวลาไม่ถูกต้อง", "Not a valid time."],
  bool_parsing: ["กรุณาเลือก ใช่ หรือ ไม่ใช่", "Choose yes or no."],
  list_type: ["ข้อมูลไม่ถูกต้อง", "Not valid."],
  too_long: ["มีรายการมากเกินไป", "Too many items."],
  unknown_reference: ["ระบบขายยังไม่รู้จักวันตลาดหรือสินค้านี้ ลองอีกครั้งในอีกสักครู่",
                      "The sales service does not know this market day or product yet; try again shortly."],
  market_day_cancelled: ["วันตลาดนี้ถูกยกเลิกแล้ว", "This market day was cancelled."],
};

function fieldMessage(error: { type?: string; msg?: string; ctx?: Record<string, unknown> }): string {
  const known = error.type ? FIELD_MESSAGES[error.type] : undefined;
  if (!known) {  // a rule of the service's own, said in English: in Thai, a Thai sentence with it
    const said = error.msg?.replace(/^Value error, /, "");
    return said ? t(`ข้อมูลไม่ถูกต้อง (${said})`, said) : t("ข้อมูลไม่ถูกต้อง", "Not valid.");
  }
  let text = t(...known);
  for (const [key, value] of Object.entries(error.ctx ?? {})) text = text.replace(`{${key}}`, String(value));
  return text;
}

// Refusals a service names by a code ({"detail": {"code", "msg"}}), said for the user.
const CODE_MESSAGES: Record<string, [string, string]> = {
  not_an_image: ["ไฟล์นี้ไม่ใช่รูปภาพ กรุณาเลือกรูป JPEG, PNG หรือ WebP", "This file is not a picture; choose a JPEG, PNG or WebP photo."],
  image_too_large: ["รูปมีขนาดพิกเซลใหญ่เกินไป", "The picture has too many pixels."],
  decompression_bomb: ["รูปมีขนาดพิกเซลใหญ่เกินไป", "The picture has too many pixels."],
  unreadable_image: ["ไฟล์รูปเสียหายหรือไม่ครบ กรุณาถ่ายหรือเลือกรูปใหม่", "The picture is damaged or incomplete; take or choose it again."],
  animated_image: ["รูปเคลื่อนไหวใช้ไม่ได้ กรุณาเลือกรูปนิ่ง", "An animated picture cannot be used; choose a still photo."],
  receipt_not_accepted: ["ใบเสร็จต้องเป็นรูป JPEG, PNG, WebP หรือไฟล์ PDF", "A receipt must be a JPEG, PNG or WebP picture or a PDF."],
  receipt_incomplete: ["ไฟล์ใบเสร็จเสียหายหรือไม่ครบ กรุณาสแกนหรือเลือกไฟล์ใหม่", "The receipt file is damaged or incomplete; scan or choose it again."],
  receipt_too_large: ["ไฟล์ใบเสร็จใหญ่เกิน 5 MB", "The receipt file is over 5 MB."],
  link_revoked: ["ลิงก์นี้ถูกยกเลิกแล้ว กรุณาใช้ลิงก์ในใบเชิญฉบับใหม่จากเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด",
                 "This link was revoked; use the link on the new slip from the provincial officer."],
  link_answers_closed: ["หมดเวลาตอบผ่านลิงก์แล้ว หากต้องการเปลี่ยนคำตอบ กรุณาติดต่อเจ้าหน้าที่สำนักงานพัฒนาชุมชนจังหวัด",
                        "Answers through the link have closed; to change your answer, call the provincial officer."],
};

async function refusal(response: Response): Promise<ApiError> {
  let detail: unknown = null;
  try {
    detail = (await response.json()).detail;
  } catch {
    // not JSON (a gateway page): the status says enough
  }
  const said = typeof detail === "string" ? detail : (detail as { msg?: string } | null)?.msg;
  const status = response.status;
  const code = (detail as { code?: string } | null)?.code;
  if (code && CODE_MESSAGES[code]) return new ApiError(status, t(...CODE_MESSAGES[code]));
  if (Array.isArray(detail)) {
    const fields = detail.map((e: any) => ({
      field: (e.field ?? (e.loc ?? []).filter((p: unknown) => p !== "body").join(".")) as string,
      row: e.row, type: e.type, message: fieldMessage(e),
    }));
    const general = fields.filter((f) => !f.field).map((f) => f.message).join(" ");  // not about one field
    return new ApiError(status, t(`ข้อมูลยังไม่ถูกต้อง ${fields.length} จุด กรุณาแก้ไขตามที่แสดง`,
                                  `${fields.length} thing(s) to correct, as shown.`) + (general ? ` ${general}` : ""), fields);
  }
  const because = said ? t(` (เหตุผลจากระบบ: ${said})`, ` (${said})`) : "";
  const sentences: Record<number, [string, string]> = {
    401: ["การเข้าสู่ระบบหมดอายุ กรุณาเข้าสู่ระบบอีกครั้ง", "Your login has expired; please log in again"],
    403: ["คุณไม่มีสิทธิ์ทำรายการนี้", "You may not do this"],
    404: ["ไม่พบข้อมูลที่ต้องการ", "This was not found"],
    409: ["ทำรายการนี้ไม่ได้ในสถานะปัจจุบัน", "This cannot be done in the current state"],
    410: ["ลิงก์นี้หมดอายุแล้ว กรุณาติดต่อเจ้าหน้าที่เพื่อขอลิงก์ใหม่", "This link has expired; ask the officer for a new one"],
    413: ["ไฟล์ใหญ่เกินไป", "The file is too large"],
    415: ["ชนิดไฟล์ไม่รองรับ กรุณาใช้ CSV หรือ XLSX", "This kind of file is not accepted; use CSV or XLSX"],
    503: ["ระบบยังไม่พร้อมให้บริการในส่วนนี้", "This part of the system is not available now"],
  };
  const [th, en] = sentences[status] ?? (status >= 500
    ? ["ระบบขัดข้องชั่วคราว กรุณาลองอีกครั้ง", "The system had a problem; please try again"]
    : ["ทำรายการไม่สำเร็จ", "This did not work"]);
  return new ApiError(status, `${t(th, en)}${because}`);
}

export function sentenceOf(error: unknown): string {
  return error instanceof ApiError ? error.sentence : t("เกิดข้อผิดพลาด กรุณาลองอีกครั้ง", "Something went wrong; try again.");
}
