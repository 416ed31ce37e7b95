"""The OTOP Mobile look shared by the flag, the poster and the share image: colours and words."""

GREEN = "#0f5132"  # the band and headlines
GOLD = "#f2a900"  # the mark's "Mobile" and accents
CREAM = "#fff8e7"  # the background
INK = "#1d1d1b"  # text
MARK = ("OTOP", "Mobile")
TAGLINE = "ตลาดสินค้า OTOP เคลื่อนที่"  # the programme's Thai name: OTOP เคลื่อนที่ (OTOP Mobile)
SCAN = "สแกนดูสินค้าทั้งหมดและแผนที่"
