#!/usr/bin/env python3
"""Writes the translator's criterion results (the last `cargo bench` run) into BENCHMARKS.md
between <!-- bench:criterion:begin --> and <!-- bench:criterion:end -->.

Usage: criterion-report.py CRITERION_DIR DOC COMMIT
"""
import glob
import json
import os
import sys
import time

crit_dir, doc, commit = sys.argv[1:4]
rows = []
for est_path in sorted(glob.glob(os.path.join(crit_dir, "*", "*", "new", "estimates.json"))):
    new = os.path.dirname(est_path)
    bench = json.load(open(os.path.join(new, "benchmark.json")))
    mean_ns = json.load(open(est_path))["mean"]["point_estimate"]
    throughput = bench.get("throughput") or {}
    rate = ""
    if "Bytes" in throughput:
        rate = f"{throughput['Bytes'] / mean_ns * 1e9 / 1e6:.0f} MB/s"
    elif "Elements" in throughput:
        rate = f"{throughput['Elements'] / mean_ns * 1e9 / 1e6:.2f} M/s"
    rows.append((bench["full_id"], mean_ns / 1000.0, rate))

when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
lines = [
    f"Measured {when} at commit {commit} (`cargo bench -p plugboard-translate`, mean of criterion's samples).",
    "",
    "| benchmark | time | throughput |",
    "|---|---:|---:|",
]
lines += [f"| {name} | {us:.1f} µs | {rate} |" for name, us, rate in rows]
report = "\n".join(lines)

text = open(doc).read()
begin, end = "<!-- bench:criterion:begin -->", "<!-- bench:criterion:end -->"
b, e = text.find(begin), text.find(end)
if 0 <= b < e:
    text = f"{text[:b]}{begin}\n{report}\n{text[e:]}"
else:
    text = f"{text.rstrip()}\n\n{begin}\n{report}\n{end}\n"
open(doc, "w").write(text)
print(report)
