#!/usr/bin/env python3
"""Builds data/carbon/country_intensity.csv and cloud_regions.csv from CodeCarbon's data
files (shared/data/codecarbon/, commit b05965e4). Usage: build_carbon_data.py SRC_DIR OUT_DIR"""
import csv, json, sys

src, out = sys.argv[1], sys.argv[2]
mix = json.load(open(f"{src}/global_energy_mix.json"))
world = json.load(open(f"{src}/carbon_intensity_per_source.json"))
with open(f"{out}/country_intensity.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["iso3", "name", "g_per_kwh", "year", "source"])
    for iso in sorted(mix):
        c = mix[iso]
        w.writerow([iso, c["country_name"].replace(",", ""), f'{c["carbon_intensity"]:.3f}'.rstrip("0").rstrip("."),
                    c["year"], "Our World in Data via CodeCarbon"])
    w.writerow(["WLD", "World average", world["world_average"], 2019, "IEA Global Energy & CO2 Status Report 2019 via CodeCarbon"])
with open(f"{src}/impact.csv", encoding="utf-8-sig") as f, \
        open(f"{out}/cloud_regions.csv", "w", newline="") as o:
    w = csv.writer(o, lineterminator="\n")
    w.writerow(["provider", "region", "iso3", "g_per_kwh", "source"])
    for r in csv.DictReader(f):
        w.writerow([r["provider"], r["region"], r["countryIsoCode"], r["impact"],
                    "Google Cloud region carbon data via CodeCarbon"])
