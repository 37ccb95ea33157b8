#!/usr/bin/env python3
"""csvtool: aggregate one column of a CSV file. See README.md."""
import argparse
import csv
import math
import sys


class ToolError(Exception):
    pass


def fmt(x):
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6f}".rstrip("0").rstrip(".")


def read_rows(path):
    try:
        f = sys.stdin if path == "-" else open(path, newline="", encoding="utf-8")
    except OSError as e:
        raise ToolError(f"cannot read {path}: {e.strerror}")
    with f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return reader.fieldnames or [], rows


def numbers(rows, header, column):
    if column not in header:
        raise ToolError(f"unknown column {column!r}")
    out = []
    for i, row in enumerate(rows, start=2):
        cell = (row.get(column) or "").strip()
        if cell == "":
            continue
        try:
            out.append(float(cell))
        except ValueError:
            raise ToolError(f"line {i}: {column} is not a number: {cell!r}")
    return out


def do_sum(header, rows, column):
    return sum(numbers(rows, header, column))


def do_mean(header, rows, column):
    xs = numbers(rows, header, column)
    return sum(xs) / len(xs) if xs else float("nan")


def do_count(header, rows, column=None):
    return len(rows)


def main(argv=None):
    p = argparse.ArgumentParser(prog="csvtool")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("sum", "mean"):
        sp = sub.add_parser(name)
        sp.add_argument("file")
        sp.add_argument("column")
    sp = sub.add_parser("count")
    sp.add_argument("file")
    args = p.parse_args(argv)
    try:
        header, rows = read_rows(args.file)
        fn = {"sum": do_sum, "mean": do_mean, "count": do_count}[args.cmd]
        print(fmt(fn(header, rows, getattr(args, "column", None))))
    except ToolError as e:
        print(f"csvtool: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
