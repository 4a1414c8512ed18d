#!/usr/bin/python3
"""Write a PyTorch state_dict as a .safetensors file, checked against netc.

    tools/export_safetensors.py STATE.pt OUT.safetensors [--netc build/netc --net-file models/x.net [--net NAME]]
    tools/export_safetensors.py --torchvision resnet50 OUT.safetensors --netc build/netc --net-file models/resnet50.net

STATE.pt is what torch.save(model.state_dict(), ...) writes. --torchvision NAME
builds that torchvision model (randomly initialised: this machine has no
pretrained downloads) and exports its state_dict. With --netc, the tensor names,
shapes and dtypes are compared with `netc --report=json`'s weight list first,
and every mismatch is reported; nothing is written if any is found.

Only Python's standard library and Debian's python3-torch are used. Floating
tensors are stored as F32 (what netc's runtime loads), int64 buffers such as
BatchNorm's num_batches_tracked as I64. The header is padded with spaces to a
multiple of 8 bytes, as the reference implementation does.
"""

import argparse
import json
import struct
import subprocess
import sys

import torch


def tensor_bytes(t):
    """Little-endian bytes of a contiguous CPU tensor."""
    t = t.detach().cpu().contiguous()
    if sys.byteorder != 'little':
        raise SystemExit('export_safetensors: big-endian hosts are not supported')
    return t.numpy().tobytes()


def to_storable(name, t):
    if t.is_floating_point():
        return 'F32', t.to(torch.float32)
    if t.dtype == torch.int64:
        return 'I64', t
    raise SystemExit(f'export_safetensors: tensor {name!r} has dtype {t.dtype}, expected float or int64')


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


def netc_weights(netc, net_file, net=None, defines=()):
    cmd = [netc, '--report=json', net_file]
    if net:
        cmd += ['--net', net]
    for d in defines:
        cmd += ['-D', d]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f'export_safetensors: {" ".join(cmd)} failed:\n{r.stderr}')
    return json.loads(r.stdout)['weights']


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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('state', nargs='?', help='a .pt file holding a state_dict')
    ap.add_argument('out', help='the .safetensors file to write')
    ap.add_argument('--torchvision', metavar='NAME', help='export a torchvision model instead of STATE.pt')
    ap.add_argument('--netc', help='path to netc, to check the names and shapes first')
    ap.add_argument('--net-file', help='the .net file the weights are for (with --netc)')
    ap.add_argument('--net', help='the net in --net-file, if it has several')
    ap.add_argument('-D', dest='defines', action='append', default=[], help='netc -D NAME=VALUE')
    a = ap.parse_args()
    if bool(a.state) == bool(a.torchvision):
        ap.error('give either STATE.pt or --torchvision NAME')
    if a.torchvision:
        import torchvision
        sd = getattr(torchvision.models, a.torchvision)(weights=None).state_dict()
    else:
        sd = torch.load(a.state, map_location='cpu')
        if not isinstance(sd, dict):
            raise SystemExit('export_safetensors: the .pt file does not hold a state_dict')
    if a.netc:
        if not a.net_file:
            ap.error('--netc needs --net-file')
        errors = check_against(sd, netc_weights(a.netc, a.net_file, a.net, a.defines))
        if errors:
            for e in errors:
                print(f'export_safetensors: {e}', file=sys.stderr)
            raise SystemExit(f'export_safetensors: {len(errors)} mismatch(es); nothing written')
    save_safetensors(sd, a.out, {'format': 'pt', 'writer': 'netc tools/export_safetensors.py'})


if __name__ == '__main__':
    main()
