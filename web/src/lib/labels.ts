// Thai and English names of the services' codes (shared/contracts, services/*/domain).
import { t } from "./i18n.svelte";

type Pairs = Record<string, [string, string]>;
const label = (pairs: Pairs) => (code: string | null | undefined) => code ? t(...(pairs[code] ?? [code, code])) : "-";

export const CATEGORY: Pairs = {
  food: ["อาหาร", "Food"], beverage: ["เครื่องดื่ม", "Beverage"], textile: ["ผ้าและเครื่องแต่งกาย", "Textiles and clothing"],
  houseware: ["ของใช้ ของตกแต่ง ของที่ระลึก", "Housewares, decorations, souvenirs"],
  herbal: ["สมุนไพรที่ไม่ใช่อาหาร", "Herbal (non-food)"],
};
export const PRODUCER_TYPE: Pairs = {
  community_group: ["กลุ่มผู้ผลิตชุมชน", "Community group"], single_owner: ["ผู้ผลิตชุมชนรายเดียว", "Single owner"],
  sme: ["วิสาหกิจขนาดกลางและขนาดย่อม", "SME"],
};
export const QUADRANT: Pairs = {
  A: ["A กลุ่มพัฒนาสู่สากล", "A Going global"], B: ["B กลุ่มเอกลักษณ์สร้างคุณค่า", "B Identity and value"],
  C: ["C กลุ่มพัฒนาสู่ความพร้อม", "C Getting ready"], D: ["D กลุ่มปรับตัวสู่การพัฒนา", "D Adapting to develop"],
};
export const VENUE_KIND: Pairs = {
  pracharat_market: ["ตลาดประชารัฐ คนไทยยิ้มได้", "Pracharat market"], tourist_spot: ["แหล่งท่องเที่ยว", "Tourist spot"],
};
export const DECLINE: Pairs = {
  busy: ["ติดภารกิจ", "Busy"], has_market: ["มีตลาดที่จำหน่ายเป็นประจำแล้ว", "Already has a market"],
  worried_about_sales: ["กังวลว่าจะจำหน่ายสินค้าไม่ได้", "Worried about sales"],
  no_raw_material: ["ขาดวัตถุดิบ", "No raw material"], other: ["อื่น ๆ", "Other"],
};
export const INVITATION: Pairs = {
  sent: ["ส่งคำเชิญแล้ว", "Invited"], accepted: ["ตอบรับ", "Accepted"], declined: ["ปฏิเสธ", "Declined"],
  withdrawn: ["ถอนออก", "Withdrawn"],
};
export const MARKET_DAY: Pairs = {
  scheduled: ["กำหนดการ", "Scheduled"], held: ["จัดแล้ว", "Held"], cancelled: ["ยกเลิก", "Cancelled"],
};
export const EVALUATION: Pairs = {
  on_time: ["ตรงเวลา", "On time"], late: ["ล่าช้า", "Late"], missing: ["ค้างส่ง", "Overdue"],
  pending: ["รอประเมิน", "Pending"], not_expected: ["ไม่ต้องประเมิน", "Not expected"],
};
export const PROBLEM: Pairs = {
  producers_busy: ["ผู้ผลิตติดภารกิจ", "Producers busy"], has_market: ["มีตลาดประจำแล้ว", "Already has a market"],
  worried_about_sales: ["กังวลว่าจะขายไม่ได้", "Worried about sales"],
  raw_material_shortage: ["ขาดวัตถุดิบ", "Raw-material shortage"],
  new_producer: ["ผู้ประกอบการรายใหม่", "New producer"], other: ["อื่น ๆ", "Other"],
};
export const RECOMMENDATION: Pairs = {
  publicity: ["ประชาสัมพันธ์หลายช่องทาง", "Publicity"], mentoring: ["กลุ่มพี่เลี้ยง", "Mentoring"], other: ["อื่น ๆ", "Other"],
};
export const ROLE: Pairs = {
  department: ["กรมการพัฒนาชุมชน", "Department"], province_officer: ["เจ้าหน้าที่จังหวัด (สพจ.)", "Province officer"],
  committee_member: ["คณะกรรมการติดตาม", "Committee member"],
};

export const category = label(CATEGORY);
export const producerType = label(PRODUCER_TYPE);
export const quadrant = label(QUADRANT);
export const venueKind = label(VENUE_KIND);
export const decline = label(DECLINE);
export const invitation = label(INVITATION);
export const marketDayStatus = label(MARKET_DAY);
export const evaluationState = label(EVALUATION);
export const problem = label(PROBLEM);
export const recommendation = label(RECOMMENDATION);
export const role = label(ROLE);
