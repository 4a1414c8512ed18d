#!/usr/bin/python3
"""Random valid netc networks, each rendered as a .net file and as a PyTorch module.

A *case* is a small JSON-able spec, a DAG of layers:

    {"net": "runner",
     "inputs":  [{"name": "x", "shape": [2, 3, 9, 7], "form": "list"}],
     "layers":  [{"op": "conv2d", "src": [0], "a": {"co": 8, "k": [3, 1]},
                  "f": {"call": "pipe"}, "label": null}, ...],
     "outputs": [1, ...]}

Node ids: the inputs are 0..k-1, layer i is node k+i. `a` holds the op's arguments in
"intent" form: only the arguments that are written in the .net file are present (a
missing key means netc's and PyTorch's default), and quantities netc infers from the
input shape (in_channels, num_features, normalized_shape, normalize's mean/std length)
are not stored but derived, so a spec stays valid when the shrinker changes shapes.
`f` holds rendering choices that do not change the meaning (positional or keyword
arguments, pipe or call, operator or function, stated in_channels, ...).

Every case is reproducible from (seed, index): generate(seed, index) seeds its own
random.Random with the string "netc-diff:SEED:INDEX".

infer_shapes(spec) recomputes every shape from the spec and raises Invalid when an op's
constraints (language.md section 10, and PyTorch's where stricter) do not hold; the
shrinker uses it to reject candidates. layer_names(spec) gives netc's names (section 9),
render_net(spec) the .net source, build_torch(spec) the nn.Module.

Usage: /usr/bin/python3 tests/diff/gen.py SEED INDEX     prints the case's .net source
"""

import os
import re
import json
import math
import random
import sys

# Ops that are PyTorch modules (take an automatic index, section 9); the others are
# functions named after the op.
MODULE_OPS = {'conv2d', 'conv_transpose2d', 'maxpool2d', 'avgpool2d', 'adaptive_avgpool2d',
              'global_avgpool2d', 'linear', 'flatten', 'batchnorm2d', 'layernorm', 'relu',
              'relu6', 'leaky_relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'hardswish', 'hardsigmoid',
              'mish', 'elu', 'softmax', 'log_softmax', 'dropout', 'identity', 'stochastic_depth', 'normalize',
              'upsample', 'conv1d', 'maxpool1d', 'avgpool1d', 'adaptive_avgpool1d', 'batchnorm1d', 'softplus',
              'groupnorm'}
TENSOR_OPS = ('reshape', 'view', 'squeeze', 'unsqueeze', 'permute', 'transpose', 'narrow', 'mean', 'sum', 'amax',
              'slice', 'roll', 'expand')
FUNCTION_OPS = {'add', 'sub', 'mul', 'div', 'concat', 'pad', 'interpolate', 'matmul', 'index_select',
                'arange'} | set(TENSOR_OPS)
# Declarations (language.md 5.8): a tensor of the net's own, named after its variable.
DECL_OPS = ('param', 'buffer')
WEIGHT_OPS = {'conv2d', 'conv_transpose2d', 'linear', 'batchnorm2d', 'layernorm', 'conv1d', 'batchnorm1d',
              'groupnorm'}
ACTIVATIONS = ('relu', 'relu6', 'leaky_relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'hardswish', 'hardsigmoid',
               'mish', 'elu')

# Names that break naive C generation. Input names are drawn from them half the time.
DANGEROUS_NAMES = ['mean', 'std', 'xs', 'inner', 'W', 'm', 'arena', 'output', 'output0',
                   'scratch', 'p', 'int', 'double', 'NULL', 'conv_1', 'in_x',
                   # C keywords and what the generated code calls or declares
                   'float', 'char', 'void', 'static', 'while', 'sizeof', 'struct', 'restrict',
                   'memcpy', 'size_t', 'uint64_t', 'free', 'errno', 'stderr', 'main', 'i', 'n']
PLAIN_NAMES = ['x', 'img', 'a', 'b', 'feat', 'tokens', 'seq', 'input', 'in1', 'left', 'right',
               'y', 'z', 'image', 'data']
NET_NAMES = ['runner', 'conv', 'm', 'model', 'network', 'tiny', 'main', 'forward', 'int', 'double',
             'NULL', 'free', 'arena', 'weights', 'x', 'classifier', 'Net2', 'relu_net', 'n_1']
# Labels (section 8.2): valid PyTorch attribute names (not nn.Module methods).
LABELS = ['conv1', 'bn1', 'fc', 'head', 'proj', 'stem', 'down', 'up', 'act', 'pool', 'norm',
          'mean', 'std', 'W', 'm', 'p', 'output', 'scratch', 'arena', 'xs', 'inner', 'NULL',
          'conv_1', 'in_x', 'int', 'weight', 'bias', 'classifier', 'features', 'layer1']
# String labels that are not identifiers (section 8.2 allows any non-empty string without
# spaces): C comment and string-literal hazards, trigraphs, JSON escapes, non-ASCII.
# netc accepts only letters, digits and '_' (language.md 8.2 says any string without
# spaces; reported): string labels that are not identifiers, and a digit-only string.
WEIRD_LABELS = ['1x', '007', '_', '_0', '9_lives', 'A', 'ALLCAPS', 'x__y', 'block1-0', 'a-b', '-1', 'block1_0']
KNOWN_BAD_INPUTS = {'mean', 'std', 'xs', 'W', 'm', 'arena', 'output', 'scratch', 'p', 'int',
                    'double', 'NULL', 'conv_1', 'output0', 'float', 'char', 'void',
                    'static', 'while', 'sizeof', 'struct', 'restrict', 'memcpy'}
KNOWN_BAD_NETS = {'runner'}


class Invalid(Exception):
    """The spec breaks a constraint of netc's language or of PyTorch."""


# ---------------------------------------------------------------------------- shapes

def pair(v):
    return (v, v) if isinstance(v, int) else (v[0], v[1])


def conv_padding(a, k, d):
    """(top, bottom, left, right) of a conv2d's padding argument."""
    p = a.get('p', 0)
    if p == 'valid':
        return 0, 0, 0, 0
    if p == 'same':
        if pair(a.get('s', 1)) != (1, 1):
            raise Invalid('padding="same" needs stride 1')
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return th // 2, th - th // 2, tw // 2, tw - tw // 2
    ph, pw = pair(p)
    return ph, ph, pw, pw


def groups_of(a, c):
    g = a.get('g', 1)
    return c if g == 'dw' else g


def shape_conv2d(a, x):
    n, c, h, w = need4(x)
    k, s, d = pair(a['k']), pair(a.get('s', 1)), pair(a.get('d', 1))
    g, co = groups_of(a, c), a['co']
    if c % g or co % g:
        raise Invalid('groups')
    pt, pb, pl, pr = conv_padding(a, k, d)
    ho = (h + pt + pb - d[0] * (k[0] - 1) - 1) // s[0] + 1
    wo = (w + pl + pr - d[1] * (k[1] - 1) - 1) // s[1] + 1
    return [n, co, positive(ho), positive(wo)]


def shape_conv_transpose2d(a, x):
    n, c, h, w = need4(x)
    k, s, d = pair(a['k']), pair(a.get('s', 1)), pair(a.get('d', 1))
    p, op = pair(a.get('p', 0)), pair(a.get('op', 0))
    g, co = groups_of(a, c), a['co']
    if c % g or co % g:
        raise Invalid('groups')
    for i in range(2):
        if not (op[i] < s[i] or op[i] < d[i]):
            raise Invalid('output_padding')
    ho = (h - 1) * s[0] - 2 * p[0] + d[0] * (k[0] - 1) + op[0] + 1
    wo = (w - 1) * s[1] - 2 * p[1] + d[1] * (k[1] - 1) + op[1] + 1
    return [n, co, positive(ho), positive(wo)]


def pool_len(size, k, s, p, d, ceil):
    """PyTorch's pooling_output_shape, with its ceil_mode rule."""
    if p > k // 2:
        raise Invalid('pool padding')
    num = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    o = num // s + 1
    if ceil and (o - 1) * s >= size + p:
        o -= 1
    return positive(o)


def shape_pool(a, x, dilated):
    n, c, h, w = need4(x)
    k = pair(a['k'])
    s = pair(a.get('s', a['k']))
    p = pair(a.get('p', 0))
    d = pair(a.get('d', 1)) if dilated else (1, 1)
    ceil = a.get('ceil', False)
    return [n, c, pool_len(h, k[0], s[0], p[0], d[0], ceil), pool_len(w, k[1], s[1], p[1], d[1], ceil)]


def shape_flatten(a, x):
    r = len(x)
    s, e = a.get('start', 1), a.get('end', -1)
    s, e = s + r if s < 0 else s, e + r if e < 0 else e
    if not (0 <= s < r and 0 <= e < r and s <= e):
        raise Invalid('flatten dims')
    mid = 1
    for v in x[s:e + 1]:
        mid *= v
    return list(x[:s]) + [mid] + list(x[e + 1:])


def ln_dims(a, x):
    """The number of trailing dimensions a layernorm normalises."""
    k = a.get('nd')
    if k is None:
        if len(x) < 2:
            raise Invalid('layernorm default needs rank 2')
        return len(x) - 1
    if not 1 <= k <= len(x):
        raise Invalid('layernorm dims')
    return k


def softmax_dim(a, x):
    d = a.get('dim', 1)
    if not -len(x) <= d < len(x):
        raise Invalid('softmax dim')
    return d


def concat_shape(a, xs):
    r = len(xs[0])
    d = a.get('dim', 1)
    if not -r <= d < r:
        raise Invalid('concat dim')
    d %= r
    out = list(xs[0])
    for x in xs[1:]:
        if len(x) != r or any(x[i] != out[i] for i in range(r) if i != d):
            raise Invalid('concat shapes')
        out[d] += x[d]
    return out


def need4(x):
    if len(x) != 4:
        raise Invalid('needs a 4D input')
    return x


def positive(v):
    if v < 1:
        raise Invalid('empty output')
    return v


def broadcast_shape(a, b):
    """NumPy broadcasting of two shapes; raises Invalid."""
    r = max(len(a), len(b))
    a, b = [1] * (r - len(a)) + list(a), [1] * (r - len(b)) + list(b)
    if any(x != y and x != 1 and y != 1 for x, y in zip(a, b)):
        raise Invalid('join shapes')
    return [max(x, y) for x, y in zip(a, b)]


def norm_dim(d, r):
    if not -r <= d < r:
        raise Invalid('dim out of range')
    return d % r


def reshape_target(a, x):
    numel, known, holes = 1, 1, 0
    for v in x:
        numel *= v
    for v in a['shape']:
        if v == -1:
            holes += 1
        else:
            known *= v
    if holes > 1 or not 1 <= len(a['shape']) <= 6 or numel % known:
        raise Invalid('reshape')
    out = [numel // known if v == -1 else v for v in a['shape']]
    if holes == 0 and known != numel:
        raise Invalid('reshape size')
    return out


def tensor_op_shape(op, a, x):
    r = len(x)
    if op in ('reshape', 'view'):
        return reshape_target(a, x)
    if op == 'squeeze':
        if 'dim' in a:
            d = norm_dim(a['dim'], r)
            out = [v for i, v in enumerate(x) if i != d or v != 1]
        else:
            out = [v for v in x if v != 1]
        if not out:
            raise Invalid('squeeze to 0-d')
        return out
    if op == 'unsqueeze':
        d = a['dim']
        if r >= 6 or not -r - 1 <= d <= r:
            raise Invalid('unsqueeze')
        d = d % (r + 1)
        return list(x[:d]) + [1] + list(x[d:])
    if op == 'permute':
        dims = [norm_dim(d, r) for d in a['dims']]
        if sorted(dims) != list(range(r)):
            raise Invalid('permute')
        return [x[d] for d in dims]
    if op == 'transpose':
        d0, d1 = norm_dim(a['d0'], r), norm_dim(a['d1'], r)
        out = list(x)
        out[d0], out[d1] = x[d1], x[d0]
        return out
    if op == 'narrow':
        d = norm_dim(a['dim'], r)
        st = a['start'] + x[d] if a['start'] < 0 else a['start']
        if not 0 <= st <= x[d] or not 1 <= a['len'] <= x[d] - st:
            raise Invalid('narrow')
        out = list(x)
        out[d] = a['len']
        return out
    if op == 'roll':
        dims = a.get('dims')
        if dims is None:
            if isinstance(a['shifts'], list):
                raise Invalid('roll: one shift without dims')
            return list(x)
        dl = dims if isinstance(dims, list) else [dims]
        sl = a['shifts'] if isinstance(a['shifts'], list) else [a['shifts']]
        nd = [norm_dim(d, r) for d in dl]
        if len(dl) != len(sl) or len(set(nd)) != len(nd):
            raise Invalid('roll dims')
        return list(x)
    if op == 'expand':
        size = a['size']
        lead = len(size) - r
        if lead < 0 or len(size) > 6:
            raise Invalid('expand rank')
        out = []
        for i, v in enumerate(size):
            if i < lead:
                if v < 1:
                    raise Invalid('expand lead')
                out.append(v)
            elif v == -1 or v == x[i - lead]:
                out.append(x[i - lead])
            elif x[i - lead] == 1 and v >= 1:
                out.append(v)
            else:
                raise Invalid('expand size')
        return out
    if op == 'slice':
        d = norm_dim(a.get('dim', 0), r)
        n = len(range(x[d])[slice(a.get('start', 0), a.get('end'), a.get('step', 1))])
        if n == 0 or a.get('step', 1) < 1:
            raise Invalid('slice')
        out = list(x)
        out[d] = n
        return out
    if op in ('mean', 'sum', 'amax'):
        dims = a['dim'] if isinstance(a['dim'], list) else [a['dim']]
        dims = [norm_dim(d, r) for d in dims]
        if len(set(dims)) != len(dims):
            raise Invalid('reduce dims repeat')
        if a.get('keep'):
            return [1 if i in dims else v for i, v in enumerate(x)]
        out = [v for i, v in enumerate(x) if i not in dims]
        if not out:
            raise Invalid('reduce to 0-d')
        return out
    raise ValueError(op)


def as_2d(a, pool):
    """A 1-D op's window arguments as those of the 2-D op of height 1 it runs as."""
    b = dict(a)
    for key, h in (('k', 1), ('s', 1), ('d', 1), ('p', 0)):
        if key in a and isinstance(a[key], int):
            b[key] = [h, a[key]]
    if pool and 's' not in a:
        b['s'] = [1, a['k']]          # a pool's stride defaults to its kernel
    return b


def need3(x):
    if len(x) != 3:
        raise Invalid('needs a 3D input')
    return x


def matmul_shape(x, y):
    """torch.matmul's result shape; raises Invalid."""
    if len(x) == 1 and len(y) == 1:
        raise Invalid('matmul of two vectors is 0-d')
    a = [1] + list(x) if len(x) == 1 else list(x)
    b = list(y) + [1] if len(y) == 1 else list(y)
    if a[-1] != b[-2]:
        raise Invalid('matmul inner dims')
    batch = broadcast_shape(a[:-2], b[:-2]) if len(a) > 2 or len(b) > 2 else []
    out = batch + [a[-2]] * (len(x) > 1) + [b[-1]] * (len(y) > 1)
    if len(out) > 6:
        raise Invalid('rank')
    return out


def out_shape(layer, ins):
    """Output shape of one layer given its input shapes; raises Invalid."""
    op, a = layer['op'], layer['a']
    if op in DECL_OPS:
        return list(a['shape'])
    if op == 'arange':
        n = len(range(a.get('start', 0), a['end'], a.get('step', 1)))
        if n < 1:
            raise Invalid('arange: empty')
        return [n]
    x = ins[0]
    if op == 'index_select':
        if len(ins[1]) != 1:
            raise Invalid('index_select: a 1-D index')
        d = norm_dim(a['dim'], len(x))
        if x[d] < a['limit']:
            raise Invalid('index_select: the index buffer\'s values may exceed the dim')
        return x[:d] + [ins[1][0]] + x[d + 1:]
    if op in ('conv1d', 'maxpool1d', 'avgpool1d'):
        n, c, l = need3(x)
        b = as_2d(a, op != 'conv1d')
        if op == 'conv1d':
            o = shape_conv2d(b, [n, c, 1, l])
        else:
            o = shape_pool(b, [n, c, 1, l], op == 'maxpool1d')
        return [o[0], o[1], o[3]]
    if op == 'adaptive_avgpool1d':
        n, c, _ = need3(x)
        return [n, c, a['size']]
    if op == 'batchnorm1d':
        if len(x) not in (2, 3):
            raise Invalid('batchnorm1d rank')
        return list(x)
    if op == 'conv2d':
        return shape_conv2d(a, x)
    if op == 'conv_transpose2d':
        return shape_conv_transpose2d(a, x)
    if op in ('maxpool2d', 'avgpool2d'):
        return shape_pool(a, x, op == 'maxpool2d')
    if op == 'adaptive_avgpool2d':
        n, c, _, _ = need4(x)
        return [n, c] + list(pair(a['size']))
    if op == 'global_avgpool2d':
        n, c, _, _ = need4(x)
        return [n, c, 1, 1]
    if op in ('upsample', 'interpolate'):
        n, c, h, w = need4(x)
        if 'size' in a:
            oh, ow = pair(a['size'])
        else:
            sh, sw = a['scale'] if isinstance(a['scale'], list) else (a['scale'], a['scale'])
            oh, ow = int(math.floor(h * float(sh))), int(math.floor(w * float(sw)))
        return [n, c, positive(oh), positive(ow)]
    if op == 'linear':
        if len(x) < 2:
            raise Invalid('linear needs rank 2')
        return list(x[:-1]) + [a['co']]
    if op == 'flatten':
        return shape_flatten(a, x)
    if op in ('batchnorm2d', 'normalize', 'pad'):
        need4(x)
        if op == 'pad':
            return [x[0], x[1], x[2] + a.get('top', 0) + a.get('bottom', 0),
                    x[3] + a.get('left', 0) + a.get('right', 0)]
        return list(x)
    if op == 'layernorm':
        ln_dims(a, x)
        return list(x)
    if op == 'groupnorm':
        if len(x) < 2 or x[1] % a['groups']:
            raise Invalid('groupnorm groups')
        numel = 1
        for v in x:
            numel *= v
        if numel // a['groups'] == 1:
            raise Invalid('groupnorm: one value per group')   # PyTorch refuses it; so does netc
        return list(x)
    if op in ('softmax', 'log_softmax'):
        softmax_dim(a, x)
        return list(x)
    if op in TENSOR_OPS:
        return tensor_op_shape(op, a, x)
    if op in ('add', 'sub', 'mul', 'div'):
        if len(ins) == 2:
            return broadcast_shape(ins[0], ins[1])
        return list(x)
    if op == 'concat':
        return concat_shape(a, ins)
    if op == 'matmul':
        return matmul_shape(ins[0], ins[1])
    return list(x)          # activations, dropout


def infer_shapes(spec):
    """Shape of every node (inputs first); raises Invalid if the spec is not a valid net."""
    shapes = [list(i['shape']) for i in spec['inputs']]
    for s in shapes:
        if not 1 <= len(s) <= 6 or min(s) < 1:
            raise Invalid('input shape')
    for layer in spec['layers']:
        ins = [shapes[i] for i in layer['src']]
        out = out_shape(layer, ins)
        numel = 1
        for v in out:
            numel *= v
        if numel > 1 << 22:
            raise Invalid('too large')
        shapes.append(out)
    used = {i for layer in spec['layers'] for i in layer['src']} | set(spec['outputs'])
    if any(i not in used for i in range(len(spec['inputs']))):
        raise Invalid('an input nothing reads')
    if not spec['outputs']:
        raise Invalid('no outputs')
    return shapes


def layer_names(spec):
    """netc's name of each layer (section 9): a label, else the next automatic index for
    a module op, else the op's name."""
    names, index = [], 0
    for i, layer in enumerate(spec['layers']):
        if layer['op'] in DECL_OPS:
            names.append('t%d' % (i + 1))      # its variable, as render_net names it
        elif layer.get('label') is not None:
            names.append(str(layer['label']))
        elif layer['op'] in MODULE_OPS:
            names.append(str(index))
            index += 1
        else:
            names.append(layer['op'])
    return names


# ---------------------------------------------------------------------------- rendering

def lit(v):
    """A value as netc source."""
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if ('.' in r or 'e' in r) else r + '.0'
    if isinstance(v, str):
        return string_lit(v)
    if isinstance(v, (list, tuple)):
        return '(' + ', '.join(lit(e) for e in v) + (',)' if len(v) == 1 else ')')
    raise TypeError(v)


def label_text(layer):
    lab = layer.get('label')
    if lab is None:
        return ''
    form = layer['f'].get('lform', 'name')
    if form == 'string':
        return '@(%s) ' % string_lit(lab)
    if form == 'expr' and isinstance(lab, str):
        if len(lab) > 1:
            return '@(%s + %s) ' % (string_lit(lab[:1]), string_lit(lab[1:]))
        return '@(%s) ' % string_lit(lab)
    return '@%s ' % lab


def string_lit(text):
    """A netc string literal: backslashes and double quotes escaped."""
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def op_args(layer, shape_in, shape_all):
    """(positional, keyword) argument texts after the input, for a module or pad op."""
    op, a, f = layer['op'], layer['a'], layer['f']
    pos, kw = [], []

    def put(name, value, positional=False):
        (pos.append(lit(value)) if positional else kw.append('%s=%s' % (name, lit(value))))

    if op in ('conv2d', 'conv_transpose2d', 'conv1d'):
        kpos = f.get('kpos', True)
        put('out_channels', a['co'], kpos)
        put('kernel_size', a['k'], kpos)
        for key, name in (('s', 'stride'), ('p', 'padding'), ('op', 'output_padding'),
                          ('d', 'dilation')):
            if key in a:
                put(name, a[key])
        if 'g' in a:
            put('groups', shape_in[1] if a['g'] == 'dw' else a['g'])
        if 'bias' in a:
            put('bias', a['bias'])
        if f.get('state_in'):
            put('in_channels', shape_in[1])
    elif op in ('maxpool2d', 'avgpool2d', 'maxpool1d', 'avgpool1d'):
        put('kernel_size', a['k'], f.get('kpos', True))
        for key, name in (('s', 'stride'), ('p', 'padding'), ('d', 'dilation'),
                          ('ceil', 'ceil_mode'), ('cip', 'count_include_pad')):
            if key in a:
                put(name, a[key])
    elif op in ('adaptive_avgpool2d', 'adaptive_avgpool1d'):
        put('output_size', a['size'], f.get('kpos', True))
    elif op in ('upsample', 'interpolate'):
        if 'size' in a:
            put('size', a['size'])
        else:
            put('scale_factor', a['scale'])
        if 'mode' in a:
            put('mode', a['mode'])
        if 'ac' in a:
            put('align_corners', a['ac'])
    elif op == 'linear':
        put('out_features', a['co'], f.get('kpos', True))
        if 'bias' in a:
            put('bias', a['bias'])
        if f.get('state_in'):
            put('in_features', shape_in[-1])
    elif op == 'flatten':
        for key, name in (('start', 'start_dim'), ('end', 'end_dim')):
            if key in a:
                put(name, a[key], f.get('kpos', False) and (key == 'start' or 'start' in a))
    elif op in ('batchnorm2d', 'batchnorm1d'):
        for key, name in (('eps', 'eps'), ('momentum', 'momentum'), ('affine', 'affine')):
            if key in a:
                put(name, a[key])
        if f.get('state_in'):
            put('num_features', shape_in[1])
    elif op == 'groupnorm':
        put('num_groups', a['groups'], f.get('kpos', True))
        for key, name in (('eps', 'eps'), ('affine', 'affine')):
            if key in a:
                put(name, a[key])
        if f.get('state_in'):
            put('num_channels', shape_in[1])
    elif op == 'softplus':
        for key, name in (('beta', 'beta'), ('thr', 'threshold')):
            if key in a:
                put(name, a[key], f.get('kpos', False) and (key == 'beta' or 'beta' in a))
    elif op == 'layernorm':
        if 'nd' in a:
            dims = shape_in[len(shape_in) - a['nd']:]
            put('normalized_shape', dims[0] if len(dims) == 1 and f.get('ns_int') else list(dims))
        for key, name in (('eps', 'eps'), ('affine', 'elementwise_affine')):
            if key in a:
                put(name, a[key])
    elif op in ('relu', 'relu6', 'leaky_relu', 'dropout', 'silu', 'hardswish', 'hardsigmoid', 'mish', 'elu'):
        key = {'leaky_relu': 'slope', 'dropout': 'prob', 'elu': 'alpha'}.get(op)
        if key and key in a:
            put({'leaky_relu': 'negative_slope', 'dropout': 'p', 'elu': 'alpha'}[op], a[key], f.get('kpos', True))
        if 'inplace' in a:
            put('inplace', a['inplace'])
    elif op == 'stochastic_depth':
        kpos = f.get('kpos', True)
        put('p', a['prob'], kpos)
        put('mode', a['mode'], kpos)
    elif op == 'identity':
        pass
    elif op == 'gelu':
        if 'approx' in a:
            put('approximate', a['approx'])
    elif op in ('softmax', 'log_softmax'):
        if 'dim' in a:
            put('dim', a['dim'], f.get('kpos', True))
    elif op in ('reshape', 'view'):
        put('shape', a['shape'], f.get('kpos', True))
    elif op in ('squeeze', 'unsqueeze'):
        if 'dim' in a:
            put('dim', a['dim'], f.get('kpos', True))
    elif op == 'permute':
        put('dims', a['dims'], f.get('kpos', True))
    elif op == 'transpose':
        put('dim0', a['d0'], f.get('kpos', True))
        put('dim1', a['d1'], f.get('kpos', True))
    elif op == 'narrow':
        for key, name in (('dim', 'dim'), ('start', 'start'), ('len', 'length')):
            put(name, a[key], f.get('kpos', True))
    elif op == 'slice':
        for key in ('dim', 'start', 'end', 'step'):
            if key in a:
                put(key, a[key])
    elif op == 'roll':
        put('shifts', a['shifts'], f.get('kpos', True))
        if 'dims' in a:
            put('dims', a['dims'])
    elif op == 'expand':
        put('size', a['size'], f.get('kpos', True))
    elif op in ('mean', 'sum', 'amax'):
        put('dim', a['dim'], f.get('kpos', True))
        if 'keep' in a:
            put('keepdim', a['keep'])
    elif op == 'normalize':
        mean, std = fit_list(a['mean'], shape_in[1]), fit_list(a['std'], shape_in[1])
        put('mean', mean, f.get('kpos', True))
        put('std', std, f.get('kpos', True))
    elif op == 'pad':
        for key in ('left', 'right', 'top', 'bottom', 'value'):
            if key in a:
                put(key, a[key])
    return pos, kw


def fit_list(values, n):
    """values cycled or cut to length n (normalize's mean/std follow the channel count)."""
    return [values[i % len(values)] for i in range(n)]


def call_text(name, label, head, pos, kw, piped):
    """`head -> @l name(args)` when piped, else `@l name(head, args)`."""
    if piped:
        args = pos + kw
        return '%s -> %s%s%s' % (head, label, name, '(' + ', '.join(args) + ')' if args else '')
    return '%s%s(%s)' % (label, name, ', '.join([head] + pos + kw))


def join_text(layer, names):
    """add/sub/mul (two tensors, or a tensor and a number) in one of their written forms."""
    op, a, f = layer['op'], layer['a'], layer['f']
    sym = {'add': '+', 'sub': '-', 'mul': '*', 'div': '/'}[op]
    if 'scalar' in a:
        t, s = names[layer['src'][0]], lit(a['scalar'])
        left, right = (s, t) if a.get('side') == 'l' else (t, s)
    else:
        left, right = names[layer['src'][0]], names[layer['src'][1]]
    form = f.get('call', 'op')
    if form == 'neg':
        return '-%s' % left
    if form == 'op' and not layer.get('label'):
        return '%s %s %s' % (paren(left), sym, paren(right))
    if form == 'pipe' and not (left.startswith('-') or left[0].isdigit()):
        return '%s -> %s%s(%s)' % (left, label_text(layer), op, right)
    return '%s%s(%s, %s)' % (label_text(layer), op, left, right)


def paren(text):
    return '(%s)' % text if text.startswith('-') else text


def concat_text(layer, names):
    srcs = [names[i] for i in layer['src']]
    dim = ['dim=%d' % layer['a']['dim']] if 'dim' in layer['a'] else []
    form = layer['f'].get('call', 'args')
    lab = label_text(layer)
    if form == 'pipe':
        return '%s -> %sconcat(%s)' % (srcs[0], lab, ', '.join(srcs[1:] + dim))
    if form == 'tuple' and len(srcs) >= 2:
        return '%sconcat((%s), %s)' % (lab, ', '.join(srcs[:-1]) + (',' if len(srcs) == 2 else ''),
                                      ', '.join(srcs[-1:] + dim))
    return '%sconcat(%s)' % (lab, ', '.join(srcs + dim))


def subscript_ok(layer, x, out):
    """Whether a slice layer may be written x[..., a:b:s, ...]: netc makes a slice layer of
    that only for a step above 1 keeping two or more positions (else a narrow), and an
    index carries no label."""
    a = layer['a']
    return (layer['f'].get('subscript') and layer.get('label') is None and a.get('step', 1) > 1 and
            out[norm_dim(a.get('dim', 0), len(x))] > 1)


def subscript_text(layer, name, rank):
    """A slice layer as an index expression: x[:, :, a:b:s] or x[..., a:b:s, :]."""
    a = layer['a']
    d = norm_dim(a.get('dim', 0), rank)
    part = '%s:%s:%d' % (a.get('start', '') if 'start' in a else '', a.get('end', '') if 'end' in a else '',
                         a.get('step', 1))
    if layer['f'].get('ellipsis') and d > 0:
        subs = ['...', part] + [':'] * (rank - d - 1)
    else:
        subs = [':'] * d + [part]
    return '%s[%s]' % (name, ', '.join(subs))


def input_text(inp):
    dims = ', '.join(str(v) for v in inp['shape'])
    form = inp.get('form', 'list')
    if form == 'f32':
        return '%s: f32[%s]' % (inp['name'], dims)
    if form == 'tuple':
        return '%s: (%s)' % (inp['name'], dims + (',' if len(inp['shape']) == 1 else ''))
    return '%s: [%s]' % (inp['name'], dims)


def render_net(spec, header=''):
    """The .net source of a spec."""
    shapes = infer_shapes(spec)
    k = len(spec['inputs'])
    names = [i['name'] for i in spec['inputs']] + ['t%d' % (i + 1) for i in range(len(spec['layers']))]
    lines = [header] if header else []
    lines.append('net %s(%s) {' % (spec['net'], ', '.join(input_text(i) for i in spec['inputs'])))
    for i, layer in enumerate(spec['layers']):
        op = layer['op']
        if op in ('add', 'sub', 'mul', 'div'):
            expr = join_text(layer, names)
        elif op == 'concat':
            expr = concat_text(layer, names)
        elif op == 'matmul' and layer['f'].get('call') == 'op' and layer.get('label') is None:
            expr = '%s @ %s' % (names[layer['src'][0]], names[layer['src'][1]])
        elif op == 'matmul':
            expr = '%smatmul(%s, %s)' % (label_text(layer), names[layer['src'][0]], names[layer['src'][1]])
        elif op in DECL_OPS:
            dims = ', '.join(str(v) for v in layer['a']['shape'])
            lines.append('    %s %s: %s[%s];' % (op, names[k + i], 'i64' if layer['a'].get('i64') else
                                                   layer['f'].get('elem', ''), dims))
            continue
        elif op == 'slice' and subscript_ok(layer, shapes[layer['src'][0]], shapes[k + i]):
            expr = subscript_text(layer, names[layer['src'][0]], len(shapes[layer['src'][0]]))
        elif op == 'arange':
            a = layer['a']
            args = [str(a['end'])] if 'start' not in a else [str(a['start']), str(a['end'])] + (
                ['step=%d' % a['step']] if 'step' in a else [])
            expr = '%sarange(%s)' % (label_text(layer), ', '.join(args))
        elif op == 'index_select':
            expr = call_text(op, label_text(layer), names[layer['src'][0]],
                             [lit(layer['a']['dim']), names[layer['src'][1]]], [],
                             layer['f'].get('call') == 'pipe')
        else:
            src = layer['src'][0]
            pos, kw = op_args(layer, shapes[src], shapes)
            expr = call_text(op, label_text(layer), names[src], pos, kw,
                             layer['f'].get('call') == 'pipe')
        stated = layer['f'].get('stated')
        target = names[k + i]
        if stated:
            dims = ['?' if stated == 'wild' and j == 0 else str(v) for j, v in enumerate(shapes[k + i])]
            target += ': [%s]' % ', '.join(dims)
        lines.append('    %s = %s;' % (target, expr))
    lines.append('    return %s;' % ', '.join(names[o] for o in spec['outputs']))
    lines.append('}')
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------- PyTorch

def resize_kwargs(a):
    """nn.Upsample / F.interpolate keyword arguments of an upsample spec."""
    kw = {'mode': a.get('mode', 'nearest')}
    if 'size' in a:
        kw['size'] = tuple(a['size']) if isinstance(a['size'], list) else a['size']
    else:
        s = a['scale']
        kw['scale_factor'] = tuple(float(v) for v in s) if isinstance(s, list) else float(s)
    if 'ac' in a:
        kw['align_corners'] = a['ac']
    return kw


def build_torch(spec):
    """An nn.Module computing the spec, whose state_dict names are netc's weight names."""
    import torch
    from torch import nn
    import torch.nn.functional as F

    shapes = infer_shapes(spec)
    names = layer_names(spec)
    k = len(spec['inputs'])

    class Normalize(nn.Module):
        """torchvision.transforms.Normalize: (x - mean[c]) / std[c], no weights."""

        def __init__(self, mean, std):
            super().__init__()
            self.mean_values, self.std_values = mean, std

        def forward(self, x):
            m = torch.tensor(self.mean_values, dtype=x.dtype).view(1, -1, 1, 1)
            s = torch.tensor(self.std_values, dtype=x.dtype).view(1, -1, 1, 1)
            return (x - m) / s

    def module(layer, x):
        op, a = layer['op'], layer['a']
        if op == 'conv2d':
            return nn.Conv2d(x[1], a['co'], a['k'], stride=a.get('s', 1), padding=a.get('p', 0),
                             dilation=a.get('d', 1), groups=groups_of(a, x[1]), bias=a.get('bias', True))
        if op == 'conv1d':
            return nn.Conv1d(x[1], a['co'], a['k'], stride=a.get('s', 1), padding=a.get('p', 0),
                             dilation=a.get('d', 1), groups=groups_of(a, x[1]), bias=a.get('bias', True))
        if op == 'maxpool1d':
            return nn.MaxPool1d(a['k'], stride=a.get('s'), padding=a.get('p', 0),
                                dilation=a.get('d', 1), ceil_mode=a.get('ceil', False))
        if op == 'avgpool1d':
            return nn.AvgPool1d(a['k'], stride=a.get('s'), padding=a.get('p', 0),
                                ceil_mode=a.get('ceil', False), count_include_pad=a.get('cip', True))
        if op == 'adaptive_avgpool1d':
            return nn.AdaptiveAvgPool1d(a['size'])
        if op == 'batchnorm1d':
            return nn.BatchNorm1d(x[1], eps=a.get('eps', 1e-5), momentum=a.get('momentum', 0.1),
                                  affine=a.get('affine', True))
        if op == 'conv_transpose2d':
            return nn.ConvTranspose2d(x[1], a['co'], a['k'], stride=a.get('s', 1), padding=a.get('p', 0),
                                      output_padding=a.get('op', 0), groups=groups_of(a, x[1]),
                                      bias=a.get('bias', True), dilation=a.get('d', 1))
        if op == 'maxpool2d':
            return nn.MaxPool2d(a['k'], stride=a.get('s'), padding=a.get('p', 0),
                                dilation=a.get('d', 1), ceil_mode=a.get('ceil', False))
        if op == 'avgpool2d':
            return nn.AvgPool2d(a['k'], stride=a.get('s'), padding=a.get('p', 0),
                                ceil_mode=a.get('ceil', False), count_include_pad=a.get('cip', True))
        if op == 'adaptive_avgpool2d':
            return nn.AdaptiveAvgPool2d(tuple(pair(a['size'])))
        if op == 'global_avgpool2d':
            return nn.AdaptiveAvgPool2d(1)
        if op == 'upsample':
            return nn.Upsample(**resize_kwargs(a))
        if op == 'linear':
            return nn.Linear(x[-1], a['co'], bias=a.get('bias', True))
        if op == 'flatten':
            return nn.Flatten(a.get('start', 1), a.get('end', -1))
        if op == 'batchnorm2d':
            return nn.BatchNorm2d(x[1], eps=a.get('eps', 1e-5), momentum=a.get('momentum', 0.1),
                                  affine=a.get('affine', True))
        if op == 'groupnorm':
            return nn.GroupNorm(a['groups'], x[1], eps=a.get('eps', 1e-5), affine=a.get('affine', True))
        if op == 'softplus':
            return nn.Softplus(beta=a.get('beta', 1), threshold=a.get('thr', 20))
        if op == 'layernorm':
            return nn.LayerNorm(list(x[len(x) - ln_dims(a, x):]), eps=a.get('eps', 1e-5),
                                elementwise_affine=a.get('affine', True))
        if op == 'relu':
            return nn.ReLU()           # inplace is ignored by netc; PyTorch must not alias
        if op == 'relu6':
            return nn.ReLU6()
        if op == 'leaky_relu':
            return nn.LeakyReLU(a.get('slope', 0.01))
        if op == 'sigmoid':
            return nn.Sigmoid()
        if op == 'tanh':
            return nn.Tanh()
        if op == 'gelu':
            return nn.GELU(approximate=a.get('approx', 'none'))
        if op in ('silu', 'hardswish', 'hardsigmoid', 'mish'):
            return {'silu': nn.SiLU, 'hardswish': nn.Hardswish, 'hardsigmoid': nn.Hardsigmoid,
                    'mish': nn.Mish}[op]()
        if op == 'elu':
            return nn.ELU(a.get('alpha', 1.0))
        if op == 'softmax':
            return nn.Softmax(dim=softmax_dim(a, x))
        if op == 'log_softmax':
            return nn.LogSoftmax(dim=softmax_dim(a, x))
        if op == 'dropout':
            return nn.Dropout(a.get('prob', 0.5))
        if op == 'identity':
            return nn.Identity()
        if op == 'stochastic_depth':
            import torchvision
            return torchvision.ops.StochasticDepth(a['prob'], a['mode'])
        if op == 'normalize':
            return Normalize(fit_list(a['mean'], x[1]), fit_list(a['std'], x[1]))
        raise ValueError(op)

    class Graph(nn.Module):
        def __init__(self):
            super().__init__()
            self._calls = []                 # per layer: module name, or None for functions
            # Declared tensors: the root's own parameters and buffers, which its
            # state_dict lists before the modules' (the generator declares them first).
            self.index_limits = {}
            for i, layer in enumerate(spec['layers']):
                a = layer['a']
                if layer['op'] == 'param':
                    self.register_parameter(names[i], nn.Parameter(torch.zeros(a['shape'])))
                elif layer['op'] == 'buffer':
                    self.register_buffer(names[i], torch.zeros(a['shape'], dtype=torch.int64 if a.get('i64')
                                                               else torch.float32))
                    if a.get('i64'):
                        self.index_limits[names[i]] = a['limit']
            for i, layer in enumerate(spec['layers']):
                if layer['op'] in MODULE_OPS:
                    name = names[i]
                    if name not in self._modules:
                        self.add_module(name, module(layer, shapes[layer['src'][0]]))
                    self._calls.append(name)
                else:
                    self._calls.append(None)

        def forward(self, *inputs):
            vals = list(inputs)
            self.trace = vals
            for i, layer in enumerate(spec['layers']):
                xs = [vals[s] for s in layer['src']]
                if layer['op'] in DECL_OPS:
                    vals.append(getattr(self, names[i]))
                elif self._calls[i] is not None:
                    vals.append(self._modules[self._calls[i]](xs[0]))
                else:
                    # arange makes its tensor in the inputs' dtype: the float64 reference
                    # (model.double()) would otherwise mix float32 into it.
                    vals.append(functional(layer, xs, inputs[0].dtype if inputs else torch.float32))
            outs = [vals[o] for o in spec['outputs']]
            return outs

    def functional(layer, xs, dtype=torch.float32):
        op, a = layer['op'], layer['a']
        if op == 'concat':
            return torch.cat(xs, dim=a.get('dim', 1))
        if op == 'matmul':
            return torch.matmul(xs[0], xs[1])
        if op == 'index_select':
            return torch.index_select(xs[0], a['dim'], xs[1])
        if op == 'arange':
            return torch.arange(a.get('start', 0), a['end'], a.get('step', 1), dtype=dtype)
        if op == 'pad':
            return F.pad(xs[0], (a.get('left', 0), a.get('right', 0), a.get('top', 0),
                                 a.get('bottom', 0)), value=float(a.get('value', 0.0)))
        x = xs[0] if xs else None
        if op == 'interpolate':
            return F.interpolate(x, **resize_kwargs(a))
        if op in ('reshape', 'view'):
            return x.reshape(a['shape'])   # netc's tensors are contiguous: its view never fails
        if op == 'squeeze':
            return x.squeeze(a['dim']) if 'dim' in a else x.squeeze()
        if op == 'unsqueeze':
            return x.unsqueeze(a['dim'])
        if op == 'permute':
            return x.permute(a['dims'])
        if op == 'transpose':
            return x.transpose(a['d0'], a['d1'])
        if op == 'narrow':
            return x.narrow(a['dim'], a['start'], a['len'])
        if op == 'roll':
            return torch.roll(x, a['shifts'], a['dims']) if 'dims' in a else torch.roll(x, a['shifts'])
        if op == 'expand':
            return x.expand(*a['size'])
        if op == 'slice':
            idx = [slice(None)] * norm_dim(a.get('dim', 0), x.dim())
            return x[tuple(idx + [slice(a.get('start'), a.get('end'), a.get('step', 1))])]
        if op in ('mean', 'sum', 'amax'):
            fn = {'mean': torch.mean, 'sum': torch.sum, 'amax': torch.amax}[op]
            dim = tuple(a['dim']) if isinstance(a['dim'], list) else a['dim']
            return fn(x, dim=dim, keepdim=a.get('keep', False))
        fn = {'add': torch.add, 'sub': torch.sub, 'mul': torch.mul, 'div': torch.div}[op]
        if 'scalar' in a:
            s = torch.tensor(float(a['scalar']), dtype=xs[0].dtype)
            return fn(s, xs[0]) if a.get('side') == 'l' else fn(xs[0], s)
        return fn(xs[0], xs[1])

    return Graph()


# ---------------------------------------------------------------------------- generation

SMALL_C = [1, 1, 2, 3, 3, 4, 5, 6, 8, 16, 17, 33]
SMALL_HW = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]
LARGE_C = [32, 33, 48, 64]
LARGE_HW = [16, 17, 20, 24, 32]


class Gen:
    """The state of one case being generated."""

    def __init__(self, rng, large, avoid_known):
        self.rng, self.large, self.avoid_known = rng, large, avoid_known
        self.spec = {'net': '', 'inputs': [], 'layers': [], 'outputs': []}
        self.shapes = []
        self.labels = {}        # label -> layer index (weighted labels are unique)
        self.index_nodes = set()  # i64 buffers: only index_select reads them

    # --- helpers
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq)

    def chans(self):
        return self.pick(LARGE_C if self.large else SMALL_C)

    def hw(self):
        return self.pick(LARGE_HW if self.large else SMALL_HW)

    def maybe_pair(self, v, alt=None):
        """v as an int, or as an (h, w) tuple (sometimes asymmetric)."""
        if self.chance(0.3):
            return [v, alt if alt is not None else v]
        return v

    def add_layer(self, op, src, a, f=None, label=None):
        if any(i['name'] == op for i in self.spec['inputs']):
            raise Invalid('an input named like the op hides it')     # a net input 'mean' hides mean()
        layer = {'op': op, 'src': list(src), 'a': a, 'f': f or {}, 'label': label}
        shape = out_shape(layer, [self.shapes[s] for s in src])
        numel = 1
        for v in shape:
            numel *= v
        if numel > (1 << 20):
            raise Invalid('too large')
        self.spec['layers'].append(layer)
        self.shapes.append(shape)
        return len(self.shapes) - 1

    def form(self, extra=None):
        f = {'call': 'pipe' if self.chance(0.5) else 'call'}
        if self.chance(0.3):
            f['kpos'] = False
        if self.chance(0.1):
            f['stated'] = 'wild' if self.chance(0.5) else 'full'
        if extra:
            f.update(extra)
        return f

    def label(self, op, a=None):
        """Sometimes a label: a name, a large integer, or a string expression. a: the
        layer's arguments (a reused label must name the same module)."""
        if not self.chance(0.2):
            return None, {}
        r = self.rng.random()
        if r < 0.15:
            lab = self.rng.randrange(1000, 1100)
            form = 'int'
        elif r < 0.3:
            lab = self.pick(WEIRD_LABELS)
            form = 'string'
        else:
            lab = self.pick(LABELS)
            form = self.pick(['name', 'name', 'string', 'expr'])
        if str(lab) in self.labels:
            prev = self.spec['layers'][self.labels[str(lab)]]
            # A shared label is only valid for a weightless module of the same kind
            # and arguments, which PyTorch calls twice (ResNet's relu): one name is one
            # module (maxpool2d(2) and maxpool2d(3) under one name were two modules
            # PyTorch could not name alike; seed 9000 case 2446).
            if op in WEIGHT_OPS or op not in MODULE_OPS or prev['op'] != op or prev['a'] != (a or {}):
                return None, {}
        return lab, {'lform': form}

    # --- the network
    def make_inputs(self):
        n_in = self.pick([1, 1, 1, 1, 2, 2, 3])
        names = []
        for j in range(n_in):
            pool = DANGEROUS_NAMES if self.chance(0.5) else PLAIN_NAMES
            if self.avoid_known:
                pool = [p for p in pool if p not in KNOWN_BAD_INPUTS] or PLAIN_NAMES
            name = self.pick([p for p in pool if p not in names] or ['in%d' % j])
            names.append(name)
            if j > 0 and self.chance(0.5):
                shape = list(self.shapes[0])           # joinable with the first input
            else:
                shape = self.input_shape()
            form = self.pick(['list', 'list', 'f32', 'tuple'])
            self.spec['inputs'].append({'name': name, 'shape': shape, 'form': form})
            self.shapes.append(shape)

    def input_shape(self):
        n = self.pick([1, 1, 1, 2, 3]) if not self.large else self.pick([1, 1, 2])
        r = self.rng.random()
        if r < 0.66 or self.large:
            return [n, self.chans(), self.hw(), self.hw()]
        if r < 0.78:
            return [n, self.pick([1, 3, 7, 16, 33, 64, 100])]
        if r < 0.95:      # [N, C, L]: the 1-D ops' input
            return [n, self.pick([1, 2, 5, 8, 16]), self.pick([1, 3, 7, 16, 33, 50])]
        if r < 0.98:
            return [n, 2, 3, self.pick([1, 4]), self.pick([2, 5])]
        return [self.pick([1, 3, 7, 16])]

    def pick_src(self, want_rank=None):
        """A node to build on: mostly the newest ones, sometimes any earlier node."""
        ids = [i for i, s in enumerate(self.shapes) if (want_rank is None or len(s) in want_rank) and
               i not in self.index_nodes]
        if not ids:
            return None
        r = self.rng.random()
        if r < 0.55:
            return ids[-1]
        return self.pick(ids[-3:]) if r < 0.8 else self.pick(ids)


def gen_conv2d(g, x):
    n, c, h, w = x
    a = {'co': g.chans()}
    r = g.rng.random()
    if r < 0.15 and c > 1:
        a['g'] = 'dw'
        a['co'] = c * g.pick([1, 1, 2])
    elif r < 0.3:
        divs = [d for d in range(2, c + 1) if c % d == 0]
        if divs:
            gg = g.pick(divs)
            a['g'] = gg
            a['co'] = gg * g.pick([1, 1, 2, 3])
    elif r < 0.35:
        a['g'] = 1
    kind = g.rng.random()
    if kind < 0.08:
        # a kernel as large as the padded input
        p = g.pick([0, 0, 1])
        a['k'], a['p'] = [h + 2 * p, w + 2 * p], p
        return a
    kh = g.pick([1, 1, 2, 3, 3, 3, 4, 5, 7])
    kw = kh if g.chance(0.7) else g.pick([1, 2, 3, 5])
    a['k'] = kh if kh == kw and g.chance(0.6) else [kh, kw]
    if g.chance(0.25):
        a['d'] = g.maybe_pair(g.pick([2, 3]), g.pick([1, 2]))
    if g.chance(0.15):
        a['p'] = 'same'
    elif g.chance(0.05):
        a['p'] = 'valid'
    else:
        if g.chance(0.6):
            a['p'] = g.maybe_pair(g.pick([0, 1, 1, 2, 3]), g.pick([0, 1, 2]))
        if g.chance(0.35):
            a['s'] = g.maybe_pair(g.pick([2, 2, 3, 4]), g.pick([1, 2, 3]))
    if g.chance(0.2):
        a['bias'] = g.chance(0.3)
    return a


def gen_conv_transpose2d(g, x):
    n, c, h, w = x
    a = {'co': g.pick([1, 2, 3, 4, 5, 8, 16])}
    if g.chance(0.2):
        divs = [d for d in range(2, c + 1) if c % d == 0]
        if divs:
            a['g'] = g.pick(divs)
            a['co'] = a['g'] * g.pick([1, 2])
    kh = g.pick([1, 2, 3, 3, 4, 5])
    a['k'] = g.maybe_pair(kh, g.pick([1, 2, 3]))
    if g.chance(0.6):
        a['s'] = g.maybe_pair(g.pick([2, 2, 3]), g.pick([1, 2]))
    if g.chance(0.25):
        a['d'] = g.maybe_pair(g.pick([2, 3]), 1)
    if g.chance(0.4):
        a['p'] = g.maybe_pair(g.pick([0, 1, 2]), g.pick([0, 1]))
    if g.chance(0.35):
        s, d = pair(a.get('s', 1)), pair(a.get('d', 1))
        a['op'] = [g.rng.randrange(max(s[0], d[0])), g.rng.randrange(max(s[1], d[1]))]
        if a['op'][0] == a['op'][1] and g.chance(0.5):
            a['op'] = a['op'][0]
    if g.chance(0.2):
        a['bias'] = g.chance(0.3)
    return a


def gen_pool(g, x, op):
    n, c, h, w = x
    k = g.pick([1, 2, 2, 3, 3, 4, 5])
    a = {'k': g.maybe_pair(k, g.pick([1, 2, 3]))}
    kk = pair(a['k'])
    if g.chance(0.5):
        a['s'] = g.maybe_pair(g.pick([1, 2, 3, 5]), g.pick([1, 2]))
    if g.chance(0.4):
        a['p'] = [g.rng.randint(0, kk[0] // 2), g.rng.randint(0, kk[1] // 2)]
        if a['p'][0] == a['p'][1] and g.chance(0.6):
            a['p'] = a['p'][0]
    if op == 'maxpool2d' and g.chance(0.25):
        a['d'] = g.maybe_pair(2, g.pick([1, 3]))
    if g.chance(0.45):
        a['ceil'] = g.chance(0.8)
    if op == 'avgpool2d' and g.chance(0.5):
        a['cip'] = g.chance(0.4)
    return a


def one_d(a):
    """A 2-D op's generated arguments cut to the width axis: the 1-D op's."""
    b = dict(a)
    for key in ('k', 's', 'p', 'd'):
        if key in b and isinstance(b[key], list):
            b[key] = b[key][1]
    return b


def empty_window(size, k, s, p, d, o):
    """Whether some of the o pooling windows along an axis holds padding only."""
    return any(not any(0 <= i * s - p + j * d < size for j in range(k)) for i in range(o))


def gen_layer(g, op, src):
    """Arguments and form for a one-input op on node src; raises Invalid if none fit."""
    x = g.shapes[src]
    f = g.form()
    if op == 'conv2d':
        a = gen_conv2d(g, x)
        if g.chance(0.15):
            f['state_in'] = True
    elif op == 'conv1d':
        a = one_d(gen_conv2d(g, [x[0], x[1], 1, x[2]]))
        if g.chance(0.15):
            f['state_in'] = True
    elif op in ('maxpool1d', 'avgpool1d'):
        a = one_d(gen_pool(g, [x[0], x[1], 1, x[2]], op.replace('1d', '2d')))
    elif op == 'adaptive_avgpool1d':
        a = {'size': g.pick([1, 2, 3, 5, 7, 16])}
    elif op == 'batchnorm1d':
        a = {}
        if g.chance(0.3):
            a['eps'] = g.pick([1e-3, 0.01, 1e-5])
        if g.chance(0.3):
            a['affine'] = g.chance(0.3)
        if g.chance(0.2):
            f['state_in'] = True
    elif op == 'conv_transpose2d':
        a = gen_conv_transpose2d(g, x)
        if g.chance(0.15):
            f['state_in'] = True
    elif op in ('maxpool2d', 'avgpool2d'):
        a = gen_pool(g, x, op)
        if op == 'maxpool2d' and g.chance(0.9):
            # A window over padding only gives -inf, which turns later layers into NaN
            # on both sides: allowed, but rarely, since it weakens the comparison.
            out = shape_pool(a, x, True)
            k, st, p, d = pair(a['k']), pair(a.get('s', a['k'])), pair(a.get('p', 0)), pair(a.get('d', 1))
            if any(empty_window(x[2 + q], k[q], st[q], p[q], d[q], out[2 + q]) for q in range(2)):
                raise Invalid('a max pool window over padding only')
    elif op == 'adaptive_avgpool2d':
        a = {'size': g.maybe_pair(g.pick([1, 2, 3, 5, 7]), g.pick([1, 4, 6]))}
    elif op in ('upsample', 'interpolate'):
        if g.chance(0.4):
            a = {'size': g.maybe_pair(g.pick([1, 2, 3, 5, 8, 12, 16, 23]), g.pick([4, 6, 9, 31]))}
        else:
            a = {'scale': g.maybe_pair(g.pick([2, 2, 3, 0.5, 1.5, 2.5, 1, 0.75, 1.7, 4, 0.3]),
                                       g.pick([2, 1.25, 0.5, 3]))}
        r = g.rng.random()
        if r < 0.5:
            a['mode'] = 'bilinear'
            if g.chance(0.6):
                a['ac'] = g.chance(0.5)
        elif r < 0.75:
            a['mode'] = 'nearest'
    elif op == 'global_avgpool2d':
        a = {}
    elif op == 'linear':
        a = {'co': g.pick([1, 3, 10, 17, 64] + ([256, 512] if g.large else []))}
        if g.chance(0.2):
            a['bias'] = g.chance(0.3)
        if g.chance(0.15):
            f['state_in'] = True
    elif op == 'flatten':
        a, r = {}, len(x)
        if g.chance(0.6):
            s = g.rng.randrange(0, r) if g.chance(0.2) else min(1, r - 1)
            e = g.rng.randrange(s, r)
            a['start'] = s - r if g.chance(0.3) else s
            if g.chance(0.7):
                a['end'] = e - r if g.chance(0.5) else e
        f['kpos'] = g.chance(0.5)
    elif op == 'batchnorm2d':
        a = {}
        if g.chance(0.3):
            a['eps'] = g.pick([1e-3, 0.01, 1e-5, 0.1])
        if g.chance(0.2):
            a['momentum'] = g.pick([0.01, 0.3])
        if g.chance(0.3):
            a['affine'] = g.chance(0.3)
        if g.chance(0.2):
            f['state_in'] = True
    elif op == 'groupnorm':
        if len(x) < 2:
            raise Invalid('groupnorm needs channels')
        a = {'groups': g.pick([d for d in range(1, x[1] + 1) if x[1] % d == 0])}
        if g.chance(0.3):
            a['eps'] = g.pick([1e-3, 1e-6, 0.1])
        if g.chance(0.3):
            a['affine'] = g.chance(0.4)
        if g.chance(0.15):
            f['state_in'] = True
    elif op == 'softplus':
        a = {}
        if g.chance(0.5):
            a['beta'] = g.pick([0.5, 2, 1, 3.5, -1])
        if g.chance(0.4):
            a['thr'] = g.pick([1, 5, 20, 0.5])
    elif op == 'layernorm':
        a = {}
        if g.chance(0.6):
            a['nd'] = g.rng.randint(1, len(x))
            f['ns_int'] = g.chance(0.5)
        if g.chance(0.3):
            a['eps'] = g.pick([1e-3, 1e-6, 0.1])
        if g.chance(0.3):
            a['affine'] = g.chance(0.4)
    elif op in ('relu', 'relu6', 'silu', 'hardswish', 'hardsigmoid', 'mish'):
        a = {'inplace': g.chance(0.5)} if g.chance(0.2) else {}
    elif op == 'elu':
        a = {'alpha': g.pick([1.0, 0.5, 2, 0.1, 0, -0.7])} if g.chance(0.7) else {}
        if g.chance(0.2):
            a['inplace'] = g.chance(0.5)
    elif op == 'leaky_relu':
        a = {'slope': g.pick([0.2, 0.01, 0.5, 1.5, -0.3, 0, 2])} if g.chance(0.7) else {}
        if g.chance(0.2):
            a['inplace'] = g.chance(0.5)
    elif op in ('sigmoid', 'tanh'):
        a = {}
    elif op == 'gelu':
        a = {'approx': g.pick(['tanh', 'tanh', 'none'])} if g.chance(0.6) else {}
    elif op in ('softmax', 'log_softmax'):
        r = len(x)
        a = {} if r >= 2 and g.chance(0.2) else {'dim': g.rng.randrange(-r, r)}
    elif op in TENSOR_OPS:
        a = gen_tensor_op(g, op, x)
        if op == 'slice' and g.chance(0.6):
            f = {'subscript': True, 'ellipsis': g.chance(0.5)}
    elif op == 'identity':
        a = {}
    elif op == 'stochastic_depth':
        a = {'prob': g.pick([0.1, 0.0, 0.5, 1.0, 0.2]), 'mode': g.pick(['row', 'batch'])}
    elif op == 'dropout':
        a = {'prob': g.pick([0.1, 0.5, 0, 1, 0.0, 1.0, 0.25])} if g.chance(0.7) else {}
        if g.chance(0.2):
            a['inplace'] = g.chance(0.5)
    elif op == 'normalize':
        a = {'mean': [g.pick([0.485, 0.5, -1.0, 0, 2]) for _ in range(x[1])],
             'std': [g.pick([0.229, 0.5, 1, 2.0, 1.5]) for _ in range(x[1])]}
    elif op == 'pad':
        a = {k: g.pick([0, 1, 2, 3]) for k in ('left', 'right', 'top', 'bottom') if g.chance(0.6)}
        if g.chance(0.5):
            a['value'] = g.pick([0.0, -1.0, 1.5, 2, 0.25])
    else:
        raise ValueError(op)
    label, lf = g.label(op, a) if op in MODULE_OPS or op in FUNCTION_OPS else (None, {})
    f.update(lf)
    idx = g.add_layer(op, [src], a, f, label)
    if label is not None:
        g.labels.setdefault(str(label), len(g.spec['layers']) - 1)
    return idx


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


def some_dim(g, r):
    """A dim of a rank-r tensor, sometimes written negative."""
    d = g.rng.randrange(r)
    return d - r if g.chance(0.3) else d


def gen_tensor_op(g, op, x):
    """Arguments for a shape op or a reduction on a tensor of shape x."""
    r = len(x)
    if op in ('reshape', 'view'):
        dims = list(x)
        for _ in range(g.pick([1, 1, 2, 3])):
            k = g.rng.random()
            if k < 0.35 and len(dims) > 1:            # merge two neighbours
                i = g.rng.randrange(len(dims) - 1)
                dims[i:i + 2] = [dims[i] * dims[i + 1]]
            elif k < 0.7 and len(dims) < 6:           # split one dim
                i = g.rng.randrange(len(dims))
                f = g.pick(divisors(dims[i]))
                dims[i:i + 1] = [f, dims[i] // f]
            elif k < 0.85 and len(dims) < 6:          # a new 1
                dims.insert(g.rng.randrange(len(dims) + 1), 1)
            elif 1 in dims and len(dims) > 1:         # drop a 1
                dims.remove(1)
        if g.chance(0.5):
            dims[g.rng.randrange(len(dims))] = -1
        return {'shape': dims}
    if op == 'squeeze':
        return {'dim': some_dim(g, r)} if g.chance(0.6) else {}
    if op == 'unsqueeze':
        d = g.rng.randrange(r + 1)
        return {'dim': d - r - 1 if g.chance(0.3) else d}
    if op == 'permute':
        dims = list(range(r))
        g.rng.shuffle(dims)
        return {'dims': [d - r if g.chance(0.2) else d for d in dims]}
    if op == 'transpose':
        return {'d0': some_dim(g, r), 'd1': some_dim(g, r)}
    if op == 'roll':
        if g.chance(0.2):
            return {'shifts': g.rng.randint(-9, 9)}              # the flattened tensor
        n = g.rng.randint(1, r)
        dims = g.rng.sample(range(r), n)
        shifts = [g.rng.randint(-2 * x[d], 2 * x[d]) for d in dims]
        dims = [d - r if g.chance(0.3) else d for d in dims]
        if n == 1 and g.chance(0.5):
            return {'shifts': shifts[0], 'dims': dims[0]}
        return {'shifts': shifts, 'dims': dims}
    if op == 'expand':
        ones = [i for i in range(r) if x[i] == 1]
        if not ones and r >= 6:
            raise Invalid('expand: nothing to expand')
        size = [-1 if g.chance(0.5) else v for v in x]
        for i in ones:
            if g.chance(0.7):
                size[i] = g.pick([2, 3, 5])
        lead = g.pick([0, 0, 1]) if r < 6 else 0
        return {'size': [g.pick([1, 2, 3])] * lead + size}
    if op == 'slice':
        # Every step-th position (step >= 2, else it is a narrow), over at least two.
        d = max(range(r), key=lambda i: x[i]) if g.chance(0.5) else g.rng.randrange(r)
        if x[d] < 3:
            raise Invalid('slice: a dim too small')
        a = {'dim': d - r if g.chance(0.3) else d, 'step': g.pick([2, 2, 3, 4])}
        if g.chance(0.6):
            a['start'] = g.rng.randrange(-x[d], x[d] - 2) if g.chance(0.2) else g.rng.randrange(x[d] - 2)
        if g.chance(0.4):
            a['end'] = g.pick([x[d], x[d] + 5, -1, x[d] - 1])
        return a
    if op == 'narrow':
        d = g.rng.randrange(r)
        if x[d] == 1 and g.chance(0.7):
            d = max(range(r), key=lambda i: x[i])
        st = g.rng.randrange(x[d])
        a = {'dim': d - r if g.chance(0.3) else d, 'start': st - x[d] if g.chance(0.2) else st,
             'len': g.rng.randint(1, x[d] - st)}
        return a
    # mean, sum, amax
    n = g.rng.randint(1, r)
    dims = sorted(g.rng.sample(range(r), n))
    dims = [d - r if g.chance(0.2) else d for d in dims]
    g.rng.shuffle(dims)
    a = {'dim': dims[0] if n == 1 and g.chance(0.5) else dims}
    if g.chance(0.6):
        a['keep'] = g.chance(0.6)
    return a


RANK3_OPS = ['conv1d', 'maxpool1d', 'avgpool1d', 'adaptive_avgpool1d']
RANK4_OPS = ['conv2d', 'conv_transpose2d', 'maxpool2d', 'avgpool2d', 'adaptive_avgpool2d',
             'global_avgpool2d', 'batchnorm2d', 'pad', 'normalize', 'upsample', 'interpolate']
ANY_OPS = ['linear', 'flatten', 'layernorm', 'relu', 'relu6', 'leaky_relu', 'sigmoid', 'tanh',
           'gelu', 'silu', 'hardswish', 'hardsigmoid', 'mish', 'elu', 'softmax', 'log_softmax', 'dropout', 'identity',
           'stochastic_depth', 'softplus', 'groupnorm'] + list(TENSOR_OPS)
OP_WEIGHT = {'conv2d': 6, 'conv_transpose2d': 2, 'maxpool2d': 2, 'avgpool2d': 2,
             'adaptive_avgpool2d': 1, 'global_avgpool2d': 0.5, 'batchnorm2d': 2, 'pad': 1,
             'normalize': 0.7, 'linear': 2.5, 'flatten': 1.5, 'layernorm': 1.5, 'relu': 1.5,
             'relu6': 0.7, 'leaky_relu': 0.8, 'sigmoid': 0.7, 'tanh': 0.7, 'gelu': 0.8,
             'silu': 0.6, 'hardswish': 0.6, 'hardsigmoid': 0.5, 'mish': 0.5, 'elu': 0.5,
             'softmax': 1, 'log_softmax': 0.5, 'dropout': 0.5, 'identity': 0.3, 'stochastic_depth': 0.4,
             'reshape': 0.7, 'view': 0.4, 'squeeze': 0.4, 'unsqueeze': 0.4, 'permute': 0.7, 'transpose': 0.6,
             'narrow': 0.8, 'slice': 0.6, 'roll': 0.5, 'expand': 0.4, 'mean': 0.6, 'sum': 0.4, 'amax': 0.4, 'upsample': 0.7, 'interpolate': 0.6,
             'softplus': 0.5, 'groupnorm': 0.8, 'conv1d': 1.5, 'maxpool1d': 0.6, 'avgpool1d': 0.5, 'adaptive_avgpool1d': 0.4, 'batchnorm1d': 0.8,
             'matmul': 1.2, 'join': 3, 'concat': 2, 'fanout': 2, 'declared': 5, 'arange': 0.6}


# Every op the generator draws: the registry (compiler/ops.def) must not have
# one it lacks (difftest.py checks before every run).
GENERATED_OPS = set(RANK4_OPS) | set(RANK3_OPS) | set(ANY_OPS) | {'add', 'sub', 'mul', 'div', 'concat', 'batchnorm1d',
                                                                 'matmul', 'index_select', 'arange'} | set(DECL_OPS)


def gen_decls(g):
    """Declared tensors, first in the net (PyTorch's state_dict lists a module's own
    parameters, then its buffers, before its children): params and float buffers shaped
    to broadcast against the first input ([C, 1, 1], [W], [F]) or a matrix for matmul,
    and i64 index buffers with a bound on their values ('limit'), which index_select only
    uses along dims at least that large."""
    x = g.shapes[0]
    made = []
    for kind in ('param', 'buffer'):
        for _ in range(g.pick([0, 0, 1, 1, 2])):
            r = g.rng.random()
            if kind == 'buffer' and r < 0.5:
                a = {'shape': [g.pick([1, 2, 3, 5, 8])], 'i64': True, 'limit': g.pick([1, 2, 3, 4])}
            elif r < 0.75 or len(x) < 2:
                if len(x) >= 3 and g.chance(0.6):
                    shape = [x[1]] + [1] * (len(x) - 2)
                else:
                    shape = [x[-1]]
                if g.chance(0.2):
                    shape = [1] + shape
                a = {'shape': shape}
            else:
                a = {'shape': [x[-1], g.pick([1, 2, 5, 8])], 'matrix': True}
            f = {'elem': 'f32'} if not a.get('i64') and g.chance(0.2) else {}
            made.append(g.add_layer(kind, [], a, f))
            if a.get('i64'):
                g.index_nodes.add(made[-1])
    return made


def gen_arange(g):
    """A constant from numbers: arange over a node's last dim, joined with the node
    (broadcast along the trailing dim), as Swin builds its mask from index ranges."""
    i = g.pick_src()
    n = g.shapes[i][-1]
    r = g.rng.random()
    if r < 0.4:
        a = {'end': n}
    else:
        step = g.pick([1, 2, 3, -1, -2])
        start = g.rng.randint(-5, 5)
        a = {'start': start, 'end': start + n * step}
        if step != 1 or g.chance(0.5):
            a['step'] = step
    t = g.add_layer('arange', [], a, {})
    op = g.pick(['add', 'mul', 'sub'])
    return g.add_layer(op, [i, t] if g.chance(0.7) else [t, i], {}, {'call': 'op'})


def gen_declared_use(g):
    """A use of a declared tensor: in arithmetic with a node it broadcasts against, as a
    matmul operand (sometimes transposed: the GEMM then reads it in place), or as
    index_select's index."""
    k = len(g.spec['inputs'])
    decls = [k + i for i, l in enumerate(g.spec['layers']) if l['op'] in DECL_OPS]
    if not decls:
        raise Invalid('nothing declared')
    d = g.pick(decls)
    a = g.spec['layers'][d - k]['a']
    nodes = [i for i in range(len(g.shapes)) if i not in decls]
    if a.get('i64'):
        cands = [(i, j) for i in nodes for j, v in enumerate(g.shapes[i]) if v >= a['limit']]
        if not cands:
            raise Invalid('no dim large enough')
        i, j = g.pick(cands[-8:])
        dim = j - len(g.shapes[i]) if g.chance(0.3) else j
        return g.add_layer('index_select', [i, d], {'dim': dim, 'limit': a['limit']}, g.form())
    p = g.shapes[d]
    if a.get('matrix'):
        kk, m = p
        left = [i for i in nodes if len(g.shapes[i]) >= 2 and g.shapes[i][-1] == kk]
        right = [i for i in nodes if len(g.shapes[i]) >= 2 and g.shapes[i][-1] == m]
        if right and (not left or g.chance(0.5)):
            t = g.add_layer('transpose', [d], {'d0': 0, 'd1': 1}, g.form())
            return g.add_layer('matmul', [g.pick(right[-4:]), t], {}, {})
        if not left:
            raise Invalid('no operand for the matrix')
        return g.add_layer('matmul', [g.pick(left[-4:]), d], {}, {})
    cands = []
    for i in nodes:
        try:
            if broadcast_shape(g.shapes[i], p) == g.shapes[i]:
                cands.append(i)
        except Invalid:
            pass
    if not cands:
        raise Invalid('nothing broadcasts against it')
    i = g.pick(cands[-6:])
    op = g.pick(['add', 'mul', 'mul', 'sub'])
    return g.add_layer(op, [i, d] if g.chance(0.7) else [d, i], {}, {'call': 'op'})


def registry_ops():
    """The op names of compiler/ops.def (the net input excluded)."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        'compiler', 'ops.def')
    with open(path, encoding='utf-8') as f:
        names = re.findall(r'^OP\(\w+, "(\w+)"', f.read(), re.M)
    return set(names) - {'input'}


def gen_join(g):
    """add/sub/mul: two tensors of one shape (a pair in the graph, or a branch made for
    the purpose), or a tensor and a number on either side."""
    op = g.pick(['add', 'add', 'sub', 'mul', 'div'])
    f = {'call': g.pick(['op', 'op', 'call', 'pipe'])}
    label, lf = g.label(op) if f['call'] != 'op' else (None, {})
    f.update(lf)
    if op == 'div':
        return gen_div(g, f, label)
    if g.chance(0.3):
        src = g.pick_src()
        a = {'scalar': g.pick([2, 0.5, -1, 3, -0.25, 1.5, 0]), 'side': g.pick(['l', 'r'])}
        if op == 'mul' and a['scalar'] == -1 and a['side'] == 'r' and g.chance(0.5):
            f = {'call': 'neg'}
            label = None
        return g.add_layer(op, [src], a, f, label)
    if g.chance(0.25):
        i, j = broadcast_pair(g)
        if g.chance(0.5):
            i, j = j, i
        return g.add_layer(op, [i, j], {}, f, label)
    pairs = [(i, j) for i in range(len(g.shapes)) for j in range(i + 1, len(g.shapes))
             if g.shapes[i] == g.shapes[j] and not {i, j} & g.index_nodes]
    if pairs and g.chance(0.7):
        i, j = g.pick(pairs[-6:])
        if g.chance(0.5):
            i, j = j, i
    else:
        i = g.pick_src()
        j = branch(g, i)
        if g.chance(0.05):
            j = i                                  # x + x
    return g.add_layer(op, [i, j], {}, f, label)


def safe_divisor(g, i):
    """sigmoid(i) + 0.5: a divisor in [0.5, 1.5], so a quotient is as well conditioned as
    its numerator (netc and PyTorch divide alike; a near-zero divisor would only test the
    rounding of everything after it)."""
    j = gen_layer(g, 'sigmoid', i)
    return g.add_layer('add', [j], {'scalar': 0.5, 'side': 'r'}, {'call': 'op'})


def gen_div(g, f, label):
    """div: a tensor over a number (never 0), a number over a safe tensor, or a tensor
    over a safe tensor of its shape or one that broadcasts against it."""
    r = g.rng.random()
    if r < 0.3:
        src = g.pick_src()
        return g.add_layer('div', [src], {'scalar': g.pick([2, 0.5, -4, 3, 1.5]), 'side': 'r'}, f, label)
    if r < 0.45:
        return g.add_layer('div', [safe_divisor(g, g.pick_src())], {'scalar': g.pick([1, -2, 0.25]), 'side': 'l'},
                           f, label)
    if r < 0.7:
        i, j = broadcast_pair(g)
        if g.chance(0.5):
            i, j = j, i
        return g.add_layer('div', [i, safe_divisor(g, j)], {}, f, label)
    i = g.pick_src()
    return g.add_layer('div', [i, safe_divisor(g, branch(g, i))], {}, f, label)


def broadcast_pair(g):
    """(i, j): node i and a node j made from it whose shape broadcasts against it: a
    squeeze-excitation scale [N, C, 1, 1] (global pooling, sometimes through 1x1 convs
    and an activation), a row or column profile (adaptive pooling to (1, W) or (H, 1)),
    or for a rank-2 [N, F], one number per row (linear(1))."""
    i = g.pick_src()
    x = g.shapes[i]
    if len(x) == 4:
        kind = g.pick(['se', 'se', 'row', 'col'])
        if kind == 'se':
            j = g.add_layer('global_avgpool2d', [i], {}, g.form())
            if g.chance(0.5):
                mid = max(1, x[1] // 4)
                j = g.add_layer('conv2d', [j], {'co': mid, 'k': 1}, g.form())
                j = gen_layer(g, g.pick(['relu', 'silu']), j)
                j = g.add_layer('conv2d', [j], {'co': x[1], 'k': 1}, g.form())
                j = gen_layer(g, g.pick(['sigmoid', 'hardsigmoid']), j)
            return i, j
        size = [1, x[3]] if kind == 'row' else [x[2], 1]
        return i, g.add_layer('adaptive_avgpool2d', [i], {'size': size}, g.form())
    if len(x) == 2:
        return i, g.add_layer('linear', [i], {'co': 1}, g.form())
    return i, branch(g, i)


def branch(g, i):
    """A shape-preserving layer (or two) on node i, to join with i."""
    x = g.shapes[i]
    choices = ['relu', 'sigmoid', 'tanh', 'gelu', 'leaky_relu', 'silu', 'hardswish', 'mish', 'elu', 'dropout',
               'stochastic_depth', 'layernorm']
    if len(x) == 4:
        choices += ['conv_same', 'conv_same', 'batchnorm2d']
    op = g.pick(choices)
    if op == 'conv_same':
        k = g.pick([1, 3, 3, 5])
        a = {'co': x[1], 'k': k, 'p': 'same' if g.chance(0.5) else k // 2}
        if x[1] > 1 and g.chance(0.3):
            a['g'] = 'dw'
        return g.add_layer('conv2d', [i], a, g.form())
    return gen_layer(g, op, i)


def gen_matmul(g):
    """matmul of a tensor and its transpose (either order), sometimes with the batch of
    one operand cut to 1 (broadcast) or a vector made by a mean."""
    i = g.pick_src()
    x = g.shapes[i]
    if len(x) < 2:
        raise Invalid('matmul needs a matrix')
    t = g.add_layer('transpose', [i], {'d0': -1, 'd1': -2}, g.form())
    a, b = (i, t) if g.chance(0.5) else (t, i)
    r = g.rng.random()
    if r < 0.2 and len(x) >= 3 and g.shapes[b][0] > 1:
        b = g.add_layer('narrow', [b], {'dim': 0, 'start': 0, 'len': 1}, g.form())
    elif r < 0.35:
        # A vector: the mean of one operand over every dim but its last.
        if g.chance(0.5):
            a = g.add_layer('mean', [a], {'dim': list(range(len(x) - 1))}, g.form())   # [k] @ [..., k, m]
        else:
            b = g.add_layer('mean', [b], {'dim': list(range(len(x) - 1))}, g.form())   # [..., n, k] @ [k]
    elif r < 0.5:
        b = g.add_layer(g.pick(['relu', 'sigmoid', 'tanh']), [b], {}, g.form())
    label, lf = g.label('matmul')
    if label is None and g.chance(0.5):
        lf = {'call': 'op'}                    # a @ b
    return g.add_layer('matmul', [a, b], {}, lf, label)


def gen_concat(g):
    base = g.pick_src()
    x = g.shapes[base]
    r = len(x)
    dim = g.rng.randrange(-r, r) if g.chance(0.5) else min(1, r - 1)
    d = dim % r
    mates = [i for i, s in enumerate(g.shapes) if i != base and len(s) == r and i not in g.index_nodes and
             all(s[q] == x[q] for q in range(r) if q != d)]
    srcs = [base]
    for _ in range(g.pick([0, 1, 1, 1, 2, 3])):
        if mates and g.chance(0.6):
            srcs.append(g.pick(mates))
        elif g.chance(0.4):
            srcs.append(g.pick(srcs))
        else:
            srcs.append(branch(g, base))
    a = {} if d == 1 and dim == 1 and g.chance(0.5) else {'dim': dim}
    f = {'call': g.pick(['args', 'tuple', 'pipe'])}
    label, lf = g.label('concat')
    f.update(lf)
    return g.add_layer('concat', srcs, a, f, label)


def gen_fanout(g):
    """One node read by several layers: in-place candidates (activations), views
    (flatten, dropout) and fusable ones (batchnorm2d, an activation after a conv), so the
    memory plan and the fusions must keep the shared value intact."""
    src = g.pick_src()
    x = g.shapes[src]
    if len(x) == 4 and g.chance(0.5) and len(x) == 4:
        a = {'co': g.chans(), 'k': g.pick([1, 3]), 'p': 'same'}
        src = g.add_layer('conv2d', [src], a, g.form())
        x = g.shapes[src]
    ops = ['relu', 'relu', 'sigmoid', 'dropout', 'flatten', 'leaky_relu', 'tanh', 'gelu', 'relu6', 'silu',
           'hardsigmoid', 'elu', 'identity', 'stochastic_depth', 'narrow', 'narrow', 'reshape', 'unsqueeze',
           'transpose']
    if len(x) == 4:
        ops += ['batchnorm2d', 'batchnorm2d', 'maxpool2d', 'pad']
    made = []
    for _ in range(g.pick([2, 2, 3])):
        op = g.pick(ops)
        try:
            made.append(gen_layer(g, op, src))
        except Invalid:
            pass
    same = [m for m in made if g.shapes[m] == x]
    if same and g.chance(0.6):
        op = g.pick(['add', 'sub', 'mul'])
        g.add_layer(op, [src, g.pick(same)] if g.chance(0.5) else [g.pick(same), src],
                    {}, {'call': 'op'})


def gen_large_core(g):
    """The big layers of a large case: a 3x3 stride-1 conv (Winograd, GEMM, threads)
    and a large linear."""
    src = g.pick_src({4})
    if src is None:
        return
    a = {'co': g.pick([32, 48, 64]), 'k': 3, 'p': g.pick([1, 'same'])}
    idx = g.add_layer('conv2d', [src], a, g.form())
    if g.chance(0.5):
        idx = gen_layer(g, 'batchnorm2d', idx)
    if g.chance(0.5):
        idx = gen_layer(g, 'relu', idx)
    if g.chance(0.5):
        idx = g.add_layer('conv2d', [idx], {'co': g.pick([32, 64]), 'k': 3, 'p': 1}, g.form())
    if g.chance(0.4):
        flat = g.add_layer('flatten', [idx], {}, g.form())
        g.add_layer('linear', [flat], {'co': g.pick([10, 100, 256])}, g.form())


def consumers(g):
    used = set()
    for layer in g.spec['layers']:
        used.update(layer['src'])
    return used


def finish(g):
    """Every input read; the sinks returned (sometimes an input or a node twice too)."""
    k = len(g.spec['inputs'])
    for i in range(k):
        if i not in consumers(g):
            gen_layer(g, g.pick(['relu', 'sigmoid', 'tanh', 'dropout']), i)
    used = consumers(g)
    # Every sink is returned (a sink not returned would be dead code), in random order.
    outs = [i for i in range(k, len(g.shapes)) if i not in used and i not in g.index_nodes]
    g.rng.shuffle(outs)
    inner = [i for i in range(k, len(g.shapes)) if i in used and i not in g.index_nodes]
    if inner and g.chance(0.3):
        outs.insert(g.rng.randrange(len(outs) + 1), g.pick(inner))   # read later, and returned
    if g.chance(0.05):
        outs.append(g.pick(range(k)))          # an input returned as it is
    if g.chance(0.05):
        outs.append(outs[0])                   # the same tensor twice
    g.spec['outputs'] = outs


def generate(seed, index, avoid_known=False):
    """The case (seed, index): a spec dict. avoid_known drops the known netc bugs
    (dangerous input/net names, linear on 4D before batchnorm2d)."""
    rng = random.Random('netc-diff:%d:%d' % (seed, index))
    for attempt in range(50):
        g = Gen(rng, rng.random() < 0.12, avoid_known)
        nets = [n for n in NET_NAMES if not (avoid_known and n in KNOWN_BAD_NETS)]
        g.spec['net'] = g.pick(nets)
        g.make_inputs()
        if rng.random() < 0.01:
            # No layers at all: the net returns its inputs (language.md's `return x;`).
            g.spec['outputs'] = list(range(len(g.spec['inputs']))) * rng.choice([1, 2])
            if avoid_known and has_known_bug(g.spec):
                continue
            return g.spec
        if rng.random() < 0.25:
            try:
                gen_decls(g)
            except Invalid:
                continue
        if g.large:
            try:
                gen_large_core(g)
            except Invalid:
                continue
        target = len(g.spec['layers']) + rng.randint(1, 4 if g.large else 9)
        for _ in range(40):
            if len(g.spec['layers']) >= target:
                break
            try_step(g)
        finish(g)
        if avoid_known and has_known_bug(g.spec):
            continue
        try:
            infer_shapes(g.spec)
        except Invalid:
            continue
        return g.spec
    raise RuntimeError('could not generate case %d:%d' % (seed, index))


def try_step(g):
    ops = list(OP_WEIGHT)
    weights = [OP_WEIGHT[o] for o in ops]
    op = g.rng.choices(ops, weights)[0]
    n = len(g.spec['layers'])
    try:
        if op == 'join':
            gen_join(g)
        elif op == 'concat':
            gen_concat(g)
        elif op == 'matmul':
            gen_matmul(g)
        elif op == 'fanout':
            gen_fanout(g)
        elif op == 'declared':
            gen_declared_use(g)
        elif op == 'arange':
            gen_arange(g)
        else:
            src = g.pick_src({4} if op in RANK4_OPS else {3} if op in RANK3_OPS else {2, 3} if op == 'batchnorm1d'
                             else None)
            if src is None:
                return
            gen_layer(g, op, src)
    except Invalid:
        # Roll back layers added by a partly built step (a branch made for a join).
        del g.spec['layers'][n:]
        del g.shapes[len(g.spec['inputs']) + n:]
        for lab, i in list(g.labels.items()):
            if i >= n:
                del g.labels[lab]


def has_known_bug(spec):
    """The netc bugs already reported (being fixed on main): dangerous input and net names,
    linear on 4D then batchnorm2d, a net without layers (see /work/notes)."""
    if not spec['layers']:
        return True
    if spec['net'] in KNOWN_BAD_NETS or any(i['name'] in KNOWN_BAD_INPUTS for i in spec['inputs']):
        return True
    shapes = infer_shapes(spec)
    k = len(spec['inputs'])
    for layer in spec['layers']:
        if layer['op'] == 'batchnorm2d':
            src = layer['src'][0]
            if src >= k and spec['layers'][src - k]['op'] == 'linear' and len(shapes[src]) == 4:
                return True
    return False


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split('\n\n')[-1])
    seed, index = int(sys.argv[1]), int(sys.argv[2])
    spec = generate(seed, index)
    sys.stdout.write(render_net(spec, '# case %d:%d' % (seed, index)))
    sys.stderr.write(json.dumps(spec) + '\n')


if __name__ == '__main__':
    main()
