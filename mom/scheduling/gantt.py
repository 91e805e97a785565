"""Gantt chart of a plan: data for the web UI, SVG, and PNG (no plotting library needed).

One row per work unit, one bar per operation coloured by job order; setups are drawn as a lighter
lead-in, downtimes as grey blocks, fixed operations with a dark outline. The PNG has bars and
grid lines only; labels are in the SVG and the data.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib
from html import escape
from pathlib import Path
from typing import Any

from mom.scheduling.model import Plan, ShopProblem

ROW = 28
LEFT = 90
TOP = 30
WIDTH = 1100


def job_colour(job_order: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(job_order.encode()).digest()
    hue = digest[0] / 255.0
    r, g, b = colorsys.hls_to_rgb(hue, 0.55, 0.6)
    return round(r * 255), round(g * 255), round(b * 255)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def gantt_data(plan: Plan, problem: ShopProblem | None = None) -> dict[str, Any]:
    """Rows, bars and downtimes as plain data, for the web UI."""
    units = [u.id for u in problem.work_units] if problem else []
    for op in plan.operations:
        if op.work_unit not in units:
            units.append(op.work_unit)
    downtimes = [
        {"work_unit": u.id, "start": d.start, "end": d.end, "reason": d.reason}
        for u in (problem.work_units if problem else ())
        for d in u.downtimes
    ]
    bars = [
        {
            "work_unit": op.work_unit,
            "job_order": op.job_order,
            "operation": op.operation,
            "start": op.start,
            "end": op.end,
            "setup": op.setup,
            "fixed": op.fixed,
            "colour": _hex(job_colour(op.job_order)),
        }
        for op in plan.operations
    ]
    start = min((op.start - op.setup for op in plan.operations), default=0)
    end = max([plan.makespan, *(op.end for op in plan.operations)])
    return {
        "work_units": units,
        "start": start,
        "end": end,
        "makespan": plan.makespan,
        "status": plan.status,
        "bars": bars,
        "downtimes": downtimes,
    }


def _scale(data: dict[str, Any]) -> tuple[int, float, int]:
    origin = int(data["start"])
    span = max(1, int(data["end"]) - origin)
    return origin, (WIDTH - LEFT - 20) / span, span


def _tick(span: int) -> int:
    step = 1
    while span / step > 12:
        for factor in (2, 5, 10):
            if span / (step * factor) <= 12:
                return step * factor
        step *= 10
    return step


def gantt_svg(plan: Plan, problem: ShopProblem | None = None) -> str:
    data = gantt_data(plan, problem)
    origin, scale, span = _scale(data)
    rows = {u: k for k, u in enumerate(data["work_units"])}
    height = TOP + ROW * len(rows) + 30

    def x(t: int) -> float:
        return LEFT + (t - origin) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="16">makespan {plan.makespan} ({escape(plan.status)})</text>',
    ]
    step = _tick(span)
    for t in range(origin - origin % step, origin + span + 1, step):
        if t < origin:
            continue
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{TOP}" x2="{x(t):.1f}" y2="{height - 24}" stroke="#ddd"/>'
            f'<text x="{x(t):.1f}" y="{height - 10}" text-anchor="middle">{t}</text>'
        )
    for unit, k in rows.items():
        y = TOP + k * ROW
        parts.append(f'<text x="4" y="{y + ROW / 2 + 4}">{escape(unit)}</text>')
    for d in data["downtimes"]:
        y = TOP + rows[d["work_unit"]] * ROW
        parts.append(
            f'<rect x="{x(d["start"]):.1f}" y="{y + 2}" width="{(d["end"] - d["start"]) * scale:.1f}"'
            f' height="{ROW - 4}" fill="#999" opacity="0.5"><title>{escape(d["reason"])}</title>'
            "</rect>"
        )
    for b in data["bars"]:
        y = TOP + rows[b["work_unit"]] * ROW
        label = f'{b["job_order"]}/{b["operation"]}'
        if b["setup"]:
            parts.append(
                f'<rect x="{x(b["start"] - b["setup"]):.1f}" y="{y + 8}" '
                f'width="{b["setup"] * scale:.1f}" height="{ROW - 16}" fill="{b["colour"]}" '
                'opacity="0.4"/>'
            )
        stroke = ' stroke="#000" stroke-width="2"' if b["fixed"] else ' stroke="#fff"'
        width = (b["end"] - b["start"]) * scale
        parts.append(
            f'<rect x="{x(b["start"]):.1f}" y="{y + 2}" width="{width:.1f}" height="{ROW - 4}" '
            f'fill="{b["colour"]}"{stroke}><title>{escape(label)} [{b["start"]}, {b["end"]})'
            "</title></rect>"
        )
        if width > 7 * len(label):
            parts.append(
                f'<text x="{x(b["start"]) + 3:.1f}" y="{y + ROW / 2 + 4}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def gantt_png(plan: Plan, problem: ShopProblem | None = None) -> bytes:
    data = gantt_data(plan, problem)
    origin, scale, span = _scale(data)
    rows = {u: k for k, u in enumerate(data["work_units"])}
    height = TOP + ROW * len(rows) + 10
    pixels = bytearray(b"\xff" * (WIDTH * height * 3))

    def fill(x0: float, y0: int, x1: float, y1: int, rgb: tuple[int, int, int]) -> None:
        a, b = max(0, int(x0)), min(WIDTH, max(int(x0) + 1, int(x1)))
        colour = bytes(rgb) * (b - a)
        for y in range(max(0, y0), min(height, y1)):
            row = y * WIDTH * 3
            pixels[row + a * 3 : row + b * 3] = colour

    step = _tick(span)
    for t in range(origin - origin % step, origin + span + 1, step):
        fill(LEFT + (t - origin) * scale, TOP, LEFT + (t - origin) * scale + 1, height, (221,) * 3)
    for d in data["downtimes"]:
        y = TOP + rows[d["work_unit"]] * ROW
        x0 = LEFT + (d["start"] - origin) * scale
        fill(x0, y + 2, x0 + (d["end"] - d["start"]) * scale, y + ROW - 2, (170,) * 3)
    for b in data["bars"]:
        y = TOP + rows[b["work_unit"]] * ROW
        x0 = LEFT + (b["start"] - origin) * scale
        x1 = LEFT + (b["end"] - origin) * scale
        rgb = job_colour(b["job_order"])
        if b["fixed"]:
            fill(x0, y + 1, x1, y + ROW - 1, (0, 0, 0))
            fill(x0 + 2, y + 3, x1 - 2, y + ROW - 3, rgb)
        else:
            fill(x0, y + 2, x1 - 1, y + ROW - 2, rgb)
    raw = b"".join(
        b"\x00" + bytes(pixels[y * WIDTH * 3 : (y + 1) * WIDTH * 3]) for y in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", WIDTH, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def write_gantt(plan: Plan, path: str | Path, problem: ShopProblem | None = None) -> Path:
    """Write an SVG or PNG chart, chosen by the file's suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(gantt_svg(plan, problem), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(gantt_png(plan, problem))
    else:
        raise ValueError(f"{path}: Gantt charts are written as .svg or .png, not {suffix!r}")
    return path
