"""The Thai labels of the contracts' values, as people read them (reports, import/export files): one
place for every service. Framework-free, no I/O."""

from shared.contracts.budget import BudgetCategory, MaterialKind, ProposalStatus
from shared.contracts.registry import ProducerType, ProductCategory, ProductStatus
from shared.contracts.scheduling import DeclineReason, MarketDayStatus

PRODUCT_CATEGORY_TH: dict[str, str] = {
    ProductCategory.FOOD: "อาหาร",
    ProductCategory.BEVERAGE: "เครื่องดื่ม",
    ProductCategory.TEXTILE: "ผ้าและเครื่องแต่งกาย",
    ProductCategory.HOUSEWARE: "ของใช้ ของตกแต่ง ของที่ระลึก",
    ProductCategory.HERBAL: "สมุนไพรที่ไม่ใช่อาหาร",
}
PRODUCER_TYPE_TH: dict[str, str] = {
    ProducerType.COMMUNITY_GROUP: "กลุ่มผู้ผลิตชุมชน",
    ProducerType.SINGLE_OWNER: "ผู้ผลิตชุมชนที่เป็นเจ้าของรายเดียว",
    ProducerType.SME: "วิสาหกิจขนาดกลางและขนาดย่อม",
}
PRODUCT_STATUS_TH: dict[str, str] = {ProductStatus.ACTIVE: "จำหน่าย", ProductStatus.WITHDRAWN: "เลิกจำหน่าย"}
DECLINE_REASON_TH: dict[str, str] = {
    DeclineReason.BUSY: "ติดภารกิจ",
    DeclineReason.HAS_MARKET: "มีตลาดที่จำหน่ายเป็นประจำแล้ว",
    DeclineReason.WORRIED_ABOUT_SALES: "กังวลว่าจะจำหน่ายสินค้าไม่ได้",
    DeclineReason.NO_RAW_MATERIAL: "ขาดวัตถุดิบ",
    DeclineReason.OTHER: "อื่น ๆ",
}
MARKET_DAY_STATUS_TH: dict[str, str] = {
    MarketDayStatus.HELD: "จัดแล้ว",
    MarketDayStatus.SCHEDULED: "กำหนดจัด",
    MarketDayStatus.CANCELLED: "ยกเลิก",
}

BUDGET_CATEGORY_TH: dict[str, str] = {
    BudgetCategory.MATERIALS: "ค่าวัสดุอุปกรณ์",
    BudgetCategory.PUBLICITY: "ค่าประชาสัมพันธ์",
    BudgetCategory.TRANSPORT: "ค่าพาหนะและขนส่ง",
    BudgetCategory.MEETINGS: "ค่าประชุมและเบี้ยเลี้ยง",
    BudgetCategory.OTHER: "อื่น ๆ",
}
PROPOSAL_STATUS_TH: dict[str, str] = {
    ProposalStatus.SUBMITTED: "รออนุมัติ",
    ProposalStatus.APPROVED: "อนุมัติแล้ว",
    ProposalStatus.RETURNED: "ส่งกลับแก้ไข",
}
MATERIAL_KIND_TH: dict[str, str] = {
    MaterialKind.FLAG: "ธงญี่ปุ่น 150 × 50 ซม.",
    MaterialKind.BANNER: "ป้ายไวนิล",
    MaterialKind.TENT: "เต็นท์",
    MaterialKind.TABLE: "โต๊ะ",
    MaterialKind.TABLECLOTH: "ผ้าปูโต๊ะ",
    MaterialKind.PRICE_TAG: "ป้ายราคา",
    MaterialKind.OTHER: "อื่น ๆ",
}
