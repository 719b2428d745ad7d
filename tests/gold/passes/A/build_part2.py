# Offsets helper for hand-chosen spans (labels decided by reading; this only computes offsets).
import json

raw = open('/work/shared/raw/ketamine-research.txt', 'rb').read()
text = raw.decode('utf-8')
if text.startswith('\ufeff'):
    text = text[1:]
lines = text.split('\n')
starts = []
p = 0
for ln in lines:
    starts.append(p); p += len(ln) + 1
def ls(n): return starts[n - 1]
def le(n): return starts[n - 1] + len(lines[n - 1])

KEYS = ["type","text","char_start","char_end","value","low","high","unit","label","approx","bound","arm",
        "timepoint_days","numerator","denominator","ci_low","ci_high","p_value"]
H, W, MO, Y = 1/24, 7.0, 30.4375, 365.25
MIN = 1/1440

def m(typ, line, span, occ=0, **kw):
    lt = lines[line - 1]
    i = -1
    for _ in range(occ + 1):
        i = lt.find(span, i + 1)
        assert i >= 0, (line, span, occ)
    d = {k: None for k in KEYS}
    d.update(type=typ, text=span, char_start=ls(line) + i, char_end=ls(line) + i + len(span), approx=False)
    unit_default = {'response_rate': '%', 'remission_rate': '%', 'other_rate': '%', 'follow_up': 'day'}
    d['unit'] = unit_default.get(typ)
    d.update(kw)
    return d

def fu(line, span, value=None, occ=0, **kw): return m('follow_up', line, span, occ, value=value, **kw)
def route(line, span, code, occ=0): return m('route', line, span, occ, label=code)
def dose(line, span, value=None, unit='mg/kg', occ=0, **kw): return m('dose', line, span, occ, value=value, unit=unit, **kw)

# block spec: (block_index, title_line or None, findings (l0,l1), conclusion (l0,l1), condition, measures)
B = []
B.append((19, None, (68, 68), (69, 69), 'anxiety', [
    m('effect_size', 68, 'r=0.50', value=0.50, label='r', arm='esketamine', p_value=0.046),
    m('effect_size', 68, 'r=0.65', value=0.65, label='r', arm='esketamine', p_value=0.007),
    m('effect_size', 68, 'r=0.32', value=0.32, label='r', arm='esketamine', p_value=0.23),
]))
B.append((20, 70, (71, 71), (72, 72), 'anxiety', [
    fu(71, 'Within 1 hour', H, bound='within'),
    fu(71, 'up to one week', W, bound='up_to'),
    dose(71, '0.5–1.0 mg/kg', low=0.5, high=1.0),
    fu(72, 'about a week', W, approx=True),
    dose(72, 'around 0.5 mg/kg', 0.5, approx=True),
]))
B.append((21, None, (73, 73), (74, 74), 'anxiety', [
    m('effect_size', 73, 'standardized mean difference >1', value=1.0, label='smd', bound='>', arm='ketamine', timepoint_days=1.0),
    fu(73, '<24 hours', 1.0, bound='<'),
    fu(73, 'up to 1 week', W, bound='up_to'),
    route(74, 'IV', 'IV'),
    fu(74, 'a week', W),
]))
B.append((22, None, (75, 75), (76, 76), 'ptsd', [
    fu(75, '24 hours', 1.0, occ=0),
    m('response_rate', 75, 'About 40–50%', low=40.0, high=50.0, approx=True, arm='ketamine', timepoint_days=1.0),
    fu(75, '24 hours', 1.0, occ=1),
    m('response_rate', 75, '0%', occ=1, value=0.0, arm='placebo', timepoint_days=1.0),
    fu(75, 'up to one week', W, bound='up_to'),
    fu(76, 'within a day', 1.0, bound='within'),
]))
B.append((23, None, (77, 77), (78, 78), 'ptsd', [
    fu(77, '2 weeks', 14.0),
    m('effect_size', 77, 'd≈1.13', value=1.13, label='cohen_d', approx=True, arm='ketamine', timepoint_days=14.0),
    m('response_rate', 77, '67%', value=67.0, arm='ketamine'),
    m('response_rate', 77, '20%', value=20.0, arm='midazolam'),
    fu(77, '27 days', 27.0),
    m('other_rate', 78, 'Roughly two-thirds', value=200/3, label='improvement', approx=True, arm='ketamine'),
    fu(78, '~4 weeks', 28.0, approx=True),
    route(78, 'IV', 'IV'),
]))
B.append((24, None, (79, 84), (85, 85), 'pain', [
    route(80, 'IV', 'IV'),
    route(82, 'IV', 'IV'),
    route(82, 'intranasal', 'IN'),
    route(85, 'IV', 'IV'),
]))
B.append((25, None, (86, 86), (87, 87), 'ptsd', [
    fu(86, 'up to 7 days', 7.0, bound='up_to'),
    route(87, 'IV', 'IV'),
]))
B.append((26, None, (88, 88), (89, 89), 'ptsd', [
    route(88, 'IV', 'IV'),
    dose(88, '0.5 mg/kg', 0.5),
]))
B.append((27, None, (90, 90), (91, 91), 'ptsd', [
    route(90, 'IV', 'IV'),
    dose(90, '0.5 mg/kg', 0.5),
    fu(90, '1–2 weeks', low=7.0, high=14.0),
    route(90, 'Oral', 'ORAL'),
]))
B.append((28, None, (92, 92), (93, 93), 'ocd', [
    route(93, 'IV', 'IV'),
]))
B.append((29, None, (94, 94), (95, 95), 'ocd', [
    m('response_rate', 94, 'Fifty percent (4/8)', value=50.0, numerator=4, denominator=8, arm='ketamine', timepoint_days=7.0),
    fu(94, '1 week', W, occ=0),
    m('response_rate', 94, '0%', value=0.0, arm='placebo', timepoint_days=7.0),
    route(95, 'IV', 'IV'),
    dose(95, '0.5 mg/kg', 0.5),
]))
B.append((30, None, (96, 96), (97, 97), 'ocd', [
    fu(96, 'within the first hour', H, bound='within'),
    fu(96, 'within 7 days', 7.0, bound='within'),
]))
B.append((31, None, (98, 98), (99, 99), 'alcohol', [
    fu(98, 'over 21 days', 21.0, bound='over'),
    m('nnt', 98, 'NNT ≈ 4', value=4.0, approx=True),
    m('nnt', 98, 'observed ≈ 6', value=6.0, approx=True),
]))
B.append((32, None, (100, 100), (101, 101), 'alcohol', [
    fu(100, 'Over 6 months', 6 * MO, bound='over'),
]))
B.append((33, None, (102, 102), (103, 103), 'alcohol', []))
B.append((34, None, (104, 104), (105, 105), 'alcohol', [
    fu(104, 'six months', 6 * MO),
]))
B.append((35, None, (106, 106), (107, 107), 'eating_disorders', []))
B.append((36, 108, (109, 109), (110, 110), 'eating_disorders', [
    route(108, 'IV', 'IV'),
    route(110, 'IV', 'IV'),
]))
B.append((37, 111, (112, 112), (113, 113), 'eating_disorders', [
    m('other_rate', 112, 'Four of five', value=80.0, numerator=4, denominator=5, label='improvement', arm='ketamine', timepoint_days=1.0),
    m('other_rate', 112, 'two of five', value=40.0, numerator=2, denominator=5, label='improvement', arm='ketamine', timepoint_days=1.0),
    fu(112, 'by twenty four hours', 1.0, bound='by'),
    route(113, 'IM', 'IM'),
]))
B.append((38, None, (114, 114), (115, 115), 'eating_disorders', []))
B.append((39, None, (116, 116), (117, 117), 'substance_use', [
    m('other_rate', 116, '48.2 %', value=48.2, label='abstinence', arm='ketamine'),
    fu(116, 'during the last 2 weeks', 14.0, bound='over'),
    m('other_rate', 116, '10.7 %', value=10.7, label='abstinence', arm='midazolam'),
    m('hazard_ratio', 116, 'HR = 0.47; 95 % CI 0.24–0.92', value=0.47, ci_low=0.24, ci_high=0.92, arm='ketamine'),
]))
B.append((40, None, (118, 118), (119, 119), 'substance_use', [
    fu(118, '12 months', Y),
    m('other_rate', 118, '50%', value=50.0, label='abstinence', arm='ketamine', timepoint_days=Y),
    m('other_rate', 118, '22%', value=22.0, label='abstinence', arm='ketamine', timepoint_days=Y),
    fu(119, '1 year', Y),
]))
B.append((41, None, (120, 120), (121, 121), 'substance_use', []))
B.append((42, None, (122, 122), (123, 123), 'substance_use', []))
B.append((43, None, (124, 124), (125, 125), 'autism', [
    m('other_rate', 124, '50 %', value=50.0, label='adverse_event', arm='ketamine'),
    m('other_rate', 124, '40 %', value=40.0, label='adverse_event', arm='ketamine', occ=0),
    m('other_rate', 124, '40 %', value=40.0, label='adverse_event', arm='ketamine', occ=1),
    fu(124, 'one week', W),
]))
B.append((44, 126, (127, 127), (128, 128), 'autism', [
    route(126, 'Intranasal', 'IN'),
    route(127, 'IN', 'IN'),
    route(128, 'Intranasal', 'IN'),
]))
B.append((45, None, (129, 129), (130, 130), 'autism', [
    route(129, 'intranasal', 'IN'),
    route(129, 'intravenous', 'IV'),
]))
B.append((46, None, (131, 131), (132, 132), 'bpd', [
    fu(131, 'by ~40 minutes', 40 * MIN, approx=True, bound='by'),
    fu(131, 'Day 14', 14.0),
]))
B.append((47, None, (133, 133), (134, 134), 'bpd', []))
B.append((48, None, (135, 135), (136, 136), 'bpd', []))
B.append((49, None, (137, 137), (138, 138), 'end_of_life', [
    m('effect_size', 137, 'r=0.50', value=0.50, label='r', arm='esketamine', p_value=0.046),
    m('effect_size', 137, 'r=0.65', value=0.65, label='r', arm='esketamine', p_value=0.007),
    m('effect_size', 137, 'r=0.32', value=0.32, label='r', arm='esketamine', p_value=0.23),
]))
B.append((50, None, (139, 143), (144, 144), 'end_of_life', [
    fu(140, 'Day 1–3', low=1.0, high=3.0),
    fu(141, 'by Day 5', 5.0, bound='by'),
    fu(141, 'by Day 6', 6.0, bound='by'),
    route(144, 'IV', 'IV'),
    fu(144, '~3 days', 3.0, approx=True),
]))
B.append((51, None, (145, 145), (146, 146), 'end_of_life', [
    route(145, 'Intranasal', 'IN'),
]))
B.append((52, None, (147, 147), (148, 148), 'end_of_life', []))

out = []
for bi, tl, (f0, f1), (c0, c1), cond, ms in B:
    fs, fe = ls(f0), le(f1)
    cs, ce = ls(c0), le(c1)
    title = lines[tl - 1] if tl else None
    bs = ls(tl) if tl else fs
    ms = sorted(ms, key=lambda d: (d['char_start'], d['char_end']))
    for d in ms:
        assert bs <= d['char_start'] < d['char_end'] <= ce, (bi, d)
        assert text[d['char_start']:d['char_end']] == d['text']
    out.append({"block_index": bi, "char_start": bs, "char_end": ce, "title": title,
                "findings_start": fs, "findings_end": fe, "conclusion_start": cs, "conclusion_end": ce,
                "condition": cond, "measures": ms})
with open('/work/main/tests/gold/passes/A/part2.jsonl', 'w', encoding='utf-8') as f:
    for o in out:
        f.write(json.dumps(o, ensure_ascii=False) + '\n')
print(len(out), sum(len(o['measures']) for o in out))
