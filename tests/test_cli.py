"End-to-end checks of the `syncdr` console script, run as a user would run it."
import subprocess, sys
from pathlib import Path
import pytest
from syncdr.data import read_list
from syncdr.test_utils import make_image_tree


def test_help_lists_commands(syncdr):
    out = syncdr('--help').stdout
    for cmd in ('split tree', 'split disjoint', 'data digits'): assert cmd in out

@pytest.mark.parametrize('cmd', [('split', 'tree'), ('split', 'disjoint'), ('data', 'digits')])
def test_subcommand_help(cmd, syncdr):
    r = syncdr(*cmd, '--help')
    assert r.stdout.startswith(f"usage: syncdr {' '.join(cmd)}")

def test_split_tree_then_disjoint(tmp_path, syncdr):
    root = make_image_tree(tmp_path/'tree', domains=('clipart', 'painting'), n_classes=6, n_per_class=10)
    syncdr('split', 'tree', root, '--domains', 'clipart', 'painting', '--preset', 'office_home', '--out', tmp_path/'lists')
    tr = read_list(tmp_path/'lists'/'clipart_train.txt')
    assert len(tr) == 6*5 and all(p.exists() for p, _ in tr)
    syncdr('split', 'disjoint', tmp_path/'lists'/'clipart_train.txt', tmp_path/'lists'/'painting_train.txt', '--parts', '3')
    parts = [read_list(tmp_path/'lists'/f'clipart_train_cls_disjoint{k}.txt') for k in (1, 2, 3)]
    assert sorted(p for part in parts for p, _ in part) == sorted(p for p, _ in tr)
    classes = [{p.parent.name for p, _ in part} for part in parts]
    assert all(not (a & b) for i, a in enumerate(classes) for b in classes[i+1:])

def test_split_disjoint_overlap(tmp_path, syncdr):
    lst = tmp_path/'x_train.txt'
    lst.write_text(''.join(f'img/{c}_{i}.png {c}\n' for c in range(10) for i in range(2)))
    syncdr('split', 'disjoint', lst, '--overlap', '0.2', '--out', tmp_path/'o')
    a, b = ({l.split()[0].split('/')[1].split('_')[0] for l in (tmp_path/'o'/f'x_train_cls_disjoint{k}.txt').read_text().splitlines()} for k in (1, 2))
    assert len(a & b) == 2 and len(a | b) == 10

def test_data_digits(tmp_path, syncdr):
    syncdr('data', 'digits', '--out', tmp_path/'digits', '--n-per-class', '10')
    for dom in ('mnist', 'optdigits'):
        for split in ('train', 'val', 'test', 'train_cls_disjoint1', 'train_cls_disjoint2'):
            assert read_list(tmp_path/'digits'/f'{dom}_{split}.txt')

@pytest.mark.parametrize('args,msg', [
    (('split', 'tree', 'nowhere', '--domains', 'a'), 'not found'),
    (('split', 'disjoint', 'missing.txt'), 'list file not found'),
    (('split', 'disjoint', 'x.txt', '--overlap', 'lots'), 'invalid float value'),
    (('data', 'digits'), '--out is required'),
    (('nonsense',), 'unknown command'),
])
def test_bad_arguments_fail_with_one_line(tmp_path, args, msg, syncdr):
    r = syncdr(*args, ok=False, cwd=tmp_path)
    assert r.returncode != 0
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
