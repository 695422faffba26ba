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

# Sub-national regions, as CodeCarbon resolves them (its core/emissions.py):
# USA states (eGRID 2016 via the energy-usage package, lbs CO2/MWh -> g/kWh),
# Canadian provinces (2023 generation mix x coal/petroleum/gas factors 995.7/816.7/743.8 g/kWh),
# Nordic bidding zones (ENTSO-E historical averages). Columns mirror cloud_regions.csv:
# country, region, year, g_per_kwh, source; region names lower case, spaces as '-'.
LB_PER_MWH_TO_G_PER_KWH = 0.45359237
usa = json.load(open(f"{src}/usa_emissions.json"))
can = json.load(open(f"{src}/canada_energy_mix.json"))
nordic = json.load(open(f"{src}/nordic_emissions.json"))["data"]
with open(f"{out}/regions.csv", "w", newline="") as o:
    w = csv.writer(o, lineterminator="\n")
    w.writerow(["iso3", "region", "year", "g_per_kwh", "source"])
    for name in sorted(k for k in usa if not k.startswith("_")):
        g = usa[name]["emissions"] * LB_PER_MWH_TO_G_PER_KWH
        w.writerow(["USA", name.replace(" ", "-"), 2016, f"{g:.3f}",
                    "US EPA eGRID 2016 state rate via CodeCarbon"])
    for name in sorted(can):
        m = can[name]
        g = (m["coal"] * 995.7 + m["petroleum"] * 816.7 + m["naturalGas"] * 743.8) / 100
        w.writerow(["CAN", name.replace(" ", "-"), 2023, f"{g:.3f}",
                    "Canada 2023 provincial generation mix x fossil factors via CodeCarbon"])
    iso = {"SE": "SWE", "NO": "NOR", "FI": "FIN"}
    for zone in sorted(nordic):
        z = nordic[zone]
        w.writerow([iso[zone[:2]], zone.lower(), z["year"], z["emission_factor"],
                    "ENTSO-E historical average via CodeCarbon"])
