#!/usr/bin/python3
"""Write a PyTorch state_dict as a .safetensors file, checked against netc.

    netc-export STATE.pt OUT.safetensors [--net-file x.net [--net NAME] [-I DIR]... [-D NAME=VALUE]...]
                [--netc PATH] [--key KEY] [--strip-prefix PREFIX]
    netc-export --torchvision resnet50 OUT.safetensors --net-file models/resnet50.net

(installed by `make install` as netc-export; tools/export_safetensors.py in the
source tree, which tests and tools/netc_random.py import.)

STATE.pt is what torch.save(model.state_dict(), ...) writes; a whole model
saved with torch.save(model, ...) is exported through its state_dict(). A
training checkpoint such as {'model': state_dict, 'epoch': 3} needs --key model;
a DataParallel state_dict (every name starting with 'module.') needs
--strip-prefix module. --torchvision NAME builds that torchvision model
(randomly initialised: this machine has no pretrained downloads) and exports
its state_dict.

With --net-file, the tensor names, shapes and dtypes are compared with
`netc --report=json`'s weight list first (netc is --netc, else the netc
installed beside this command, else netc on PATH; -I, -D and --net are passed
to it), and every mismatch is reported; nothing is written if any is found.
On success one line says what was written and against which net it was
checked. Errors are one clear message each and exit status 1, never a
traceback; bad usage is exit status 2.

Only Python's standard library and Debian's python3-torch are used. Floating
tensors are stored as F32 (what netc's runtime loads), int64 buffers such as
BatchNorm's num_batches_tracked as I64. The header is padded with spaces to a
multiple of 8 bytes, as the reference implementation does.
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys

import torch


def tensor_bytes(t):
    """Little-endian bytes of a contiguous CPU tensor."""
    t = t.detach().cpu().contiguous()
    if sys.byteorder != 'little':
        raise SystemExit(f'{PROG}: big-endian hosts are not supported')
    return t.numpy().tobytes()


def to_storable(name, t):
    if t.is_floating_point():
        return 'F32', t.to(torch.float32)
    if t.dtype == torch.int64:
        return 'I64', t
    raise SystemExit(f'{PROG}: tensor {name!r} has dtype {t.dtype}, expected float or int64')


def save_safetensors(state_dict, path, metadata=None):
    """Writes state_dict (name -> tensor, in order) to path in the safetensors format."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in state_dict.items():
        dtype, t = to_storable(name, t)
        data = tensor_bytes(t)
        header[name] = {'dtype': dtype, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def netc_report(netc, net_file, net=None, defines=(), includes=()):
    """`netc --report=json` of a net file, as a dict; SystemExit with netc's message on failure."""
    cmd = [netc, '--report=json', net_file]
    if net:
        cmd += ['--net', net]
    for d in defines:
        cmd += ['-D', d]
    for d in includes:
        cmd += ['-I', d]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f'{PROG}: cannot run netc as {netc!r}: {e.strerror} (give its path with --netc)')
    if r.returncode != 0:
        raise SystemExit(f'{PROG}: {" ".join(cmd)} failed:\n{r.stderr.rstrip()}')
    return json.loads(r.stdout)


def netc_weights(netc, net_file, net=None, defines=(), includes=()):
    return netc_report(netc, net_file, net, defines, includes)['weights']


def check_against(state_dict, weights):
    """Returns a list of human-readable mismatches between a state_dict and netc's weights."""
    errors = []
    want = {w['name']: w for w in weights}
    for name, t in state_dict.items():
        w = want.get(name)
        if w is None:
            errors.append(f'{name}: in the state_dict but not in the netc model')
            continue
        if list(t.shape) != w['shape']:
            errors.append(f'{name}: shape {list(t.shape)} in the state_dict, {w["shape"]} in the netc model')
        if (t.dtype == torch.int64) != (w['dtype'] == 'i64'):
            errors.append(f'{name}: dtype {t.dtype} in the state_dict, {w["dtype"]} in the netc model')
    for name in want:
        if name not in state_dict:
            errors.append(f'{name}: expected by the netc model but missing from the state_dict')
    return errors


PROG = 'netc-export'
# Keys under which training scripts commonly keep the state_dict in a checkpoint.
CHECKPOINT_KEYS = ('model', 'state_dict', 'model_state_dict', 'net', 'module')
DP_PREFIX = 'module.'


def find_netc(given):
    """--netc, else the netc installed beside this command, else netc on PATH."""
    if given:
        return given
    beside = os.path.join(os.path.dirname(os.path.realpath(sys.argv[0])), 'netc')
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    found = shutil.which('netc')
    if not found:
        raise SystemExit(f'{PROG}: no netc beside {sys.argv[0]} or on PATH: give its path with --netc')
    return found


def load_state(path, key):
    """The state_dict in a .pt file: a state_dict, a whole nn.Module, or (with key) a checkpoint's entry."""
    if not os.path.exists(path):
        raise SystemExit(f'{PROG}: {path}: no such file')
    try:
        obj = torch.load(path, map_location='cpu')
    except Exception as e:  # pickle, zip and torch errors alike: the file is not what we can read
        raise SystemExit(f'{PROG}: {path}: not a file torch.load can read ({type(e).__name__}: {e})')
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise SystemExit(f'{PROG}: {path} holds a {type(obj).__name__}, not a state_dict '
                         '(save one with torch.save(model.state_dict(), path))')
    if key is not None:
        if key not in obj:
            raise SystemExit(f'{PROG}: {path} has no key {key!r}; its keys: {", ".join(map(repr, obj))}')
        obj = obj[key]
        if isinstance(obj, torch.nn.Module):
            obj = obj.state_dict()
        if not isinstance(obj, dict):
            raise SystemExit(f'{PROG}: {path}[{key!r}] is a {type(obj).__name__}, not a state_dict')
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        hint = [k for k in CHECKPOINT_KEYS if isinstance(obj.get(k), (dict, torch.nn.Module))]
        if hint:
            raise SystemExit(f'{PROG}: {path} is a checkpoint ({", ".join(map(repr, obj))}), not a state_dict: '
                             f'add --key {hint[0]}')
        raise SystemExit(f'{PROG}: {path}: entries that are not tensors: ' +
                         ', '.join(f'{k!r} ({type(obj[k]).__name__})' for k in bad[:5]) +
                         ('' if key else ' (if it is a checkpoint, --key KEY picks the state_dict in it)'))
    if not obj:
        raise SystemExit(f'{PROG}: {path} holds no tensors')
    return obj


def strip_prefix(sd, prefix):
    if not any(k.startswith(prefix) for k in sd):
        raise SystemExit(f'{PROG}: --strip-prefix {prefix}: no tensor name starts with {prefix!r} '
                         f'(the first is {next(iter(sd))!r})')
    out = {}
    for k, v in sd.items():
        n = k[len(prefix):] if k.startswith(prefix) else k
        if n in out:
            raise SystemExit(f'{PROG}: --strip-prefix {prefix}: two tensors become {n!r}')
        out[n] = v
    return out


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('state', nargs='?', help='a .pt file holding a state_dict (or a model, or a checkpoint with --key)')
    ap.add_argument('out', help='the .safetensors file to write')
    ap.add_argument('--torchvision', metavar='NAME', help='export a torchvision model instead of STATE.pt')
    ap.add_argument('--net-file', help='the .net file the weights are for: names and shapes are checked first')
    ap.add_argument('--net', help='the net in --net-file, if it has several')
    ap.add_argument('-D', dest='defines', action='append', default=[], metavar='NAME=VALUE', help='netc -D')
    ap.add_argument('-I', dest='includes', action='append', default=[], metavar='DIR',
                    help='netc -I: where the net file\'s imports are (e.g. PREFIX/share/netc)')
    ap.add_argument('--netc', help='the netc to check with (default: beside this command, else on PATH)')
    ap.add_argument('--key', help="the checkpoint entry that holds the state_dict (e.g. --key model)")
    ap.add_argument('--strip-prefix', metavar='PREFIX', help="drop PREFIX from the names (e.g. 'module.')")
    a = ap.parse_args()
    if bool(a.state) == bool(a.torchvision):
        ap.error('give either STATE.pt or --torchvision NAME')
    if a.netc and not a.net_file:
        ap.error('--netc needs --net-file')
    if a.torchvision:
        import torchvision
        if not hasattr(torchvision.models, a.torchvision):
            raise SystemExit(f'{PROG}: torchvision.models has no {a.torchvision!r}')
        sd = getattr(torchvision.models, a.torchvision)(weights=None).state_dict()
        source = f'torchvision {a.torchvision}'
    else:
        sd = load_state(a.state, a.key)
        source = a.state
    if a.strip_prefix:
        sd = strip_prefix(sd, a.strip_prefix)
    dp_hint = ''
    if not a.strip_prefix and all(k.startswith(DP_PREFIX) for k in sd):
        dp_hint = (f"every name starts with '{DP_PREFIX}' (a DataParallel state_dict): "
                   f'add --strip-prefix {DP_PREFIX}')
    checked = 'not checked against a net (give --net-file)'
    if a.net_file:
        if not os.path.exists(a.net_file):
            raise SystemExit(f'{PROG}: {a.net_file}: no such file')
        report = netc_report(find_netc(a.netc), a.net_file, a.net, a.defines, a.includes)
        errors = check_against(sd, report['weights'])
        if errors:
            for e in errors[:20]:
                print(f'{PROG}: {e}', file=sys.stderr)
            if len(errors) > 20:
                print(f'{PROG}: ... and {len(errors) - 20} more', file=sys.stderr)
            if dp_hint:
                print(f'{PROG}: hint: {dp_hint}', file=sys.stderr)
            raise SystemExit(f'{PROG}: {len(errors)} mismatch(es) between {source} and net '
                             f"'{report['net']}' of {a.net_file}; nothing written")
        checked = f"checked against net '{report['net']}' of {a.net_file}"
    elif dp_hint:
        print(f'{PROG}: warning: {dp_hint}', file=sys.stderr)
    for name, t in sd.items():
        to_storable(name, t)  # refuses unsupported dtypes before anything is written
    tmp = a.out + '.tmp'
    try:
        save_safetensors(sd, tmp, {'format': 'pt', 'writer': 'netc-export'})
        os.replace(tmp, a.out)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise SystemExit(f'{PROG}: cannot write {a.out}: {e.strerror}')
    nbytes = sum(t.numel() * (8 if t.dtype == torch.int64 else 4) for t in sd.values())
    print(f'{PROG}: wrote {a.out}: {len(sd)} tensors, {nbytes:,} bytes of data, {checked}')


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
