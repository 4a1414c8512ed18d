#!/usr/bin/python3
"""PyTorch parity test for the models in models/*.net.

For every model, runs `netc --report=json models/<name>.net`, builds the same network in
PyTorch (tests/parity/torch_models.py), runs it on a zero input of the same shape and checks:

  (a) weights: netc's weight names, shapes, order and kind (param / buffer, f32 / i64) equal
      the PyTorch state_dict;
  (b) layers: every netc layer whose name is a PyTorch module name has that module's output
      shape (and torch class, when the report gives one); a module called several times (e.g.
      ResNet's shared relu) is compared call by call, in call order. Conversely every leaf
      module PyTorch calls must appear as a netc layer;
  (c) totals.params == sum(p.numel()) (and totals.buffers == BN running stats, if reported);
  (d) totals.macs == MACs counted here with forward hooks on Conv2d / ConvTranspose2d / Linear;
  (e) the network input and output shapes;
  (f) for the seed models, `netc --report=torch` equals tests/golden/torch/<name>.txt;
  (g) totals.flops == FLOPs counted here from the functional calls PyTorch makes (a
      TorchFunctionMode), with the cost conventions of the netc spec: this also sees work
      that has no module, such as residual adds and F.relu;
  (h) the joins (add/sub/mul and concat, which have no module) agree in order and in their
      input shapes, so a dropped residual or reordered concat branches show up.

Models: every entry of torch_models.MODELS, plus torch_models.VARIANTS (a model file compiled
with -D overrides, e.g. the U-Net at an odd size).

Usage: /usr/bin/python3 tests/parity/check_shapes.py [--netc PATH] [-v] [MODEL ...]
netc defaults to $NETC, else build/netc (relative to the repository root).
Prints `[PASS] name` / `[FAIL] name: reason` per model, then `N passed, N failed`;
exits 1 if anything failed.
"""

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # keep tests/parity free of __pycache__

import torch                      # noqa: E402
from torch import nn              # noqa: E402
import torch_models               # noqa: E402
from torch.overrides import TorchFunctionMode   # noqa: E402

MAX_REASONS = 6                   # per check, so a broken model gives a readable line


def run_netc(netc, args):
    p = subprocess.run([netc] + args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def shape_of(t):
    return list(t.shape)


def out_shapes(out):
    """Output shape of a module call: a list, or a list of lists for tuple outputs."""
    if isinstance(out, torch.Tensor):
        return shape_of(out)
    if isinstance(out, (tuple, list)):
        return [out_shapes(o) for o in out]
    return None


def _size2(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _arg(args, kwargs, i, name, default=None):
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


def _adaptive_window_sum(n_in, n_out):
    """Sum of PyTorch's adaptive pooling window sizes along one axis."""
    return sum(-(-((i + 1) * n_in) // n_out) - (i * n_in) // n_out for i in range(n_out))


ELEMENTWISE_1 = {'relu', 'relu_', 'hardtanh', 'hardtanh_', 'relu6', 'leaky_relu', 'leaky_relu_',
                 'sigmoid', 'tanh', 'gelu', 'silu', 'silu_', 'hardswish', 'hardswish_', 'hardsigmoid',
                 'hardsigmoid_', 'mish', 'mish_', 'elu', 'elu_'}
JOINS = {'add': 'add', 'add_': 'add', '__add__': 'add', '__iadd__': 'add', '__radd__': 'add',
         'sub': 'sub', 'sub_': 'sub', '__sub__': 'sub', '__isub__': 'sub',
         'mul': 'mul', 'mul_': 'mul', '__mul__': 'mul', '__imul__': 'mul', '__rmul__': 'mul'}


# Tensor methods that make a new tensor from a shape alone (x.new_zeros(...)).
CONSTRUCTORS = ('new_zeros', 'new_ones', 'new_empty', 'new_full', 'zeros_like', 'ones_like', 'empty_like')


class FlopCounter(TorchFunctionMode):
    """Counts FLOPs with the netc conventions from the functional calls a forward makes,
    and records the joins (tensor-tensor add/sub/mul, cat) with their input shapes."""

    def __init__(self):
        super().__init__()
        self.flops = 0
        self.joins = []          # (op, [input shapes]) in call order
        self.unknown = set()     # functions that might do arithmetic we do not count
        # Tensors computed from the model's input. Work on the others (Swin's
        # attention mask from index ranges, a parameter's reshaping) is the
        # work netc's report shows as 'const' layers, which are left out of
        # the comparison on both sides.
        self.live = {}
        self.live_storage = set()

    @staticmethod
    def _storage(t):
        with torch._C.DisableTorchFunction():
            return t.storage().data_ptr()

    # By storage, not only by tensor: an integer index (Swin's qkv[0]) makes a
    # view without a call this mode sees.
    def mark(self, obj):
        if isinstance(obj, torch.Tensor):
            self.live[id(obj)] = obj     # keep it, so that its id is not reused
            self.live_storage.add(self._storage(obj))
        elif isinstance(obj, (list, tuple)):
            for o in obj:
                self.mark(o)

    def is_live(self, obj):
        if isinstance(obj, torch.Tensor):
            return id(obj) in self.live or self._storage(obj) in self.live_storage
        if isinstance(obj, (list, tuple)):
            return any(self.is_live(o) for o in obj)
        return False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, '__name__', '')
        if name in CONSTRUCTORS or not (self.is_live(list(args)) or self.is_live(list(kwargs.values()))):
            return out   # a new tensor's values do not depend on the one it was made from
        self.mark(out)
        try:
            with torch._C.DisableTorchFunction():    # our own tensor calls are not the model's
                self.count(name, args, kwargs, out)
        except Exception as e:    # never break the forward pass; report instead
            self.unknown.add('%s (%s)' % (name, e))
        return out

    def count(self, name, args, kwargs, out):
        n = out.numel() if isinstance(out, torch.Tensor) else 0
        x = args[0] if args else None
        if name in ('matmul', '__matmul__'):
            self.flops += 2 * n * args[0].shape[-1]       # a dot product of length k per output
        elif name in ('conv2d', 'conv1d', 'linear'):
            w, b = args[1], _arg(args, kwargs, 2, 'bias')
            k = w[0].numel()                           # (Cin/groups)*kh*kw, or in_features
            self.flops += 2 * n * k + (n if b is not None else 0)
        elif name == 'conv_transpose2d':
            w, b = args[1], _arg(args, kwargs, 2, 'bias')
            # weight [Cin, Cout/groups, kh, kw]: each input element feeds Cout/groups*kh*kw
            self.flops += 2 * x.numel() * w[0].numel() + (n if b is not None else 0)
        elif name == 'batch_norm':
            self.flops += 2 * n
        elif name == 'layer_norm':
            w = _arg(args, kwargs, 2, 'weight')
            self.flops += (7 if w is not None else 5) * n
        elif name in ELEMENTWISE_1:
            self.flops += n
        elif name == 'group_norm':
            w = _arg(args, kwargs, 2, 'weight')
            self.flops += (7 if w is not None else 5) * n
        elif name == 'softplus':
            self.flops += 3 * n
        elif name in ('softmax', 'log_softmax'):
            self.flops += 3 * n
        elif name == 'interpolate':
            mode = _arg(args, kwargs, 3, 'mode') or 'nearest'
            self.flops += 7 * n if mode == 'bilinear' else 0   # four weights times four neighbours, summed
        elif name == 'mean':
            self.flops += x.numel()                    # k-1 adds and a divide per window of k
        elif name in ('sum', 'amax'):
            self.flops += x.numel() - n
        elif name in ('max_pool2d', 'max_pool2d_with_indices'):
            kh, kw = _size2(_arg(args, kwargs, 1, 'kernel_size'))
            self.flops += (kh * kw - 1) * n
        elif name == 'avg_pool2d':
            kh, kw = _size2(_arg(args, kwargs, 1, 'kernel_size'))
            self.flops += kh * kw * n
        elif name in ('max_pool1d', 'max_pool1d_with_indices'):
            k = _arg(args, kwargs, 1, 'kernel_size')
            self.flops += ((k if isinstance(k, int) else k[0]) - 1) * n
        elif name == 'avg_pool1d':
            k = _arg(args, kwargs, 1, 'kernel_size')
            self.flops += (k if isinstance(k, int) else k[0]) * n
        elif name == 'adaptive_avg_pool1d':
            self.flops += x.numel()
        elif name == 'adaptive_avg_pool2d':
            oh, ow = out.shape[-2:]
            ih, iw = x.shape[-2:]
            self.flops += (x.numel() // (ih * iw)) * _adaptive_window_sum(ih, oh) * \
                _adaptive_window_sum(iw, ow)
        elif name in JOINS:
            self.flops += n           # one op per element, with a number too (Swin's q * scale)
            if len(args) >= 2 and all(isinstance(a, torch.Tensor) for a in args[:2]):
                self.joins.append((JOINS[name], [shape_of(args[0]), shape_of(args[1])]))
        elif name in ('cat', 'concat'):
            self.joins.append(('concat', [shape_of(t) for t in args[0]]))
        elif name == 'multi_head_attention_forward':
            # nn.MultiheadAttention runs as this one function (on [L, N, E]); netc writes it
            # as the block of lib/transformer.net: the in-projection x @ W^T and its bias
            # add (netc's one join inside), q / sqrt(hd), q k^T, softmax, a v, out_proj.
            L, N, E = x.shape
            h = args[4]
            self.flops += (2 * N * L * 3 * E * E + N * L * 3 * E + N * L * E + 4 * N * L * L * E
                           + 3 * N * h * L * L + 2 * N * L * E * E + N * L * E)
            self.joins.append(('add', [[N, L, 3 * E], [3 * E]]))
        elif name in ('flatten', 'dropout', 'pad', 'dim', 'zeros', 'size', '__get__',
                      'reshape', 'view', 'numel', 'chunk', 'split', 'narrow', 'transpose', 'permute',
                      'contiguous', 'squeeze', 'unsqueeze', '__getitem__', '_assert', 'expand', 'roll'):
            pass   # no arithmetic (numel: the MAC hooks)
            pass
        else:
            self.unknown.add(name)


def torch_profile(model, input_shape):
    """Run the model on zeros; record per-module output shapes (call order) and MACs."""
    model.eval()
    calls = defaultdict(list)          # module name -> [output shape per call]
    call_order = []                    # leaf module names in call order (first calls)
    macs = [0]
    hooks = []

    def hook(name):
        def fn(mod, inp, out):
            calls[name].append(out_shapes(out))
            if not list(mod.children()) and name not in call_order:
                call_order.append(name)
            if isinstance(mod, nn.Conv2d):
                kh, kw = mod.kernel_size
                macs[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw
            elif isinstance(mod, nn.Conv1d):
                macs[0] += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0]
            elif isinstance(mod, nn.ConvTranspose2d):
                kh, kw = mod.kernel_size
                macs[0] += inp[0].numel() * (mod.out_channels // mod.groups) * kh * kw
            elif isinstance(mod, nn.Linear):
                macs[0] += out.numel() // mod.out_features * mod.in_features * mod.out_features
            elif type(mod).__name__ == 'ShiftedWindowAttention':
                # torchvision's Swin calls its qkv and proj Linears through F.linear:
                # count them and both attention matmuls here, per window token.
                C = out.shape[-1]
                T = out.numel() // C
                n = mod.window_size[0] * mod.window_size[1]
                macs[0] += T * 3 * C * C + T * C * C + 2 * T * n * C
            elif isinstance(mod, nn.MultiheadAttention):
                # Its out_proj is not called as a module: the projections and both
                # attention matmuls are counted here (language.md 12.1).
                o = out[0] if mod.batch_first else out[0].transpose(0, 1)   # called with keywords: inp is ()
                N, L, E = o.shape
                macs[0] += N * L * 3 * E * E + 2 * N * L * L * E + N * L * E * E
        return fn

    for name, mod in model.named_modules():
        if name:
            hooks.append(mod.register_forward_hook(hook(name)))
    counter = FlopCounter()
    x = torch.zeros(*input_shape)
    counter.mark(x)
    with torch.no_grad(), counter:
        y = model(x)
    for h in hooks:
        h.remove()
    return y, calls, call_order, macs[0], counter


def torch_weights(model):
    params = {n for n, _ in model.named_parameters()}
    rows = []
    for name, t in model.state_dict().items():
        kind = 'param' if name in params else 'buffer'
        dtype = {torch.float32: 'f32', torch.int64: 'i64'}.get(t.dtype, str(t.dtype))
        rows.append((name, shape_of(t), kind, dtype))
    return rows


def limit(reasons):
    if len(reasons) > MAX_REASONS:
        return reasons[:MAX_REASONS] + ['... %d more' % (len(reasons) - MAX_REASONS)]
    return reasons


def sibling_runs(rows):
    """rows as runs of consecutive tensors with the same parent module, each run sorted:
    netc lists weights as the forward pass creates layers, PyTorch as __init__ registers
    modules, and the two differ where a module runs its children in another order than
    it registers them (Swin's PatchMerging registers reduction, then norm, and runs norm
    first). Equal runs: the same tensors, in the same order up to sibling modules."""
    def parent(name):
        module = name.rsplit('.', 1)[0] if '.' in name else ''
        return module.rsplit('.', 1)[0] if '.' in module else ''
    runs = []
    for r in rows:
        if runs and runs[-1][0] == parent(r[0]):
            runs[-1][1].append(r)
        else:
            runs.append((parent(r[0]), [r]))
    return [(p, sorted(rs, key=str)) for p, rs in runs]


def check_weights(rep, model):
    want = torch_weights(model)
    got = [(w.get('name'), w.get('shape'), w.get('kind'), w.get('dtype'))
           for w in rep.get('weights', [])]
    if got != want and sibling_runs(got) == sibling_runs(want):
        got = want   # the same tensors, sibling modules listed in another order
    reasons = []
    if len(got) != len(want):
        reasons.append('%d weight tensors, PyTorch has %d' % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g[0] != w[0]:
            reasons.append('weight #%d is %s, PyTorch %s' % (i, g[0], w[0]))
            break                       # names are misaligned from here on
        if list(g[1] or []) != w[1]:
            reasons.append('%s: shape %s, PyTorch %s' % (g[0], g[1], w[1]))
        if g[2] != w[2]:
            reasons.append('%s: kind %s, PyTorch %s' % (g[0], g[2], w[2]))
        if g[3] is not None and g[3] != w[3]:
            reasons.append('%s: dtype %s, PyTorch %s' % (g[0], g[3], w[3]))
    return limit(reasons)


def check_layers(rep, model, calls, call_order):
    modules = dict(model.named_modules())
    netc = defaultdict(list)                     # name -> [layer rows] in report order
    for layer in rep.get('layers', []):
        if layer.get('op') == 'input':
            continue
        netc[layer.get('name')].append(layer)
    reasons = []
    compared = 0
    # Modules netc writes differently: MultiheadAttention calls its out_proj's weights
    # through a function, never the module; torchvision's LayerNorm2d is netc's
    # permute -> layernorm -> permute, the layernorm (NHWC) taking the module's name.
    inside_mha = {n + '.' + c for n, m in modules.items()
                  if isinstance(m, nn.MultiheadAttention) or type(m).__name__ == 'ShiftedWindowAttention'
                  for c, _ in m.named_children()}
    for name, rows in netc.items():
        if not name or name not in modules or name in inside_mha:
            continue
        mod = modules[name]
        got = [r.get('shape') for r in rows]
        want = calls.get(name, [])
        if type(mod).__name__ == 'LayerNorm2d':
            want = [[w[0], w[2], w[3], w[1]] for w in want]
        if len(got) != len(want):
            reasons.append('layer %s: %d netc layers but the module ran %d times'
                           % (name, len(got), len(want)))
            continue
        for k, (g, w) in enumerate(zip(got, want)):
            if g != w:
                reasons.append('layer %s%s: shape %s, PyTorch %s'
                               % (name, ' (call %d)' % (k + 1) if len(got) > 1 else '', g, w))
        tname = rows[0].get('torch')
        cls = 'LayerNorm' if type(mod).__name__ == 'LayerNorm2d' else type(mod).__name__
        # torchvision.ops.Permute is a module around torch.permute, netc's function.
        if tname and tname != cls and (tname, cls) != ('permute', 'Permute') and not list(mod.children()):
            reasons.append('layer %s: torch class %s, PyTorch %s'
                           % (name, tname, type(mod).__name__))
        compared += 1
    # Blocks: compare too when the report gives a block name and output shape. A block
    # returning a tuple reports the shape of its first result only.
    for blk in rep.get('blocks', []) or []:
        name, shape = blk.get('name'), blk.get('shape')
        if name and shape is not None and name in modules and name not in netc:
            want = calls.get(name, [])
            if want:
                w = want[0]
                if w and isinstance(w[0], list) and not (shape and isinstance(shape[0], list)):
                    w = w[0]
                if shape != w:
                    reasons.append('block %s: shape %s, PyTorch %s' % (name, shape, w))
            compared += 1
    missing = [n for n in call_order if n not in netc]
    if missing:
        reasons.append('PyTorch modules with no netc layer of that name: %s%s'
                       % (', '.join(missing[:5]), ' ...' if len(missing) > 5 else ''))
    if compared == 0:
        reasons.append('no netc layer name matches a PyTorch module')
    return limit(reasons), compared


def check_totals(rep, model, macs):
    reasons = []
    tot = rep.get('totals', {})
    params = sum(p.numel() for p in model.parameters())
    if tot.get('params') != params:
        reasons.append('totals.params %s, PyTorch %d' % (tot.get('params'), params))
    buffers = sum(b.numel() for n, b in model.named_buffers()
                  if not n.endswith('num_batches_tracked'))
    if 'buffers' in tot and tot['buffers'] != buffers:
        reasons.append('totals.buffers %s, PyTorch %d' % (tot['buffers'], buffers))
    if tot.get('macs') != macs:
        reasons.append('totals.macs %s, hooks count %d' % (tot.get('macs'), macs))
    return reasons


def check_flops(rep, counter):
    reasons = []
    if counter.unknown:
        reasons.append('PyTorch called functions this test does not cost: %s'
                       % ', '.join(sorted(counter.unknown)))
    # Layers computed from numbers and declared tensors alone ('const') are the
    # work the counter leaves out on PyTorch's side.
    got = rep.get('totals', {}).get('flops', 0) - sum(l.get('flops', 0) for l in rep.get('layers', [])
                                                      if l.get('rf', {}).get('constant'))
    if got != counter.flops:
        reasons.append('totals.flops %s, counted %d' % (got, counter.flops))
    return reasons


def check_joins(rep, counter):
    by_id = {l.get('id'): l for l in rep.get('layers', [])}
    got = [(l.get('op'), [by_id[i].get('shape') for i in l.get('inputs', []) if i in by_id])
           for l in rep.get('layers', []) if l.get('op') in ('add', 'sub', 'mul', 'concat')
           and len(l.get('inputs', [])) >= 2 and not l.get('rf', {}).get('constant')]
    want = counter.joins
    if got == want:
        return []
    if len(got) != len(want):
        return ['%d joins (add/sub/mul/concat), PyTorch %d' % (len(got), len(want))]
    for k, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return ['join #%d is %s%s, PyTorch %s%s' % (k, g[0], g[1], w[0], w[1])]
    return []


def check_io(rep, input_shape, y):
    reasons = []
    ins = [i.get('shape') for i in rep.get('inputs', [])]
    if ins != [list(input_shape)]:
        reasons.append('inputs %s, expected %s' % (ins, [list(input_shape)]))
    outs = [o.get('shape') for o in rep.get('outputs', [])]
    want = out_shapes(y)
    want = [want] if isinstance(y, torch.Tensor) else want
    if outs != want:
        reasons.append('outputs %s, PyTorch %s' % (outs, want))
    return reasons


def check_torch_report(netc, name, path):
    golden = os.path.join(ROOT, 'tests', 'golden', 'torch', name + '.txt')
    rc, out, err = run_netc(netc, ['--report=torch', path])
    if rc != 0:
        return ['--report=torch exited %d: %s' % (rc, first_line(err))]
    want = open(golden, encoding='utf-8').read().splitlines()
    got = out.splitlines()
    while got and not got[-1].strip():
        got.pop()
    if got == want:
        return []
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return ['--report=torch line %d is %r, golden %r' % (i + 1, g, w)]
    return ['--report=torch has %d lines, golden %d' % (len(got), len(want))]


def first_line(text):
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[0] if lines else '(no message)'


def check_model(netc, name, verbose):
    if name in torch_models.VARIANTS:
        file, defines, build = torch_models.VARIANTS[name]
    else:
        file, defines, build = name, {}, torch_models.MODELS[name]
    path = os.path.join('models', file + '.net')
    dargs = []
    for k, v in defines.items():
        dargs += ['-D', '%s=%s' % (k, v)]
    rc, out, err = run_netc(netc, dargs + ['--report=json', path])
    if rc != 0:
        return ['netc exited %d: %s' % (rc, first_line(err))]
    try:
        rep = json.loads(out)
    except ValueError as e:
        return ['netc --report=json is not JSON: %s' % e]
    model, input_shape = build()
    y, calls, call_order, macs, counter = torch_profile(model, input_shape)
    reasons = []
    reasons += ['(a) ' + r for r in check_weights(rep, model)]
    layer_reasons, compared = check_layers(rep, model, calls, call_order)
    reasons += ['(b) ' + r for r in layer_reasons]
    reasons += ['(c/d) ' + r for r in check_totals(rep, model, macs)]
    reasons += ['(e) ' + r for r in check_io(rep, input_shape, y)]
    reasons += ['(g) ' + r for r in check_flops(rep, counter)]
    reasons += ['(h) ' + r for r in check_joins(rep, counter)]
    if name in torch_models.SEED_MODELS:
        reasons += ['(f) ' + r for r in check_torch_report(netc, name, path)]
    if verbose:
        print('  %s: %d weights, %d named layers compared, params %d, macs %d, flops %d, '
              '%d joins' % (name, len(rep.get('weights', [])), compared,
                            sum(p.numel() for p in model.parameters()), macs, counter.flops,
                            len(counter.joins)))
    return reasons


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--netc', default=os.environ.get('NETC', 'build/netc'),
                    help='netc binary (default $NETC or build/netc)')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('models', nargs='*', help='model names (default: all)')
    args = ap.parse_args()
    netc = args.netc
    if not os.path.isabs(netc):          # relative to the current directory, else to the repo
        netc = os.path.abspath(netc) if os.path.exists(netc) else os.path.join(ROOT, netc)
    if not os.path.exists(netc):
        print('netc not found: %s' % netc, file=sys.stderr)
        return 2
    known = list(torch_models.MODELS) + list(torch_models.VARIANTS)
    names = args.models or known
    unknown = [n for n in names if n not in known]
    if unknown:
        print('unknown model(s): %s' % ', '.join(unknown), file=sys.stderr)
        return 2
    torch.set_grad_enabled(False)
    passed = failed = 0
    for name in names:
        try:
            reasons = check_model(netc, name, args.verbose)
        except Exception as e:          # a crash in one model must not hide the others
            reasons = ['%s: %s' % (type(e).__name__, e)]
        if reasons:
            failed += 1
            print('[FAIL] %s: %s' % (name, '; '.join(reasons)))
        else:
            passed += 1
            print('[PASS] %s' % name)
        sys.stdout.flush()
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
