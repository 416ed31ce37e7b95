"""Product photos on a running registry (real PostgreSQL and Kafka): an officer's upload is stored
re-encoded at three sizes without its metadata, served publicly with long cache headers, and published
in the product's event; hostile files are refused with a clear 4xx and change nothing."""

import io

import pytest
from PIL import ExifTags, Image

from services.registry.photos import MAX_UPLOAD_BYTES
from shared.topics import REGISTRY_PRODUCERS, REGISTRY_PRODUCTS
from tests.conftest import bearer
from tests.registry.support import OFFICER, PRODUCER, PRODUCT, count_rows, create, events, phone_photo

pytestmark = pytest.mark.integration
P72 = "/provinces/72"


async def _product(registry) -> dict:
    return await create(registry, "products", PRODUCT)


async def _upload(registry, product: dict, body: bytes, headers=OFFICER, content_type="image/jpeg"):
    return await registry.put(
        f"{P72}/products/{product['id']}/photo",
        content=body,
        headers={**headers, "Content-Type": content_type},
    )


async def test_a_photo_is_stored_upright_at_three_sizes_without_its_metadata_and_published(registry, kafka):
    original = phone_photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload has GPS
    product = await _product(registry)

    uploaded = await _upload(registry, product, original)
    assert uploaded.status_code == 200, uploaded.text
    photo_id = uploaded.json()["photo_id"]
    assert photo_id and uploaded.json()["revision"] == 2

    for size, expected in (("thumb", (240, 320)), ("card", (480, 640)), ("full", (960, 1280))):
        served = await registry.get(f"/photos/{photo_id}/{size}.jpg")  # no token: public
        assert served.status_code == 200, served.text
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        image = Image.open(io.BytesIO(served.content))
        assert (image.format, image.size) == ("JPEG", expected)  # turned upright: portrait
        assert len(image.getexif()) == 0 and "exif" not in image.info
        assert b"Exif" not in served.content and b"PhoneMaker" not in served.content
        # upright: the yellow quarter, top left as stored, is top right once turned 90° clockwise
        width, height = image.size
        assert image.convert("RGB").getpixel((width * 3 // 4, height // 4))[1] > 150  # yellow
        assert image.convert("RGB").getpixel((width // 4, height // 4))[1] < 100  # red

    published = await events(kafka, REGISTRY_PRODUCTS, product["id"], 2)
    assert published[1]["type"] == "registry.product.updated"
    assert (published[1]["payload"]["revision"], published[1]["payload"]["photo_id"]) == (2, photo_id)
    assert published[0]["payload"]["photo_id"] is None
    fetched = await registry.get(f"{P72}/products/{product['id']}", headers=OFFICER)
    assert fetched.json()["photo_id"] == photo_id


async def test_a_new_photo_has_a_new_id_and_the_old_one_is_gone(registry, database_url):
    product = await _product(registry)
    first = (await _upload(registry, product, phone_photo())).json()["photo_id"]
    png = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 128, 0, 128)).save(png, "PNG")  # transparency: on white
    second = await _upload(registry, product, png.getvalue(), content_type="image/png")
    assert second.status_code == 200, second.text
    assert second.json()["photo_id"] != first and second.json()["revision"] == 3
    assert (await registry.get(f"/photos/{first}/card.jpg")).status_code == 404
    small = Image.open(
        io.BytesIO((await registry.get(f"/photos/{second.json()['photo_id']}/full.jpg")).content)
    )
    assert small.size == (300, 200)  # never enlarged
    assert await count_rows(database_url, "photos") == 3


def _bomb() -> bytes:
    """A 20000 x 20000 PNG (400 million pixels) of a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _truncated() -> bytes:
    whole = phone_photo()
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"just some text, saved as photo.jpg\n", 415, "not_an_image"),
        (_bomb(), 422, "decompression_bomb"),
        (_truncated(), 422, "unreadable_image"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_UPLOAD_BYTES + 1), 413, None),
    ],
    ids=["text-named-jpg", "decompression-bomb", "truncated", "over-the-limit"],
)
async def test_a_hostile_file_is_refused_with_a_clear_error_and_changes_nothing(
    registry, database_url, body, status, code
):
    product = await _product(registry)
    refused = await _upload(registry, product, body)
    assert refused.status_code == status, refused.text
    detail = refused.json()["detail"]
    if code:
        assert detail["code"] == code and detail["msg"]
    else:
        assert "larger than" in detail
    after = (await registry.get(f"{P72}/products/{product['id']}", headers=OFFICER)).json()
    assert (after["revision"], after["photo_id"]) == (1, None)
    assert await count_rows(database_url, "photos") == 0


async def test_another_provinces_officer_may_not_set_a_photo(registry, database_url):
    product = await _product(registry)
    refused = await _upload(registry, product, phone_photo(), headers=bearer("province_officer", "10"))
    assert refused.status_code == 403
    committee = await _upload(registry, product, phone_photo(), headers=bearer("committee_member", "72"))
    assert committee.status_code == 403
    assert await count_rows(database_url, "photos") == 0


async def test_unknown_photos_and_sizes_are_refused(registry):
    assert (await registry.get("/photos/5f0e8a38-9a4b-4c55-a8a1-0a4c3b2d1e0f/card.jpg")).status_code == 404
    assert (await registry.get("/photos/5f0e8a38-9a4b-4c55-a8a1-0a4c3b2d1e0f/huge.jpg")).status_code == 422
    assert (await registry.get("/photos/not-an-id/card.jpg")).status_code == 422


async def test_a_producers_public_contact_consent_is_stored_and_published(registry, kafka):
    producer = await create(registry, "producers", PRODUCER)
    assert producer["public_contact_consent"] is False  # off unless the producer agreed
    url = f"{P72}/producers/{producer['id']}"
    agreed = await registry.put(url, json={**PRODUCER, "public_contact_consent": True}, headers=OFFICER)
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["public_contact_consent"], agreed.json()["revision"]) == (True, 2)
    assert (await registry.get(url, headers=OFFICER)).json()["public_contact_consent"] is True
    published = await events(kafka, REGISTRY_PRODUCERS, producer["id"], 2)
    assert [e["payload"]["public_contact_consent"] for e in published] == [False, True]
