#!/usr/bin/env python3
"""Fails when a code the product throws to users is not documented in README.md.

Every `bad_request("Code"`, `not_found("Code"`, ... (the error types that map to a 4xx answer or to a CLI exit 1,
core/error.hpp) in the C++ sources must appear in README.md as `Code` (in backticks). A plain `error("Code"` is an
internal error (HTTP 500 with a generic body), so it is not listed. Usage: check_error_codes.py SOURCE_DIR
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
thrown = re.compile(r'\b(bad_request|not_found|unauthorized|forbidden|disclosure_refused|unsupported_format|'
                    r'rate_limited|too_large|ingest_error|store_error)\(\s*"([A-Za-z]+)"')
codes = {}
for folder in ("core", "data", "geo", "engine", "server", "tools"):
    for path in sorted((root / folder).rglob("*.[ch]pp")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for kind, code in thrown.findall(line):
                codes.setdefault(code, f"{path.relative_to(root)}:{number} ({kind})")
readme = (root / "README.md").read_text(encoding="utf-8")
documented = set(re.findall(r"`([A-Za-z]+)`", readme))
missing = sorted(c for c in codes if c not in documented)
for code in missing:
    print(f"README.md does not document error code {code}, thrown at {codes[code]}")
print(f"error codes: {len(codes)} thrown, {len(codes) - len(missing)} documented, {len(missing)} missing")
sys.exit(1 if missing else 0)
