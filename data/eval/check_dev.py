# Validate data/eval/dev.csv against data/eval/subtopics.toml (parsing, codes, minimum counts, jotted rules, near-duplicates).
# Usage: python3 data/eval/check_dev.py   (exit code 1 on any error)
import csv, tomllib, collections, itertools, re, sys
import os
OUT = os.path.dirname(os.path.abspath(__file__))
T = tomllib.load(open(f'{OUT}/subtopics.toml','rb'))
sub_by_cat = {c['code']: {s['code'] for s in c['subtopic']} for c in T['category']}
kinds = {k['code'] for k in T['out_of_scope']}
allsub = [s for c in sub_by_cat.values() for s in c]
assert len(allsub) == len(set(allsub)), 'dup subtopic codes'
for c, s in sub_by_cat.items(): assert len(s) >= 12, (c, len(s))
rows = list(csv.DictReader(open(f'{OUT}/dev.csv', encoding='utf-8', newline='')))
assert list(rows[0].keys()) == ['id','text','category','subtopic','tier','out_of_scope_kind','style']
STYLES = {'voice','wechat','visit_record','proposal','jotted','typo','mixed'}
errs = []
ids = [r['id'] for r in rows]; assert len(set(ids)) == len(ids)
for i, r in enumerate(rows, 1):
    if r['id'] != f'dev-{i:04d}': errs.append(('id', r['id']))
    t = r['text']
    if not (8 <= len(t) <= 250): errs.append(('len', r['id'], len(t), t))
    if r['style'] not in STYLES: errs.append(('style', r['id']))
    if r['style'] == 'jotted':
        if len(t) >= 20 or re.search(r'[，。、；：？！,.;:?!“”"（）()…—]', t): errs.append(('jotted', r['id'], t))
    if r['out_of_scope_kind']:
        if r['category'] or r['subtopic'] or r['tier'] or r['out_of_scope_kind'] not in kinds: errs.append(('oos', r['id']))
    else:
        if r['category'] not in sub_by_cat or r['subtopic'] not in sub_by_cat[r['category']] or r['tier'] not in ('on_site','transfer','key'):
            errs.append(('ins', r['id'], r['category'], r['subtopic']))
ins = [r for r in rows if not r['out_of_scope_kind']]; oos = [r for r in rows if r['out_of_scope_kind']]
subc = collections.Counter(r['subtopic'] for r in ins)
for s in allsub:
    if subc[s] < 2: errs.append(('subtopic<2', s, subc[s]))
kc = collections.Counter(r['out_of_scope_kind'] for r in oos)
for k in kinds:
    if kc[k] < 12: errs.append(('kind<12', k))
if len(ins) < 420: errs.append(('ins<420', len(ins)))
if len(oos) < 110: errs.append(('oos<110', len(oos)))
# near-duplicates: character bigram Jaccard
def bg(t): t = re.sub(r'\s', '', t); return {t[i:i+2] for i in range(len(t)-1)}
B = [(r['id'], bg(r['text']), r['text']) for r in rows]
dups = []
for (a, x, ta), (b, y, tb) in itertools.combinations(B, 2):
    j = len(x & y) / max(1, len(x | y))
    if j >= 0.45: dups.append((round(j, 2), a, b, ta[:40], tb[:40]))
for e in errs: print('ERR', e)
for d in sorted(dups, reverse=True): print('DUP?', d)
print('rows', len(rows), 'in-scope', len(ins), 'oos', len(oos), 'errors', len(errs), 'near-dups', len(dups))
print('category', collections.Counter(r['category'] for r in ins))
print('tier', collections.Counter(r['tier'] for r in ins))
print('kind', kc)
print('style', collections.Counter(r['style'] for r in rows))
for c in sub_by_cat: print(c, collections.Counter(r['tier'] for r in ins if r['category']==c))
L = [len(r['text']) for r in rows]; print('len min/max/mean', min(L), max(L), sum(L)/len(L))
sys.exit(1 if errs else 0)
