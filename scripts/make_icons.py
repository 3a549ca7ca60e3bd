#!/usr/bin/env python3
"""Draws Plugboard's icons (a plug on a rounded square) into icons/ with the standard library
only: supersampled shapes, written as PNG with zlib. Run again after changing the design."""
import math
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "icons")


def rounded_rect(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r and x0 <= x <= x1 and y0 <= y <= y1


def shade(u, v, tray):
    """Colour (r, g, b, a) at unit coordinates (u, v) in [0, 1]."""
    plug = (
        rounded_rect(u, v, 0.30, 0.36, 0.70, 0.66, 0.08)  # body
        or rounded_rect(u, v, 0.37, 0.16, 0.45, 0.40, 0.03)  # left prong
        or rounded_rect(u, v, 0.55, 0.16, 0.63, 0.40, 0.03)  # right prong
        or rounded_rect(u, v, 0.46, 0.62, 0.54, 0.90, 0.03)  # cable
    )
    if tray:
        # Tray: a plain light glyph that reads on dark and light panels.
        return (236, 240, 244, 255) if plug else (0, 0, 0, 0)
    if not rounded_rect(u, v, 0.04, 0.04, 0.96, 0.96, 0.22):
        return (0, 0, 0, 0)
    if plug:
        return (255, 255, 255, 255)
    t = (u + v) / 2
    return (int(20 + 30 * t), int(140 - 60 * t), int(200 + 30 * t), 255)


def render(size, tray=False, ss=4):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(ss):
                for sx in range(ss):
                    c = shade((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size, tray)
                    a = c[3]
                    acc[0] += c[0] * a
                    acc[1] += c[1] * a
                    acc[2] += c[2] * a
                    acc[3] += a
            n = ss * ss
            alpha = acc[3] / n
            if acc[3]:
                row += bytes([round(acc[0] / acc[3]), round(acc[1] / acc[3]), round(acc[2] / acc[3]), round(alpha)])
            else:
                row += bytes(4)
        rows.append(bytes(row))
    return png(size, size, b"".join(rows))


def png(w, h, raw):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    os.makedirs(ROOT, exist_ok=True)
    for name, size, tray in [("32x32.png", 32, False), ("128x128.png", 128, False), ("128x128@2x.png", 256, False), ("icon.png", 512, False)]:  # tray icons: make_tray_icons.py
        with open(os.path.join(ROOT, name), "wb") as f:
            f.write(render(size, tray, ss=4 if size <= 256 else 2))
        print("wrote", name)


if __name__ == "__main__":
    main()
