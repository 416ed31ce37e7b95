"""Helpers for the registry's service tests: a running registry, callers, and the events it publishes."""

import io
import json

import asyncpg
import httpx
from PIL import ExifTags, Image

from tests.conftest import bearer
from tests.harness import KafkaFixture
from tests.integration.test_reliability import read_topic

OFFICER = bearer("province_officer", "72")
PRODUCER = {
    "name": "กลุ่มแม่บ้านเกษตรกรบ้านโพธิ์",
    "producer_type": "community_group",
    "experienced": True,
    "tambon_code": "720101",
    "contact_name": "นางสมศรี ใจดี",
    "phone": "081-234-5678",
}
PRODUCT = {
    "name": "ข้าวตังหน้าธัญพืช",
    "category": "food",
    "star_level": 3,
    "star_year": 2562,
    "quadrant": "D",
    "nawatwithi": True,
    "price_thb": "45.00",
    "unit": "กล่อง",
}


async def create(http: httpx.AsyncClient, what: str, body: dict, province: str = "72", headers=None) -> dict:
    created = await http.post(f"/provinces/{province}/{what}", json=body, headers=headers or OFFICER)
    assert created.status_code == 201, created.text
    return created.json()


async def events(kafka: KafkaFixture, topic: str, key: str, count: int) -> list[dict]:
    """The first `count` envelopes published for one aggregate, in order."""
    records = await read_topic(kafka, topic, count, key=key.encode(), timeout=60)
    return [json.loads(record.value) for record in records[:count]]


async def count_rows(database_url: str, table: str) -> int:
    db = await asyncpg.connect(database_url)
    try:
        return await db.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await db.close()


def phone_photo() -> bytes:
    """A 2000 x 1500 JPEG as a phone writes it: taken in portrait (EXIF orientation 6: turn it 90°),
    with the place it was taken (GPS) and the camera's make."""
    image = Image.new("RGB", (2000, 1500), "#c0392b")
    image.paste("#f1c40f", (0, 0, 1000, 750))  # the top left quarter, as stored (before turning)
    exif = image.getexif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (14.0, 28.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (100.0, 7.0, 3.25)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()
