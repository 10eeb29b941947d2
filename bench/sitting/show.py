"""Turns run.sh's JSON lines into a table: per file and test, ours vs llama.cpp, mean ± std and the ratio."""
import json
import sys

rows = {}
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    engine = 'llama.cpp' if 'engine' in d else 'nemotron4j'
    for r in d['results']:
        s = r['tokens_per_second']
        rows.setdefault((d['model'].split('/')[-1], r['test']), {})[engine] = (s['mean'], s['std'])
for (model, test), v in rows.items():
    ours, theirs = v.get('nemotron4j'), v.get('llama.cpp')
    fmt = lambda x: '%.1f ± %.1f' % x if x else '-'
    ratio = '%.2fx' % (ours[0] / theirs[0]) if ours and theirs else ''
    print('| %s | %s | %s | %s | %s |' % (model, test, fmt(ours), fmt(theirs), ratio))
