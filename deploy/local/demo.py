"""Demo province data: Suphanburi (72) OTOP products, loaded through the services' own HTTP APIs."""

import random

import httpx

DEMO_PROVINCE = "72"  # Suphanburi

_PRODUCTS = {
    "food": (["ข้าวเกรียบ", "กล้วยตาก", "ปลาร้าบอง", "น้ำพริกเผา", "ขนมสาลี่", "ข้าวตัง", "หมูแผ่น", "ไข่เค็ม"], "ถุง"),
    "beverage": (["น้ำตาลสด", "ชาตะไคร้", "น้ำกระเจี๊ยบ", "กาแฟคั่ว", "น้ำมะพร้าว"], "ขวด"),
    "textile": (["ผ้าขาวม้าทอมือ", "ผ้าซิ่นลาวครั่ง", "เสื้อผ้าฝ้าย", "กระเป๋าผ้า", "ผ้าพันคอมัดย้อม"], "ผืน"),
    "houseware": (["ตะกร้าสาน", "โคมไฟไม้ไผ่", "กระติบข้าว", "พวงกุญแจงานปั้น", "ของที่ระลึกดินเผา"], "ชิ้น"),
    "herbal": (["ยาหม่องสมุนไพร", "สบู่สมุนไพร", "ลูกประคบ", "น้ำมันไพล", "แชมพูมะกรูด"], "ชิ้น"),
}
_PLACES = ["อู่ทอง", "สองพี่น้อง", "บางปลาม้า", "ศรีประจันต์", "ดอนเจดีย์", "สามชุก", "เดิมบางนางบวช", "ด่านช้าง"]


def demo_products(count: int, seed: int = 2562) -> list[dict]:
    rng = random.Random(seed)
    products = []
    for i in range(count):
        category = rng.choice(list(_PRODUCTS))
        names, unit = _PRODUCTS[category]
        products.append({
            "name": f"{rng.choice(names)} {rng.choice(_PLACES)} #{i + 1}",
            "category": category,
            "star_level": rng.choices([1, 2, 3, 4, 5], weights=[3, 4, 4, 1, 1])[0],
            "quadrant": rng.choices(["A", "B", "C", "D"], weights=[1, 1, 2, 5])[0],
            "nawatwithi": rng.random() < 0.4,
            "price_thb": f"{rng.choice([20, 35, 45, 60, 89, 120, 150, 250, 390]):.2f}",
            "unit": unit,
        })
    return products


def load_demo(registry_url: str, token: str, count: int = 60, progress=print) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=registry_url, headers=headers, timeout=30) as http:
        for done, product in enumerate(demo_products(count), start=1):
            http.post(f"/provinces/{DEMO_PROVINCE}/products", json=product).raise_for_status()
            if done % 20 == 0 or done == count:
                progress(f"  demo products registered: {done}/{count}")
    return count
