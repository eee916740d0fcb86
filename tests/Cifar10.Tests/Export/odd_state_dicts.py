"""Makes PyTorch files the state_dict import must load, or refuse in one line, from a state_dict of the
`deep` network exported by the toolkit:

    /usr/bin/python3 odd_state_dicts.py DEEP.pt OUT_FOLDER

Files that PyTorch itself loads strictly into bench/pytorch/models.py's network (checked here):
  noncontiguous.pt  every weight non-contiguous (channels-last convolutions, transposed and strided linears)
  shared.pt         every float tensor a view of one storage
  bomb.pt           the last bias a view of a 64 MB storage of zeros, every entry deflated (a ~100 KB file)
Files that are not state_dicts:
  torchscript.pt    torch.jit.trace of the network
  module.pt         the whole network pickled (torch.save(model))
  checkpoint.pt     {'model': state_dict, 'epoch': 3}
  legacy.pt         the state_dict in PyTorch's pre-1.6 format
"""
import os
import sys
import zipfile

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'bench', 'pytorch'))
from models import build  # noqa: E402


def noncontiguous(sd):
    out = {}
    for name, t in sd.items():
        if t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        elif t.dim() == 2 and name == 'fc1.weight':
            wide = torch.zeros(t.shape[0], 2 * t.shape[1])
            wide[:, ::2] = t
            t = wide[:, ::2]  # every other column of a wider tensor
        elif t.dim() == 2:
            t = t.t().contiguous().t()
        assert t.dim() < 2 or not t.is_contiguous(), name
        out[name] = t
    return out


def shared(sd):
    floats = [n for n, t in sd.items() if t.is_floating_point()]
    flat = torch.cat([sd[n].flatten() for n in floats])
    out, offset = dict(sd), 0
    for n in floats:
        count = sd[n].numel()
        out[n] = flat[offset:offset + count].view(sd[n].shape)
        offset += count
    return out


def bomb(sd, path):
    out = dict(sd)
    zeros = torch.zeros(16 << 20)  # 64 MB
    zeros[:sd['fc5.bias'].numel()] = sd['fc5.bias']
    out['fc5.bias'] = zeros[:sd['fc5.bias'].numel()]
    stored = path + '.stored'
    torch.save(out, stored)
    with zipfile.ZipFile(stored) as zin, zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
    os.remove(stored)


def strict_load(path):
    model = build('deep')
    model.load_state_dict(torch.load(path), strict=True)
    return model


def main():
    source, folder = sys.argv[1], sys.argv[2]
    torch.set_num_threads(1)
    sd = torch.load(source)
    torch.save(noncontiguous(sd), os.path.join(folder, 'noncontiguous.pt'))
    torch.save(shared(sd), os.path.join(folder, 'shared.pt'))
    bomb(sd, os.path.join(folder, 'bomb.pt'))
    for name in ('noncontiguous.pt', 'shared.pt', 'bomb.pt'):
        model = strict_load(os.path.join(folder, name))
        for key, value in model.state_dict().items():
            assert torch.equal(value, sd[key]), (name, key)

    model = strict_load(source).eval()
    torch.jit.save(torch.jit.trace(model, torch.zeros(1, 3, 32, 32)), os.path.join(folder, 'torchscript.pt'))
    torch.save(model, os.path.join(folder, 'module.pt'))
    torch.save({'model': sd, 'epoch': 3}, os.path.join(folder, 'checkpoint.pt'))
    torch.save(sd, os.path.join(folder, 'legacy.pt'), _use_new_zipfile_serialization=False)


if __name__ == '__main__':
    main()
