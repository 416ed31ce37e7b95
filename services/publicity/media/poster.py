"""The A4 poster of one market day: the date (Buddhist Era), hours, venue and address, the lineup with
photos and prices, and a QR code to the day's public page. A vector PDF (text in embedded TLWG fonts,
the QR code a path); only the product photos are images."""

import base64

from services.publicity.media import brand, photos, qr, thai
from services.publicity.media.inputs import DayAnnouncement, LineupItem
from services.publicity.media.pdf import render, text

SHOWN = 12  # products with their photos in a 4 × 3 grid; the page lists them all
PHOTO_PX = (480, 300)
STYLE = f"""
@page {{ size: A4; margin: 0; }}
body {{ margin: 0; font-family: Text; color: {brand.INK}; background: {brand.CREAM}; }}
.band {{ background: {brand.GREEN}; color: white; padding: 7mm 14mm 5mm; height: 21mm; }}
.mark {{ float: left; font-family: Headline; font-size: 40pt; line-height: 1; margin-top: 2mm; }}
.mark span {{ color: {brand.GOLD}; }}
.who {{ float: right; text-align: right; line-height: 1.25; }}
.who .tagline {{ font-size: 16pt; color: {brand.GOLD}; font-weight: bold; }}
.who .province {{ font-family: Headline; font-size: 26pt; }}
.when {{ padding: 5mm 14mm 0; }}
.date {{ font-family: Headline; font-size: 27pt; color: {brand.GREEN}; line-height: 1.3; }}
.hours {{ font-size: 19pt; font-weight: bold; }}
.venue {{ font-size: 19pt; font-weight: bold; color: {brand.GREEN}; line-height: 1.2; margin-top: 1mm;
  max-height: 2.4em; overflow: hidden; }}
.address {{ font-size: 14pt; line-height: 1.25; max-height: 2.5em; overflow: hidden; }}
h2 {{ font-size: 17pt; margin: 3mm 14mm 2mm; color: {brand.GREEN}; }}
.lineup {{ margin: 0 12mm; height: 129mm; overflow: hidden; }}
.item {{ float: left; width: 40mm; height: 41mm; margin: 0 2.5mm 2mm; overflow: hidden; }}
.item img, .item .none {{ display: block; width: 40mm; height: 25mm; border-radius: 2mm; }}
.item .none {{ background: #f3e6c4; color: {brand.GOLD}; font-family: Headline; font-size: 18pt;
  text-align: center; line-height: 25mm; }}
.item .name {{ font-weight: bold; font-size: 12pt; line-height: 1.2; margin-top: 1mm; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }}
.item .price {{ font-size: 12pt; color: {brand.GREEN}; font-weight: bold; line-height: 1.2; }}
.item .producer {{ font-size: 10pt; line-height: 1.2; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }}
.more {{ margin: 0 14mm; font-size: 13pt; }}
.foot {{ position: absolute; bottom: 0; left: 0; right: 0; height: 46mm; background: white;
  border-top: 2mm solid {brand.GOLD}; }}
.foot svg {{ position: absolute; right: 12mm; top: 3mm; }}
.foot .scan {{ position: absolute; left: 14mm; top: 7mm; right: 62mm; }}
.foot .scan b {{ display: block; font-size: 18pt; color: {brand.GREEN}; line-height: 1.3; }}
.foot .scan .url {{ font-size: 11pt; word-break: break-all; line-height: 1.3; margin-top: 2mm; }}
"""


def _photo(item: LineupItem) -> str:
    image = photos.decoded(item.photo_jpeg)
    if image is None:
        return '<div class="none">OTOP</div>'
    encoded = base64.b64encode(photos.jpeg(photos.cover(image, *PHOTO_PX))).decode()
    return f'<img src="data:image/jpeg;base64,{encoded}" alt="">'


def _item(item: LineupItem) -> str:
    producer = f'<div class="producer">{text(item.producer)}</div>' if item.producer else ""
    return (
        f'<div class="item">{_photo(item)}<div class="name">{text(item.product_name)}</div>'
        f'<div class="price">{text(thai.price(item.price_thb, item.unit))}</div>{producer}</div>'
    )


def poster_pdf(announcement: DayAnnouncement) -> bytes:
    day, province = announcement.market_day, announcement.province
    otop, mobile = brand.MARK
    lineup = announcement.lineup
    more = (
        f'<p class="more">{text(f"และสินค้าอีก {len(lineup) - SHOWN} รายการ")}</p>'
        if len(lineup) > SHOWN
        else ""
    )
    heading = f"<h2>{text(f'สินค้า OTOP ที่มาจำหน่าย {len(lineup)} รายการ')}</h2>" if lineup else ""
    body = (
        f'<div class="band"><div class="mark">{text(otop)} <span>{text(mobile)}</span></div>'
        f'<div class="who"><div class="tagline">{text(brand.TAGLINE)}</div>'
        f'<div class="province">{text(thai.province_title(province.name_th))}</div></div></div>'
        f'<div class="when"><div class="date">{text(thai.long_date(day.day))}</div>'
        f'<div class="hours">{text(thai.hours(day.starts, day.ends))}</div>'
        f'<div class="venue">{text(day.venue_name)}</div><div class="address">{text(day.address)}</div></div>'
        f'{heading}<div class="lineup">{"".join(_item(item) for item in lineup[:SHOWN])}</div>{more}'
        f'<div class="foot">{qr.svg(announcement.page_url, "40mm", brand.INK)}'
        f'<div class="scan"><b>{text(brand.SCAN)}</b><b>{text("พร้อมวันตลาดครั้งต่อไป")}</b>'
        f'<div class="url">{text(announcement.page_url)}</div></div></div>'
    )
    return render(body, STYLE, f"OTOP Mobile {province.name_th} {thai.long_date(day.day)}")
