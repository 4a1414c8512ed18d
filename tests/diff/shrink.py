"""Shrinking a failing difftest case (greedy delta debugging on the spec).

shrink(spec, still_fails, seconds) repeatedly tries smaller variants of the spec and
keeps the first one for which still_fails(variant) is true (the caller checks that the
variant fails *the same way*), until no variant is kept or the time budget is spent.
Variants, biggest cuts first:

  - return fewer outputs, then drop every layer and input nothing returned depends on;
  - bypass a layer: its users read its first input instead (only when that keeps every
    shape valid: gen.infer_shapes decides);
  - smaller inputs: batch 1, fewer channels, smaller spatial sizes, lower rank never;
  - simpler arguments: an argument removed (its default), an (h, w) pair made one
    integer, a number made smaller, channel counts smaller;
  - plainer text: labels removed, default rendering forms, plain names.

Variants that are not valid networks (gen.Invalid) are skipped without running.
"""

import copy
import json
import time

import gen


def renumber(spec, drop_layer=None, drop_input=None, replace=None):
    """A copy of spec without one layer or one input; uses of the dropped node are
    redirected to `replace` (a node id in the old numbering)."""
    s = copy.deepcopy(spec)
    k = len(s['inputs'])
    gone = k + drop_layer if drop_layer is not None else drop_input

    def fix(i):
        if i == gone:
            i = replace
        return i - 1 if i > gone else i

    if drop_layer is not None:
        del s['layers'][drop_layer]
    else:
        del s['inputs'][drop_input]
    for layer in s['layers']:
        layer['src'] = [fix(i) for i in layer['src']]
    s['outputs'] = [fix(i) for i in s['outputs']]
    return s


def prune(spec):
    """Drops the layers and inputs that no output depends on."""
    k = len(spec['inputs'])
    live = set(spec['outputs'])
    for i in range(len(spec['layers']) - 1, -1, -1):
        if k + i in live:
            live.update(spec['layers'][i]['src'])
    s = spec
    for i in range(len(spec['layers']) - 1, -1, -1):
        if k + i not in live:
            s = renumber(s, drop_layer=i)
    for i in range(k - 1, -1, -1):
        if i not in live:
            s = renumber(s, drop_input=i)
    return s


def output_cuts(spec):
    outs = spec['outputs']
    if len(outs) > 1:
        for keep in outs:
            yield dict(spec, outputs=[keep])
        for j in range(len(outs)):
            yield dict(spec, outputs=outs[:j] + outs[j + 1:])


def bypasses(spec):
    k = len(spec['inputs'])
    for i in range(len(spec['layers']) - 1, -1, -1):
        for src in dict.fromkeys(spec['layers'][i]['src']):
            yield renumber(spec, drop_layer=i, replace=src)


def smaller_ints(v):
    """Smaller candidates for a positive integer, smallest first."""
    out = []
    for c in (0, 1, 2, v // 2, v - 1):
        if 0 <= c < v and c not in out:
            out.append(c)
    return out


def input_cuts(spec):
    for j, inp in enumerate(spec['inputs']):
        for d, v in enumerate(inp['shape']):
            for c in smaller_ints(v):
                if c >= 1:
                    s = copy.deepcopy(spec)
                    s['inputs'][j]['shape'][d] = c
                    # inputs of equal shape stay equal (they were often made joinable)
                    for other in s['inputs']:
                        if other is not s['inputs'][j] and other['shape'][:d] + other['shape'][d + 1:] == \
                                inp['shape'][:d] + inp['shape'][d + 1:] and other['shape'][d] == v:
                            other['shape'][d] = c
                    yield s


def value_cuts(v):
    """Simpler forms of one argument value."""
    if isinstance(v, bool) or isinstance(v, str):
        return []
    if isinstance(v, int):
        return [c for c in smaller_ints(abs(v))] + ([abs(v)] if v < 0 else [])
    if isinstance(v, float):
        return [0.0, 1.0, float(round(v))] if v not in (0.0, 1.0) else []
    if isinstance(v, list) and len(v) == 2 and all(isinstance(e, int) for e in v):
        out = [v[0], v[1]]
        for q in range(2):
            for c in smaller_ints(v[q]):
                out.append([c, v[1]] if q == 0 else [v[0], c])
        return out
    if isinstance(v, list):
        return [v[:1]] if len(v) > 1 else []
    return []


def arg_cuts(spec):
    for i, layer in enumerate(spec['layers']):
        for key in list(layer['a']):
            if not (layer['op'] in ('conv2d', 'conv_transpose2d', 'linear') and key == 'co') \
                    and key not in ('k', 'size', 'mean', 'std'):
                s = copy.deepcopy(spec)
                del s['layers'][i]['a'][key]
                yield s
            for c in value_cuts(layer['a'][key]):
                s = copy.deepcopy(spec)
                s['layers'][i]['a'][key] = c
                yield s


def text_cuts(spec):
    for i, layer in enumerate(spec['layers']):
        if layer.get('label') is not None:
            s = copy.deepcopy(spec)
            s['layers'][i]['label'] = None
            yield s
        if layer['f']:
            s = copy.deepcopy(spec)
            s['layers'][i]['f'] = {'call': 'op'} if layer['op'] in ('add', 'sub', 'mul', 'div') else {}
            yield s
    if spec['net'] != 'n':
        yield dict(spec, net='n')
    for j, inp in enumerate(spec['inputs']):
        plain = 'x%d' % j if len(spec['inputs']) > 1 else 'x'
        if inp['name'] != plain or inp.get('form', 'list') != 'list':
            s = copy.deepcopy(spec)
            s['inputs'][j] = {'name': plain, 'shape': inp['shape'], 'form': 'list'}
            yield s


PASSES = (output_cuts, bypasses, input_cuts, arg_cuts, text_cuts)


def valid(spec):
    try:
        gen.infer_shapes(spec)
        return True
    except (gen.Invalid, IndexError, KeyError, TypeError, ValueError, ZeroDivisionError):
        return False


def shrink(spec, still_fails, seconds):
    """The smallest variant found within `seconds`; also returns the number of runs."""
    deadline = time.time() + seconds
    tries = 0
    seen = {json.dumps(spec, sort_keys=True)}
    progress = True
    while progress and time.time() < deadline:
        progress = False
        for make in PASSES:
            for cand in make(spec):
                if time.time() >= deadline:
                    return spec, tries
                cand = prune(cand) if valid(cand) else cand
                key = json.dumps(cand, sort_keys=True)
                if key in seen or not valid(cand):
                    continue
                seen.add(key)
                tries += 1
                if still_fails(cand):
                    spec, progress = cand, True
                    break
            if progress:
                break
    return spec, tries
