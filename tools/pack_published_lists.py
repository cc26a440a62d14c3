"""Pack the published SynCDR lists into `syncdr/published/` (run once, by a maintainer).

Reads the reference repository's `SynCDR/data` (samarth4149/SynCDR @ d272f6f) and writes:

- `<dataset>.tar.xz`: the `<Domain>_{train,val,test}.txt` lists, byte for byte, in a reproducible tar
  (the category-disjoint lists are not shipped: `syncdr.datasets` regenerates them from the train lists);
- `classes.json`: each dataset's class-folder names in label order, read from the lists;
- `SHA256SUMS`: the SHA-256 of every published list, disjoint ones included (`sha256sum` format).

Usage: python tools/pack_published_lists.py SRC [--out syncdr/published]
where SRC is a `SynCDR/data` folder or the reference's bare git directory (read at HEAD).
"""
import argparse, hashlib, io, json, lzma, subprocess, tarfile
from pathlib import Path

DATASETS = {'domainnet': ('clipart', 'painting', 'sketch'), 'office_home': ('Art', 'Clipart', 'Product', 'Real'),
            'cub': ('Real', 'Painting')}
SHIPPED = ('train', 'val', 'test')
SPLITS = SHIPPED + ('train_cls_disjoint1', 'train_cls_disjoint2')
PREFIX = '/home/ubuntu/data/'

def reader(src:Path):
    "A function `(dataset, file name) -> bytes` over a `SynCDR/data` folder or a bare git directory."
    if (src/'HEAD').is_file():  # bare git directory
        return lambda ds, name: subprocess.run(['git', '--git-dir', str(src), 'show', f'HEAD:SynCDR/data/{ds}/{name}'],
                                               check=True, capture_output=True).stdout
    return lambda ds, name: (src/ds/name).read_bytes()

def class_order(texts:dict) -> list[str]:
    "Class-folder names by label, checked to be the same in every list."
    order = {}
    for name, text in texts.items():
        for line in text.decode().splitlines():
            path, lbl = line.rsplit(' ', 1)
            cls = path.split('/')[-2]
            if order.setdefault(int(lbl), cls) != cls: raise SystemExit(f'{name}: label {lbl} is {cls}, elsewhere {order[int(lbl)]}')
    if sorted(order) != list(range(len(order))): raise SystemExit('labels are not 0..C-1')
    return [order[i] for i in range(len(order))]

def tar_xz(files:dict) -> bytes:
    "A reproducible `.tar.xz` (fixed owner, mode and time) of `{name: bytes}`."
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:xz', format=tarfile.USTAR_FORMAT, preset=9 | lzma.PRESET_EXTREME) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name); info.size, info.mode, info.mtime = len(data), 0o644, 0
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()

def main(src:Path, out:Path):
    read = reader(src)
    out.mkdir(parents=True, exist_ok=True)
    sums, classes = [], {}
    for ds, domains in DATASETS.items():
        files = {f'{d}_{s}.txt': read(ds, f'{d}_{s}.txt') for d in domains for s in SPLITS}
        assert all(l.startswith(PREFIX) for b in files.values() for l in b.decode().splitlines()), f'{ds}: a path lacks {PREFIX}'
        sums += [f'{hashlib.sha256(b).hexdigest()}  {ds}/{n}\n' for n, b in files.items()]
        shipped = {f'{d}_{s}.txt': files[f'{d}_{s}.txt'] for d in domains for s in SHIPPED}
        classes[ds] = class_order(shipped)
        (out/f'{ds}.tar.xz').write_bytes(tar_xz(shipped))
        print(f'{ds}: {len(shipped)} lists, {len(classes[ds])} classes, {(out/f"{ds}.tar.xz").stat().st_size:,} bytes')
    (out/'classes.json').write_text(json.dumps(classes, indent=1) + '\n')
    (out/'SHA256SUMS').write_text(''.join(sums))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('src', type=Path, help='SynCDR/data folder, or the bare git directory of samarth4149/SynCDR')
    p.add_argument('--out', type=Path, default=Path(__file__).parents[1]/'syncdr'/'published')
    a = p.parse_args()
    main(a.src, a.out)
