#!/usr/bin/env python3
"""Judge an Autobahn testsuite report (Python 3, stdlib only).

    check.py REPORT [--agent NAME] [--allow-unimplemented 12,13]
             [--expect-cases FILE] [--markdown FILE] [--title TEXT]

REPORT is the report directory wstest wrote (it contains index.json) or the
index.json itself. index.json maps agent -> case id -> {behavior,
behaviorClose, remoteCloseCode, duration, reportfile}.

A case passes when both `behavior` and `behaviorClose` are OK or
INFORMATIONAL. NON-STRICT, FAILED, UNIMPLEMENTED, WRONG CODE, UNCLEAN, ...
all fail it; `--allow-unimplemented GROUPS` additionally accepts UNIMPLEMENTED
in the listed top-level case groups (the first number of the case id, e.g.
12 and 13 are permessage-deflate). With `--expect-cases FILE` (one case id a
line, as `wstest_local.py --list-cases SPEC` prints) a case absent from the
report fails as MISSING.

Prints a Markdown summary table per case group, then the failing cases.
Exit status: 0 all cases pass, 1 some case fails or is missing, 2 the report
is unusable (no index.json, agent not in it, bad JSON).
"""
import argparse
import json
import os
import sys
from collections import Counter, OrderedDict

GROUP_NAMES = {
    0: "Handshake",
    1: "Framing",
    2: "Pings/Pongs",
    3: "Reserved Bits",
    4: "Opcodes",
    5: "Fragmentation",
    6: "UTF-8 Handling",
    7: "Close Handling",
    8: "Misc",
    9: "Limits/Performance",
    10: "Misc",
    11: "(unused)",
    12: "Compression (payloads)",
    13: "Compression (parameters)",
}

PASSING = ("OK", "INFORMATIONAL")
# Column order for the behavior verdicts; any other verdict seen is appended.
BEHAVIOR_ORDER = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"]
CLOSE_ORDER = ["OK", "INFORMATIONAL"]


def case_key(case_id):
    out = []
    for part in case_id.split("."):
        try:
            out.append((0, int(part), ""))
        except ValueError:
            out.append((1, 0, part))
    return out


def group_of(case_id):
    try:
        return int(case_id.split(".", 1)[0])
    except ValueError:
        return -1


def parse_groups(text):
    groups = set()
    for item in (text or "").replace(" ", ",").split(","):
        if not item:
            continue
        try:
            groups.add(int(item))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad group {item!r} (want e.g. 12,13)")
    return groups


def load_index(report):
    path = os.path.join(report, "index.json") if os.path.isdir(report) else report
    if not os.path.isfile(path):
        raise SystemExit(_fatal(f"no report index at {path} (did wstest finish and write reports?)"))
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(_fatal(f"cannot read {path}: {e}"))
    if not isinstance(data, dict):
        raise SystemExit(_fatal(f"{path}: expected an object of agents"))
    return path, data


def _fatal(msg):
    print(f"check.py: ERROR: {msg}", file=sys.stderr)
    return 2


def judge(cases, allow_unimpl, expected):
    """Return (rows, failures): rows per group, failures as (case_id, text)."""
    failures = []
    groups = OrderedDict()
    ids = sorted(cases, key=case_key)
    if expected is not None:
        ids = sorted(set(ids) | set(expected), key=case_key)
    for cid in ids:
        g = group_of(cid)
        row = groups.setdefault(g, {"cases": 0, "behavior": Counter(), "close": Counter(),
                                    "missing": 0, "fail": 0, "duration_ms": 0})
        res = cases.get(cid)
        if res is None:
            row["missing"] += 1
            row["fail"] += 1
            failures.append((cid, "MISSING (case not in report)"))
            continue
        row["cases"] += 1
        b = str(res.get("behavior"))
        c = str(res.get("behaviorClose"))
        row["behavior"][b] += 1
        row["close"][c] += 1
        try:
            row["duration_ms"] += int(res.get("duration") or 0)
        except (TypeError, ValueError):
            pass
        ok = set(PASSING)
        if g in allow_unimpl:
            ok.add("UNIMPLEMENTED")
        if b not in ok or c not in ok:
            row["fail"] += 1
            failures.append((cid, "behavior={} behaviorClose={} remoteCloseCode={} report={}".format(
                b, c, res.get("remoteCloseCode"), res.get("reportfile"))))
    return groups, failures


def markdown_table(groups, title):
    b_cols = list(BEHAVIOR_ORDER)
    c_cols = list(CLOSE_ORDER)
    for row in groups.values():
        b_cols += [v for v in sorted(row["behavior"]) if v not in b_cols]
        c_cols += [v for v in sorted(row["close"]) if v not in c_cols]
    show_missing = any(r["missing"] for r in groups.values())

    head = ["Group", "Name", "Cases"] + b_cols + [f"close {v}" for v in c_cols]
    if show_missing:
        head.append("Missing")
    head += ["Failing", "Time (s)"]
    lines = []
    if title:
        lines += [f"### {title}", ""]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---:" if i != 1 else "---" for i in range(len(head))) + "|")

    tot = {"cases": 0, "behavior": Counter(), "close": Counter(), "missing": 0, "fail": 0,
           "duration_ms": 0}

    def cells(label, name, r):
        out = [label, name, str(r["cases"])]
        out += [str(r["behavior"].get(v, 0)) for v in b_cols]
        out += [str(r["close"].get(v, 0)) for v in c_cols]
        if show_missing:
            out.append(str(r["missing"]))
        out.append(str(r["fail"]) if r["fail"] else "0")
        out.append(f"{r['duration_ms'] / 1000:.1f}")
        return out

    for g, r in sorted(groups.items()):
        lines.append("| " + " | ".join(cells(str(g), GROUP_NAMES.get(g, "?"), r)) + " |")
        for k in ("cases", "missing", "fail", "duration_ms"):
            tot[k] += r[k]
        tot["behavior"].update(r["behavior"])
        tot["close"].update(r["close"])
    lines.append("| " + " | ".join(cells("**all**", "", tot)) + " |")
    return "\n".join(lines) + "\n", tot


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", help="report directory (containing index.json) or index.json")
    ap.add_argument("--agent", help="agent to check (default: every agent in the report)")
    ap.add_argument("--allow-unimplemented", type=parse_groups, default=set(), metavar="GROUPS",
                    help="comma-separated top-level case groups where UNIMPLEMENTED is accepted")
    ap.add_argument("--expect-cases", metavar="FILE",
                    help="file with the case ids that must be present, one a line")
    ap.add_argument("--markdown", metavar="FILE", help="also write the summary table(s) here")
    ap.add_argument("--title", default="", help="heading for the Markdown table")
    args = ap.parse_args(argv)

    path, data = load_index(args.report)
    if args.agent:
        if args.agent not in data:
            return _fatal(f"agent {args.agent!r} not in {path}; agents found: "
                          f"{sorted(data) or 'none'} (the client must use ?agent={args.agent}, "
                          f"or the fuzzingclient spec's server \"agent\" must match)")
        agents = [args.agent]
    else:
        agents = sorted(data)
        if not agents:
            return _fatal(f"{path} contains no agents (no case was run)")

    expected = None
    if args.expect_cases:
        with open(args.expect_cases, encoding="utf-8") as f:
            expected = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]

    md_parts = []
    any_fail = False
    for agent in agents:
        groups, failures = judge(data[agent], args.allow_unimplemented, expected)
        title = args.title or "Autobahn"
        title = f"{title}: agent `{agent}`"
        table, tot = markdown_table(groups, title)
        verdict = "PASS" if not failures else "FAIL"
        summary = (f"{verdict}: {tot['cases']} cases run, {len(failures)} failing"
                   + (f" ({tot['missing']} missing)" if tot["missing"] else "")
                   + (f"; UNIMPLEMENTED allowed in groups "
                      f"{','.join(map(str, sorted(args.allow_unimplemented)))}"
                      if args.allow_unimplemented else ""))
        md = table + "\n" + summary + "\n"
        if failures:
            md += "\nFailing cases:\n\n" + "".join(f"- `{cid}`: {why}\n" for cid, why in failures)
        md_parts.append(md)
        any_fail = any_fail or bool(failures)
        print(md)

    if args.markdown:
        os.makedirs(os.path.dirname(os.path.abspath(args.markdown)), exist_ok=True)
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(md_parts))
    return 1 if any_fail else 0


if __name__ == "__main__":
    sys.exit(main())
