"""Draws a run of bench/grpc-server.sh as an SVG (no plotting library needed): requests per
second and server CPU per request for every system at every clients x streams point, medians
of the run's rounds, on log scales (the systems differ by up to 30x).

Usage: plot.py RAWFILE OUT.svg   (RAWFILE: the rows run_h2load_grpc.sh appends with RAW=)"""
import collections
import math
import statistics
import sys

raw, out = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(raw) if l.strip() and not l.startswith("#")]
values = collections.defaultdict(lambda: collections.defaultdict(list))
for row in rows:
    label, conf = row[0], row[2]
    for key, column in (("rps", 4), ("cpu", 10)):
        if row[column] not in ("", "NA", "nan"):
            values[(label, conf)][key].append(float(row[column]))

systems = list(dict.fromkeys(row[0] for row in rows))
confs = sorted({row[2] for row in rows}, key=lambda c: [int(x) for x in c.split(",")])
colors = ["#1f6feb", "#d1242f", "#8250df", "#bf8700", "#1a7f37", "#57606a", "#cf222e"]
panels = [("rps", "requests per second (higher is better)"),
          ("cpu", "server CPU seconds per 10,000 requests (lower is better)")]

bar, gap, label_width, plot_width = 11, 10, 90, 520
number = lambda v: f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
group = bar * len(systems) + gap
panel_height = 40 + group * len(confs)
legend_height = 22 * math.ceil(len(systems) / 3) + 10
width, height = label_width + plot_width + 80, legend_height + panel_height * len(panels)
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
       f'font-family="sans-serif" font-size="11">',
       f'<rect width="{width}" height="{height}" fill="white"/>']
for index, system in enumerate(systems):
    x, y = 10 + (index % 3) * 230, 16 + 22 * (index // 3)
    svg.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colors[index % len(colors)]}"/>'
               f'<text x="{x + 18}" y="{y}">{system}</text>')

top = legend_height
for key, title in panels:
    medians = {(s, c): statistics.median(values[(s, c)][key])
               for s in systems for c in confs if values[(s, c)][key]}
    low = 10 ** math.floor(math.log10(min(medians.values())))
    high = 10 ** math.ceil(math.log10(max(medians.values())))
    scale = lambda v: label_width + plot_width * math.log10(v / low) / math.log10(high / low)
    svg.append(f'<text x="{label_width}" y="{top + 14}" font-weight="bold">{title}</text>')
    decade = low
    while decade <= high:
        x = scale(decade)
        svg.append(f'<line x1="{x:.1f}" y1="{top + 22}" x2="{x:.1f}" y2="{top + panel_height - 12}" '
                   f'stroke="#d0d7de"/><text x="{x:.1f}" y="{top + panel_height - 1}" '
                   f'text-anchor="middle" fill="#57606a">{number(decade)}</text>')
        decade *= 10
    for ci, conf in enumerate(confs):
        y0 = top + 26 + ci * group
        svg.append(f'<text x="{label_width - 8}" y="{y0 + group / 2}" text-anchor="end">'
                   f'{conf.replace(",", " × ")}</text>')
        for si, system in enumerate(systems):
            if (system, conf) not in medians:
                continue
            value = medians[(system, conf)]
            y = y0 + si * bar
            svg.append(f'<rect x="{label_width}" y="{y}" width="{max(scale(value) - label_width, 1):.1f}" '
                       f'height="{bar - 2}" fill="{colors[si % len(colors)]}">'
                       f'<title>{system} {conf}: {number(value)}</title></rect>'
                       f'<text x="{scale(value) + 4:.1f}" y="{y + bar - 3}" font-size="9">{number(value)}</text>')
    top += panel_height
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
