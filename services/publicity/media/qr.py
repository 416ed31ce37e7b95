"""QR codes as SVG vector paths (segno): sharp at any print size, one path of the dark modules.

Error correction H (30 % of the code words recoverable) everywhere: a flag is fabric that folds, flaps
and fades in the sun, a poster gets taped over and rained on, and at the sizes printed here the larger
code H needs still has big modules (the flag's 38 cm code of a 31-character URL: version 4, 9 mm a
module, readable from about 4 m, the rule of thumb being one tenth of the distance)."""

import segno

QUIET_ZONE = 4  # modules of light margin the standard asks for


def svg(url: str, size: str, colour: str = "#000") -> str:
    """An inline <svg> element of the code for `url`, `size` wide and high (a CSS length, e.g. "40cm"),
    its quiet zone included."""
    code = segno.make(url, error="h", boost_error=False, micro=False)
    runs = []
    for y, row in enumerate(code.matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start + QUIET_ZONE} {y + QUIET_ZONE}h{x - start}v1h{start - x}z")
            else:
                x += 1
    side = len(code.matrix) + 2 * QUIET_ZONE
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" width="{size}" height="{size}"'
        f' shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="{colour}" d="{"".join(runs)}"/></svg>'
    )
