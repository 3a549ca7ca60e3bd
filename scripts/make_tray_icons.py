#!/usr/bin/env python3
"""Draws the tray icons (icons/tray-*.png): a dark plug with a white outline, so that it
reads on light and dark panels, and a status dot. Pure Python: rerun after a design change."""
import struct, zlib, pathlib

SIZE, SS = 64, 4  # pixels, supersampling per axis
DARK, WHITE = (43, 47, 54), (255, 255, 255)
STATES = {
    "running": (34, 160, 84),
    "stopped": (140, 146, 156),
    "error": (214, 48, 49),
    "setup": (230, 150, 20),
    "local": (40, 110, 230),
}

def rrect(x, y, w, h, r, grow=0.0):
    x, y, w, h, r = x - grow, y - grow, w + 2 * grow, h + 2 * grow, r + grow
    def inside(px, py):
        cx = min(max(px, x + r), x + w - r)
        cy = min(max(py, y + r), y + h - r)
        return (px - cx) ** 2 + (py - cy) ** 2 <= r * r and x <= px <= x + w and y <= py <= y + h
    return inside

def circle(cx, cy, r):
    return lambda px, py: (px - cx) ** 2 + (py - cy) ** 2 <= r * r

PLUG = [(34, 8, 9, 26, 3), (57, 8, 9, 26, 3), (24, 30, 52, 36, 10), (45, 62, 10, 32, 3)]

def draw(dot):
    layers = [
        ([rrect(*s, grow=5) for s in PLUG], WHITE),
        ([rrect(*s) for s in PLUG], DARK),
        ([circle(76, 76, 22)], WHITE),
        ([circle(76, 76, 16)], dot),
    ]
    rows = []
    for y in range(SIZE):
        row = bytearray([0])
        for x in range(SIZE):
            acc = [0, 0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    px = (x + (sx + 0.5) / SS) * 100 / SIZE
                    py = (y + (sy + 0.5) / SS) * 100 / SIZE
                    colour = None
                    for shapes, c in layers:
                        if any(s(px, py) for s in shapes):
                            colour = c
                    if colour:
                        acc[0] += colour[0]; acc[1] += colour[1]; acc[2] += colour[2]; acc[3] += 1
            n = acc[3]
            if n:
                row += bytes([acc[0] // n, acc[1] // n, acc[2] // n, 255 * n // (SS * SS)])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

out = pathlib.Path(__file__).resolve().parent.parent / "icons"
for name, colour in STATES.items():
    (out / f"tray-{name}.png").write_bytes(draw(colour))
    print(out / f"tray-{name}.png")
