#!/usr/bin/env python3
"""Vendors the caniemail.com support data into crates/mailcheck/data/caniemail.json.

The data comes from the npm package `caniemail` (MIT; it carries caniemail.com's
`data/caniemail.json`). Only what the checks read is kept: for every feature its slug,
title, page, category and, per client and platform, the support found by the most recent
test ("y", "n", "a" for partial, "u" unknown, with note numbers) and the notes.

    npm pack caniemail@2.0.2 && tar xzf caniemail-2.0.2.tgz
    python3 scripts/vendor-caniemail.py package/data/caniemail.json

It rewrites the data file and prints the version it recorded.
"""
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/mailcheck/data/caniemail.json"


def latest(versions):
    """The result of the most recent test: versions are listed oldest first."""
    if not versions:
        return None
    return list(versions.values())[-1]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: vendor-caniemail.py path/to/caniemail.json")
    source = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
    features = []
    for f in source["data"]:
        stats = {}
        for family, platforms in (f.get("stats") or {}).items():
            for platform, versions in (platforms or {}).items():
                result = latest(versions)
                if isinstance(result, str) and result.strip():
                    stats[f"{family}/{platform}"] = result.strip()
        features.append(
            {
                "slug": f["slug"],
                "title": f["title"],
                "url": f["url"],
                "category": f["category"],
                "stats": stats,
                "notes": f.get("notes_by_num") or {},
            }
        )
    out = {
        "source": "npm caniemail (data/caniemail.json from caniemail.com)",
        "licence": "MIT",
        "api_version": source["api_version"],
        "last_update_date": source["last_update_date"],
        "nicenames": {
            "family": source["nicenames"]["family"],
            "platform": source["nicenames"]["platform"],
        },
        "features": features,
    }
    OUT.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(features)} features, data of {source['last_update_date']} (api {source['api_version']})")


if __name__ == "__main__":
    main()
