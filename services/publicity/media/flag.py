"""The OTOP Mobile flag (ธงญี่ปุ่น, a vertical Japanese-style nobori banner), 50 × 150 cm as the seed
sizes it, as a vector PDF at its real size: page 500 × 1500 mm, portrait, as it hangs from its pole.
From the top: the OTOP Mobile mark, the programme's name and the province's running down the flag (read
with the head tilted, as nobori are), and a QR code to the province's public page with a line saying
what it is. Text is real text in embedded TLWG fonts; the QR code is one SVG path."""

from services.publicity.media import brand, qr, thai
from services.publicity.media.fonts import Face
from services.publicity.media.inputs import Province
from services.publicity.media.measure import fitting_size
from services.publicity.media.pdf import render, text

WIDTH_MM, HEIGHT_MM = 500, 1500
RUN_MM, BAND_MM = 620, 440  # the rotated band the names run along: its length and its breadth
QR_MM = 380


def flag_pdf(province: Province, page_url: str) -> bytes:
    name = thai.province_title(province.name_th)
    name_mm = fitting_size(name, Face.HEADLINE, RUN_MM - 40, 150)
    tagline_mm = fitting_size(brand.TAGLINE, Face.TEXT_BOLD, RUN_MM - 40, 80)
    lines_mm = 1.35 * (name_mm + tagline_mm)
    otop, mobile = brand.MARK
    style = f"""
@page {{ size: {WIDTH_MM}mm {HEIGHT_MM}mm; margin: 0; }}
body {{ margin: 0; background: {brand.GREEN}; color: white; font-family: Text; }}
.mark {{ position: absolute; top: 40mm; left: 0; width: {WIDTH_MM}mm; text-align: center;
  font-family: Headline; line-height: 1; }}
.otop {{ font-size: 165mm; }}
.mobile {{ font-size: 105mm; color: {brand.GOLD}; margin-top: 5mm; }}
.run {{ position: absolute; top: 345mm; left: {(WIDTH_MM + BAND_MM) / 2}mm; width: {RUN_MM}mm;
  height: {BAND_MM}mm;
  transform-origin: 0 0; transform: rotate(90deg); text-align: center;
  padding-top: {(BAND_MM - lines_mm) / 2:.1f}mm; box-sizing: border-box; line-height: 1.35; }}
.tagline {{ font-weight: bold; font-size: {tagline_mm:.1f}mm; color: {brand.GOLD}; }}
.province {{ font-family: Headline; font-size: {name_mm:.1f}mm; }}
.scan {{ position: absolute; top: {HEIGHT_MM - QR_MM - 130}mm; left: 0; width: {WIDTH_MM}mm;
  height: {QR_MM + 130}mm; background: {brand.CREAM}; color: {brand.INK}; text-align: center; }}
.scan svg {{ display: block; margin: 25mm auto 0; }}
.scan p {{ margin: 8mm 20mm 0; font-weight: bold; font-size: 30mm; line-height: 1.2; color: {brand.GREEN}; }}
"""
    body = (
        f'<div class="mark"><div class="otop">{text(otop)}</div>'
        f'<div class="mobile">{text(mobile)}</div></div>'
        f'<div class="run"><div class="tagline">{text(brand.TAGLINE)}</div>'
        f'<div class="province">{text(name)}</div></div>'
        f'<div class="scan">{qr.svg(page_url, f"{QR_MM}mm", brand.INK)}'
        f"<p>{text('สแกนดูวันและสถานที่ตลาด')}</p></div>"
    )
    return render(body, style, f"ธง OTOP Mobile {name}")
