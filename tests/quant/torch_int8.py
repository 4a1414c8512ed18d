#!/usr/bin/python3
"""PyTorch's own int8 model of a netc model: the oracle of netc's int8 path (issue #14).

    torch_int8.py weights  MODEL OUT.safetensors [--seed S] [--netc build/netc]
    torch_int8.py calib    MODEL OUT.f32 -n N [--dist normal|uniform|fashion] [--seed S] [--offset K]
    torch_int8.py quantize MODEL --weights W --calib C.f32 --inputs T.f32 --out TORCH.f32 [--meta M.json]
    torch_int8.py compare  --netc NETC.f32 --torch TORCH.f32 --meta M.json [--steps 1] [--classifier]
    torch_int8.py ranges   MODEL --weights W --calib C.f32 [--out R.json] [--netc-ranges NETC_RANGES.json]

MODEL is a netc model name: one of tests/parity/torch_models.py's MODELS (models/MODEL.net), or
lenet_fashion (examples/fashion/lenet_fashion.net, train.py's LeNet). Files of samples (.f32) are
raw little-endian float32, N samples of the net's input back to back (the calibration file of
the float runner's --calibrate, and the runners' --input/--output files).

quantize builds PyTorch's int8 model from the float weights and the calibration file with FX
graph mode (prepare_fx, the calibration samples through the observed model, convert_fx), on the
onednn engine, with observers matching netc's scheme (docs: /work/notes/int8-spec.md):
activations MinMaxObserver quint8 per_tensor_affine reduce_range=False, weights
PerChannelMinMaxObserver qint8 per_channel_symmetric. It writes the converted model's outputs for
every sample of --inputs (float32, back to back) and, in --meta, for each output of the net the
scale and zero point of the quantized tensor that the final dequantize reads: netc's int8 output
is compared with PyTorch's in units of that scale ("within one quantization step").

Where FX (PyTorch 1.13, its default "native" backend config: there is no onednn one in 1.13) puts
observers, which is what netc's quantization pass reproduces:
  * conv + batch norm (+ relu) are fused before observing (BN folded into the conv: eval mode),
    so one observer sits after the conv, or after the relu when a relu follows; linear + relu the
    same (LinearReLU);
  * add + relu fuse (quantized::add_relu, one observer after the relu); an add alone is observed;
  * "share qparams" ops take their input's observer, no new range: max/avg pool (module and
    functional), adaptive avg pool, torch.flatten, reshape/view/permute/transpose/squeeze/
    unsqueeze, ReLU (not fused), ReLU6 / hardtanh, Identity, mean, clamp;
  * differences from the spec's list seen in 1.13: nn.Flatten (the module, LeNet's) is NOT a share
    op: FX dequantizes, flattens in float and quantizes again with an observer of its own. Its
    range is the flatten's own min/max, which equals the input's when the input is a max pool of a
    relu (LeNet), so the qparams come out the same; on other inputs they could differ. nn.Dropout
    (eval) runs on the quantized tensor unchanged.
  * the net's input is observed (quantize_per_tensor with its own range) and the output is
    dequantized at the end: PyTorch's int8 model, like netc's, is float in / float out.

compare exits 1 when some element of netc's output differs from PyTorch's by more than --steps
(default 1) quantization steps (+ a float epsilon), printing the worst element; it also prints
the top-1 agreement for classifiers. ranges dumps the min/max each PyTorch activation observer
saw, keyed by the fx node it observes, and with --netc-ranges puts netc's ranges.json beside them
(matched by layer name, '.' -> '_').

Only Debian's python3-torch and python3-torchvision; run with /usr/bin/python3.
"""

import argparse
import copy
import gzip
import json
import os
import struct
import sys
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'parity'))
sys.path.insert(0, os.path.join(ROOT, 'tools'))
sys.path.insert(0, os.path.join(ROOT, 'examples', 'fashion'))

PROG = 'torch_int8'
FASHION_DATA = '/usr/share/datasets/fashion-mnist'
ENGINE = 'onednn'
# compare: a float slack on top of the steps (float32 outputs of values ~1e3 carry ~1e-4 of rounding).
EPS_REL = 1e-5


def fail(msg):
    print(f'{PROG}: {msg}', file=sys.stderr)
    sys.exit(1)


# ---- models ----------------------------------------------------------------------------

def net_file(name):
    """The .net file of a model name."""
    if name == 'lenet_fashion':
        return os.path.join(ROOT, 'examples', 'fashion', 'lenet_fashion.net')
    return os.path.join(ROOT, 'models', f'{name}.net')


def build_float(name):
    """(float torch module in eval mode, input shape) for a netc model name; the state_dict
    names are the .net file's weight names."""
    if name == 'lenet_fashion':
        import train
        return train.build_model().eval(), (1, 1, 28, 28)
    import torch_models
    if name not in torch_models.MODELS:
        fail(f'{name}: not a model of tests/parity/torch_models.py nor lenet_fashion')
    model, shape = torch_models.MODELS[name]()
    return model.eval(), tuple(shape)


def input_shape(name):
    if name == 'lenet_fashion':
        return (1, 1, 28, 28)
    import torch_models
    return tuple(torch_models.MODELS[name]()[1])


def read_safetensors(path):
    """name -> tensor (F32 and I64 only: what netc loads)."""
    dtypes = {'F32': torch.float32, 'I64': torch.int64}
    try:
        with open(path, 'rb') as f:
            data = f.read()
        n, = struct.unpack('<Q', data[:8])
        header = json.loads(data[8:8 + n])
        body = memoryview(data)[8 + n:]
        out = {}
        for k, v in header.items():
            if k == '__metadata__':
                continue
            b, e = v['data_offsets']
            t = torch.frombuffer(bytearray(body[b:e]), dtype=dtypes[v['dtype']]) if e > b \
                else torch.zeros(0, dtype=dtypes[v['dtype']])
            out[k] = t.reshape(v['shape'])
        return out
    except (OSError, struct.error, ValueError, KeyError, TypeError, RuntimeError) as e:
        fail(f'{path}: cannot read it as safetensors ({type(e).__name__}: {e})')


def load_float(name, weights):
    """The float model with the weights of a .safetensors file (strict: every name)."""
    model, shape = build_float(name)
    sd = read_safetensors(weights)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        fail(f'{weights}: does not fit {name}: {str(e).splitlines()[0]} ...')
    return model.eval(), shape


def random_weights(name, seed, netc=None):
    """A float model of `name` with seeded random weights and random BatchNorm statistics and
    affines (tests/parity/check_numerics.py's randomize_batchnorm, so BN folding matters);
    returns its state_dict, checked against `netc --report=json` when netc is given."""
    from check_numerics import randomize_batchnorm
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model, _ = build_float(name)
    with torch.no_grad():
        randomize_batchnorm(model, gen)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if netc:
        from export_safetensors import check_against, netc_weights
        errors = check_against(sd, netc_weights(netc, net_file(name)))
        if errors:
            fail(f'{name}: the torch state_dict does not match netc: ' + '; '.join(errors[:5]))
    return sd


def save_weights(sd, path):
    from export_safetensors import save_safetensors
    save_safetensors(sd, path)


# ---- sample files ------------------------------------------------------------------------

def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def read_samples(path, shape):
    """A .f32 file of samples of `shape` back to back -> tensor [N, *shape[1:]] (batch 1 nets:
    N samples; a batch-B net: each sample is B items, returned as N*B rows)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        fail(f'{path}: {e.strerror}')
    per = numel(shape) * 4
    if not data or len(data) % per:
        fail(f'{path}: {len(data)} bytes is not a whole number of samples of {list(shape)} ({per} bytes)')
    t = torch.frombuffer(bytearray(data), dtype=torch.float32)
    return t.reshape(-1, *shape[1:])


def write_f32(path, t):
    with open(path, 'wb') as f:
        f.write(t.detach().to(torch.float32).contiguous().numpy().tobytes())


def fashion_images(first, count, data_dir=FASHION_DATA):
    """Training images [first, first + count) as [count, 1, 28, 28] float32, normalised as
    train.py and classify.c feed them: (float)p / 255.0f."""
    path = None
    for p in (os.path.join(data_dir, 'train-images-idx3-ubyte.gz'),
              os.path.join(data_dir, 'train-images-idx3-ubyte')):
        if os.path.exists(p):
            path = p
            break
    if not path:
        fail(f'{data_dir}/train-images-idx3-ubyte.gz: not found (apt-get install dataset-fashion-mnist)')
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    magic, n, rows, cols = struct.unpack('>IIII', data[:16])
    if magic != 0x803 or (rows, cols) != (28, 28):
        fail(f'{path}: not an IDX file of 28x28 images')
    if first + count > n:
        fail(f'{path}: has {n} images, asked for [{first}, {first + count})')
    px = torch.frombuffer(bytearray(data[16 + first * 784:16 + (first + count) * 784]), dtype=torch.uint8)
    import train
    return train.normalise(px.reshape(count, 1, 28, 28))


def make_samples(name, n, dist, seed, offset=0):
    shape = input_shape(name)
    if dist == 'fashion':
        if name != 'lenet_fashion':
            fail('--dist fashion is for lenet_fashion')
        return fashion_images(offset, n)
    gen = torch.Generator().manual_seed(seed)
    rows = (n, *shape[1:]) if shape[0] == 1 else (n * shape[0], *shape[1:])
    if dist == 'normal':
        return torch.randn(*rows, generator=gen)
    if dist == 'uniform':
        return torch.rand(*rows, generator=gen) * 2 - 1
    fail(f'--dist {dist}: expected normal, uniform or fashion')


# ---- PyTorch's int8 model ----------------------------------------------------------------

def qconfig():
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver, QConfig
    return QConfig(
        activation=MinMaxObserver.with_args(dtype=torch.quint8, qscheme=torch.per_tensor_affine,
                                            reduce_range=False),
        weight=PerChannelMinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_channel_symmetric))


def set_engine():
    if ENGINE not in torch.backends.quantized.supported_engines:
        fail(f'this PyTorch has no {ENGINE} quantized engine ({torch.backends.quantized.supported_engines})')
    torch.backends.quantized.engine = ENGINE


def batches(x, shape, size):
    """x [rows, ...] in runs of whole samples of at most `size` samples each."""
    per = shape[0]
    step = max(1, size) * per
    for i in range(0, x.shape[0], step):
        yield x[i:i + step]


def prepare(model, shape, calib, batch=8):
    """FX prepare_fx, then the calibration samples through it; returns the observed model.
    The observers are MinMax, so batching the samples changes nothing they record."""
    from torch.ao.quantization import QConfigMapping
    from torch.ao.quantization.quantize_fx import prepare_fx
    set_engine()
    example = (torch.zeros(*shape),)
    prepared = prepare_fx(copy.deepcopy(model).eval(), QConfigMapping().set_global(qconfig()), example)
    with torch.no_grad():
        for xb in batches(calib, shape, batch):
            prepared(xb)
    return prepared


def convert(prepared):
    from torch.ao.quantization.quantize_fx import convert_fx
    return convert_fx(copy.deepcopy(prepared)).eval()


def quantized_outputs(converted):
    """A copy of the converted model that returns the quantized tensors the final dequantize
    calls read (so their scale and zero point are known); None for an output that is float
    (a net ending in an op FX leaves in float)."""
    gm = copy.deepcopy(converted)
    out = [n for n in gm.graph.nodes if n.op == 'output'][0]
    args = out.args[0]
    single = not isinstance(args, (tuple, list))
    items = [args] if single else list(args)
    quant = []
    for i, a in enumerate(items):
        if isinstance(a, torch.fx.Node) and a.op == 'call_method' and a.target == 'dequantize':
            items[i] = a.args[0]
            quant.append(True)
        else:
            quant.append(False)
    out.args = (items[0] if single else type(args)(items),)
    gm.graph.lint()
    gm.recompile()
    return gm, quant


def run_int8(converted, shape, inputs, batch=8):
    """Outputs (float, dequantized) for every sample of inputs, and per output the
    (scale, zero_point) of the last quantized tensor (None when that output is float)."""
    gm, quant = quantized_outputs(converted)
    outs, qparams = [], None
    with torch.no_grad():
        for xb in batches(inputs, shape, batch):
            y = gm(xb)
            ys = list(y) if isinstance(y, (tuple, list)) else [y]
            cur = []
            for t, q in zip(ys, quant):
                cur.append((float(t.q_scale()), int(t.q_zero_point())) if q else None)
            if qparams is None:
                qparams = cur
            elif qparams != cur:
                fail('the output qparams changed between batches')
            outs.append([t.dequantize() if q else t for t, q in zip(ys, quant)])
    per_output = [torch.cat([o[k] for o in outs]) for k in range(len(outs[0]))]
    return per_output, qparams


def observer_ranges(prepared):
    """fx node name -> {min, max, observer} for every activation observer of the prepared model
    (shared observers appear once, under the first node they observe)."""
    from torch.ao.quantization.observer import ObserverBase
    mods = dict(prepared.named_modules())
    out = {}
    seen = set()
    for node in prepared.graph.nodes:
        if node.op != 'call_module' or not isinstance(mods.get(node.target), ObserverBase):
            continue
        obs = mods[node.target]
        if id(obs) in seen:
            continue
        seen.add(id(obs))
        src = node.args[0]
        key = src.name if isinstance(src, torch.fx.Node) else str(src)
        mn, mx = getattr(obs, 'min_val', None), getattr(obs, 'max_val', None)
        entry = {'observer': node.target, 'fx_op': src.op if isinstance(src, torch.fx.Node) else '?'}
        if mn is not None and mn.numel() == 1:
            entry.update(min=float(mn), max=float(mx))
            s, z = obs.calculate_qparams()
            entry.update(scale=float(s), zero_point=int(z))
        out[key] = entry
    return out


# ---- comparing -----------------------------------------------------------------------------

def compare(netc, ref, qparams, steps=1.0, classifier=False, n_samples=None, label='netc', ref_label='torch'):
    """netc and ref: flat float32 tensors of the same size (all samples, one output); qparams
    (scale, zp). Returns (ok, lines)."""
    lines = []
    if netc.numel() != ref.numel():
        return False, [f'{label} has {netc.numel()} values, {ref_label} {ref.numel()}']
    if not torch.isfinite(netc).all():
        i = int((~torch.isfinite(netc)).nonzero()[0])
        return False, [f'{label} output {i} is {float(netc[i])}']
    scale, zp = qparams
    diff = (netc.double() - ref.double()).abs()
    worst = int(diff.argmax())
    err = float(diff[worst])
    in_steps = err / scale
    slack = EPS_REL * float(ref.abs().max()) / scale
    # How far netc's values are from PyTorch's output grid scale * (q - zp): a netc output on
    # another grid means other output qparams (another range for the last layer).
    q = netc.double() / scale + zp
    off_grid = float((q - q.round()).abs().max())
    ok = in_steps <= steps + slack
    per = ref.numel() // n_samples if n_samples else ref.numel()
    where = f'element {worst}' + (f' (sample {worst // per}, index {worst % per})' if n_samples else '')
    lines.append(f'max |{label} - {ref_label}| = {err:.6g} = {in_steps:.3f} steps of {scale:.6g} '
                 f'(zero point {zp}) at {where}: {label} {float(netc[worst]):.7g}, '
                 f'{ref_label} {float(ref[worst]):.7g}; elements off by > 0.5 step: '
                 f'{int((diff / scale > 0.5).sum())}, by > 1.5 steps: {int((diff / scale > 1.5).sum())} '
                 f'of {ref.numel()}; '
                 f'{label} off {ref_label}\'s output grid by up to {off_grid:.3f} step')
    if classifier and n_samples:
        a = netc.reshape(n_samples, -1).argmax(1)
        b = ref.reshape(n_samples, -1).argmax(1)
        lines.append(f'top-1 agreement {label} vs {ref_label}: {int((a == b).sum())}/{n_samples}')
    if not ok:
        lines.append(f'FAIL: more than {steps:g} step(s) (+ float slack {slack:.2g} step)')
    return ok, lines


def read_f32(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        fail(f'{path}: {e.strerror}')
    if len(data) % 4:
        fail(f'{path}: {len(data)} bytes is not float32 data')
    return torch.frombuffer(bytearray(data), dtype=torch.float32)


# ---- the commands --------------------------------------------------------------------------

def cmd_weights(a):
    sd = random_weights(a.model, a.seed if a.seed is not None else zlib.crc32(a.model.encode()), a.netc)
    save_weights(sd, a.out)
    print(f'wrote {a.out}: random weights of {a.model} (seed {a.seed}), random BatchNorm statistics')


def cmd_calib(a):
    x = make_samples(a.model, a.n, a.dist, a.seed, a.offset)
    write_f32(a.out, x)
    print(f'wrote {a.out}: {a.n} samples of {a.model}\'s input ({a.dist})')


def cmd_quantize(a):
    model, shape = load_float(a.model, a.weights)
    torch.set_num_threads(a.threads)
    calib = read_samples(a.calib, shape)
    inputs = read_samples(a.inputs, shape)
    prepared = prepare(model, shape, calib)
    converted = convert(prepared)
    outs, qparams = run_int8(converted, shape, inputs)
    if len(outs) != 1:
        fail(f'{a.model}: {len(outs)} outputs; --out writes one (extend to a list of files)')
    write_f32(a.out, outs[0])
    n = inputs.shape[0] // shape[0]
    meta = {'model': a.model, 'engine': ENGINE, 'samples': n, 'calib_samples': calib.shape[0] // shape[0],
            'outputs': [{'scale': q[0], 'zero_point': q[1]} if q else None for q in qparams],
            'output_values': [o.numel() // n for o in outs]}
    if a.meta:
        with open(a.meta, 'w') as f:
            json.dump(meta, f, indent=1)
    print(f'wrote {a.out}: PyTorch int8 ({ENGINE}) outputs of {n} samples; output scale '
          f'{qparams[0][0] if qparams[0] else "float"}')


def cmd_compare(a):
    with open(a.meta) as f:
        meta = json.load(f)
    q = meta['outputs'][0]
    if not q:
        fail(f'{a.meta}: PyTorch\'s output is float, no quantization step to compare in')
    ok, lines = compare(read_f32(a.netc), read_f32(a.torch), (q['scale'], q['zero_point']), a.steps,
                        a.classifier, meta.get('samples'))
    for line in lines:
        print(line)
    sys.exit(0 if ok else 1)


def cmd_ranges(a):
    model, shape = load_float(a.model, a.weights)
    prepared = prepare(model, shape, read_samples(a.calib, shape))
    r = observer_ranges(prepared)
    text = json.dumps(r, indent=1)
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text + '\n')
    if a.netc_ranges:
        with open(a.netc_ranges) as f:
            nr = json.load(f)
        layers = nr.get('layers', [])
        by = {l['name'].replace('.', '_'): l for l in layers}
        by_index = {l.get('index'): l for l in layers}
        inputs = [l for l in layers if l.get('op') == 'input']
        print(f'{"fx node":32} {"torch min":>12} {"torch max":>12} {"netc min":>12} {"netc max":>12}  netc layer')
        for k, v in r.items():
            if v.get('fx_op') == 'placeholder':   # the net's inputs, in order
                l = inputs.pop(0) if inputs else None
            else:   # fx names a module "0" node "_0"
                l = by.get(k) or by.get(k.lstrip('_'))
                # a fused conv(-bn)-relu / linear-relu is observed after the relu: netc's next layer
                nxt = by_index.get(l.get('index', -2) + 1) if l else None
                while nxt and str(nxt.get('op', '')).startswith('batchnorm'):   # folded into the conv
                    nxt = by_index.get(nxt['index'] + 1)
                if nxt and nxt.get('op') == 'relu':
                    l = dict(nxt, name=f'{l["name"]} + {nxt["name"]}')
            print(f'{k:32} {v.get("min", float("nan")):12.6g} {v.get("max", float("nan")):12.6g} '
                  + (f'{l["min"]:12.6g} {l["max"]:12.6g}  {l["op"]} ({l["name"]})' if l else f'{"-":>12} {"-":>12}'))
    elif not a.out:
        print(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('weights', help='random float weights (random BN statistics) as safetensors')
    p.add_argument('model')
    p.add_argument('out')
    p.add_argument('--seed', type=int)
    p.add_argument('--netc', help='check the names and shapes against this netc first')
    p = sub.add_parser('calib', help='a calibration / test input file')
    p.add_argument('model')
    p.add_argument('out')
    p.add_argument('-n', type=int, required=True)
    p.add_argument('--dist', default='normal', help='normal, uniform (in [-1, 1)) or fashion')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--offset', type=int, default=0, help='fashion: the first training image (default 0)')
    p = sub.add_parser('quantize', help='PyTorch\'s int8 model run on --inputs')
    p.add_argument('model')
    p.add_argument('--weights', required=True)
    p.add_argument('--calib', required=True)
    p.add_argument('--inputs', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--meta')
    p.add_argument('--threads', type=int, default=2)
    p = sub.add_parser('compare', help='netc int8 outputs vs PyTorch int8, in quantization steps')
    p.add_argument('--netc', required=True)
    p.add_argument('--torch', required=True)
    p.add_argument('--meta', required=True)
    p.add_argument('--steps', type=float, default=1.0)
    p.add_argument('--classifier', action='store_true', help='also print the top-1 agreement')
    p = sub.add_parser('ranges', help='the ranges PyTorch\'s observers saw')
    p.add_argument('model')
    p.add_argument('--weights', required=True)
    p.add_argument('--calib', required=True)
    p.add_argument('--out')
    p.add_argument('--netc-ranges')
    a = ap.parse_args(argv)
    {'weights': cmd_weights, 'calib': cmd_calib, 'quantize': cmd_quantize, 'compare': cmd_compare,
     'ranges': cmd_ranges}[a.cmd](a)


if __name__ == '__main__':
    main()
