"""Turns run.sh's JSON lines into a table: per file and test, ours vs llama.cpp, mean ± std and the ratio.

A file run more than once in a sitting (run.sh FILE … FILE) gets one row per run, in order ("again" after the first).
Our decode rows add the share of the read bandwidth measured after each run, where bench measured it. Where a file ran
more than once (run.sh with ROUNDS=N), a second table gives each row's ratio in every round (ours over llama.cpp's,
each pair run back to back) and the median of those ratios, the figure to read on a host whose speed drifts."""
import json
import sys

rows = []        # (model, test, run) in the order first seen
table = {}
runs = {}        # (engine, model) -> how many of its runs were read so far
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    engine = 'llama.cpp' if 'engine' in d else 'nemotron4j'
    model = d['model'].split('/')[-1]
    run = runs.get((engine, model), 0)
    runs[(engine, model)] = run + 1
    for r in d['results']:
        key = (model, r['test'], run)
        if key not in table:
            rows.append(key)
        s = r['tokens_per_second']
        share = r.get('roofline_fraction')
        table.setdefault(key, {})[engine] = (s['mean'], s['std'], share)
for key in rows:
    model, test, run = key
    ours, theirs = table[key].get('nemotron4j'), table[key].get('llama.cpp')
    fmt = lambda x: ('%.1f ± %.1f' % x[:2] + (' (%.0f %%)' % (100 * x[2]) if x[2] else '')) if x else '-'
    ratio = '%.2fx' % (ours[0] / theirs[0]) if ours and theirs else ''
    name = model + (', again' if run == 1 else ', run %d' % (run + 1) if run > 1 else '')
    print('| %s | %s | %s | %s | %s |' % (name, test, fmt(ours), fmt(theirs), ratio))

paired = {}      # (model, test) -> ratios of the rounds in order
for key in rows:
    model, test, run = key
    ours, theirs = table[key].get('nemotron4j'), table[key].get('llama.cpp')
    if ours and theirs:
        paired.setdefault((model, test), []).append(ours[0] / theirs[0])
if any(len(r) > 1 for r in paired.values()):
    print()
    print('| file | test | ratio per round | median | rounds at >= 1.0x |')
    print('|---|---|---|---|---|')
    for (model, test), r in paired.items():
        m = sorted(r)
        median = m[len(m) // 2] if len(m) % 2 else (m[len(m) // 2 - 1] + m[len(m) // 2]) / 2
        print('| %s | %s | %s | %.2fx | %d of %d |' % (model, test, ' / '.join('%.2f' % x for x in r), median,
                                                      sum(1 for x in r if x >= 1.0), len(r)))
