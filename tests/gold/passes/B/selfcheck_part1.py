import collections
import json

t = open('/work/shared/raw/ketamine-research.txt','rb').read().decode('utf-8')
if t.startswith('\ufeff'): t = t[1:]
TYPES = {"response_rate","remission_rate","other_rate","dose","route","effect_size","odds_ratio","hazard_ratio","risk_ratio","nnt","follow_up"}
ROUTES = {"IV","IM","IN","SC","ORAL","SL"}; EFF = {"cohen_d","smd","hedges_g","r","unspecified"}
OUT = {"abstinence","relapse","improvement","adverse_event","dropout","other"}
BOUNDS = {None,"<","<=",">",">=","up_to","within","at_least","by","over"}
CONDS = {"depression","anxiety","ptsd","pain","ocd","alcohol","eating_disorders","substance_use","autism","bpd","end_of_life","other"}
KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm","timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
BK = ["block_index","char_start","char_end","title","findings_start","findings_end","conclusion_start","conclusion_end","condition","measures"]
cnt = collections.Counter(); prev_end = -1; n = 0
for i, line in enumerate(open('part1.jsonl', encoding='utf-8'), 1):
    b = json.loads(line); n += 1
    assert list(b) == BK and b['block_index'] == i and b['condition'] in CONDS
    assert prev_end < b['char_start'] <= b['findings_start'] < b['findings_end'] < b['conclusion_start'] < b['conclusion_end'] == b['char_end']
    prev_end = b['char_end']
    if b['title'] is None: assert b['char_start'] == b['findings_start']
    else: assert t[b['char_start']:b['char_start']+len(b['title'])] == b['title'] and '\n' not in b['title']
    for k in ('findings','conclusion'):
        cell = t[b[k+'_start']:b[k+'_end']]
        assert not cell.endswith('\n') and not cell.startswith('\n')
        if '\n' in cell: assert cell.startswith('"') and cell.endswith('"')
    last = -1
    for m in b['measures']:
        assert list(m) == KEYS, m
        assert t[m['char_start']:m['char_end']] == m['text'], m
        assert b['char_start'] <= m['char_start'] < m['char_end'] <= b['char_end'] and m['char_start'] >= last
        last = m['char_start']
        ty = m['type']; assert ty in TYPES and m['bound'] in BOUNDS and isinstance(m['approx'], bool)
        if ty == 'route': assert m['label'] in ROUTES and m['value'] is None and m['unit'] is None
        elif ty == 'effect_size': assert m['label'] in EFF and m['unit'] is None
        elif ty == 'other_rate': assert m['label'] in OUT and m['unit'] == '%'
        else: assert m['label'] is None
        if ty.endswith('_rate'): assert m['unit'] == '%' and m['arm']
        if ty == 'dose': assert m['unit'] in ('mg/kg','mg','mg/kg/h','µg/kg')
        if ty == 'follow_up': assert m['unit'] == 'day'
        if ty in ('odds_ratio','hazard_ratio','risk_ratio','nnt'): assert m['unit'] is None
        if ty != 'route': assert (m['value'] is None) != (m['low'] is None and m['high'] is None)
        if m['numerator'] is not None: assert abs(m['value'] - 100*m['numerator']/m['denominator']) < 1e-6
        cnt[ty] += 1
print('blocks', n, 'measures', sum(cnt.values()))
for k, v in sorted(cnt.items()): print(f'  {k:15s}{v}')
