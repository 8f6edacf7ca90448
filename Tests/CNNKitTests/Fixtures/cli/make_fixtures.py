#!/usr/bin/env python3
"""Writes the small PNG fixtures of CLITests.swift with nothing but the standard library (zlib + struct).

gray16.png   3x2, 16-bit gray, samples 0, 1, 257, 32768, 65534, 65535 (read as value / 65535)
rgba8.png    2x2, 8-bit RGBA, RGB (10,20,30) (40,50,60) (70,80,90) (250,251,252), alpha 0..255 (dropped on read)
gray4.png    4x2, 4-bit gray: a valid PNG of a bit depth cnnkit refuses
"""
import struct
import zlib


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows):
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


gray16 = [struct.pack(">HHH", 0, 1, 257), struct.pack(">HHH", 32768, 65534, 65535)]
open("gray16.png", "wb").write(png(3, 2, 16, 0, gray16))

rgba = [bytes([10, 20, 30, 0, 40, 50, 60, 85]), bytes([70, 80, 90, 170, 250, 251, 252, 255])]
open("rgba8.png", "wb").write(png(2, 2, 8, 6, rgba))

gray4 = [bytes([0x01, 0x23]), bytes([0xCD, 0xEF])]
open("gray4.png", "wb").write(png(4, 2, 4, 0, gray4))
