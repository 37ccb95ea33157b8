#!/bin/bash
# Reference solution: add --group-by to every subcommand and write grouped CSV output.
set -e
python3 - <<'PY'
p = "csvtool.py"
s = open(p).read()
s = s.replace('''        sp.add_argument("column")
    sp = sub.add_parser("count")
    sp.add_argument("file")
''', '''        sp.add_argument("column")
        sp.add_argument("--group-by", dest="group_by")
    sp = sub.add_parser("count")
    sp.add_argument("file")
    sp.add_argument("--group-by", dest="group_by")
''')
s = s.replace('''        print(fmt(fn(header, rows, getattr(args, "column", None))))
''', '''        column = getattr(args, "column", None)
        if args.group_by is None:
            print(fmt(fn(header, rows, column)))
        else:
            if args.group_by not in header:
                raise ToolError(f"unknown column {args.group_by!r}")
            if column is not None and column not in header:
                raise ToolError(f"unknown column {column!r}")
            groups = {}
            for row in rows:
                groups.setdefault(row.get(args.group_by) or "", []).append(row)
            results = [(key, fmt(fn(header, groups[key], column))) for key in sorted(groups)]
            w = csv.writer(sys.stdout, lineterminator="\\n")
            w.writerow([args.group_by, args.cmd])
            w.writerows(results)
''')
open(p, "w").write(s)
PY
python3 csvtool.py sum data/sales.csv amount --group-by region
python3 csvtool.py count --group-by product data/sales.csv
