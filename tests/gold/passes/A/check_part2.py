import collections
import json

t = open('/work/shared/raw/ketamine-research.txt', 'rb').read().decode('utf-8')
if t.startswith('\ufeff'): t = t[1:]
TYPES = {'response_rate','remission_rate','other_rate','dose','route','effect_size','odds_ratio','hazard_ratio','risk_ratio','nnt','follow_up'}
ROUTES = {'IV','IM','IN','SC','ORAL','SL'}; EFF = {'cohen_d','smd','hedges_g','r','unspecified'}
OUT = {'abstinence','relapse','improvement','adverse_event','dropout','other'}
BOUNDS = {None,'<','<=','>','>=','up_to','within','at_least','by','over'}
CONDS = {'depression','anxiety','ptsd','pain','ocd','alcohol','eating_disorders','substance_use','autism','bpd','end_of_life','other'}
KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
BK = ["block_index","char_start","char_end","title","findings_start","findings_end","conclusion_start","conclusion_end","condition","measures"]
rows = [json.loads(l) for l in open('part2.jsonl', encoding='utf-8')]
cnt = collections.Counter(); prev_end = -1
assert [r['block_index'] for r in rows] == list(range(19, 53))
for r in rows:
    assert sorted(r) == sorted(BK), r.keys()
    assert r['condition'] in CONDS
    if r['title'] is None: assert r['char_start'] == r['findings_start']
    else:
        assert t[r['char_start']:r['char_start']+len(r['title'])] == r['title']
        assert r['char_start'] + len(r['title']) + 1 == r['findings_start']
    assert prev_end < r['char_start'] <= r['findings_start'] < r['findings_end'] < r['conclusion_start'] < r['conclusion_end'] == r['char_end']
    for a, b in [('findings_start','findings_end'),('conclusion_start','conclusion_end')]:
        cell = t[r[a]:r[b]]; assert '\n' not in cell or (cell.startswith('"') and cell.endswith('"'))
        assert r[b] == len(t) or t[r[b]] == '\n'
    prev_end = r['char_end']
    last = -1
    for m in r['measures']:
        assert sorted(m) == sorted(KEYS)
        assert t[m['char_start']:m['char_end']] == m['text']
        assert r['char_start'] <= m['char_start'] < m['char_end'] <= r['char_end'] and m['char_start'] >= last
        last = m['char_start']
        ty = m['type']; assert ty in TYPES and m['bound'] in BOUNDS and isinstance(m['approx'], bool)
        if ty == 'route': assert m['label'] in ROUTES and m['value'] is None and m['unit'] is None
        elif ty == 'effect_size': assert m['label'] in EFF and m['unit'] is None
        elif ty == 'other_rate': assert m['label'] in OUT and m['unit'] == '%'
        else: assert m['label'] is None
        if ty in ('response_rate','remission_rate'): assert m['unit'] == '%'
        if ty == 'follow_up': assert m['unit'] == 'day'
        if ty == 'dose': assert m['unit'] in ('mg/kg','mg','mg/kg/h','µg/kg')
        if ty != 'route': assert (m['value'] is None) != (m['low'] is None and m['high'] is None)
        if m['low'] is not None: assert m['low'] < m['high']
        cnt[ty] += 1
print('blocks', len(rows), 'measures', sum(cnt.values()))
for k, v in sorted(cnt.items()): print(f'  {k}: {v}')
print('conditions', dict(collections.Counter(r['condition'] for r in rows)))
