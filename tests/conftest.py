import os, subprocess
import pytest
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

def run_syncdr(*args, ok=True, cwd=None):
    "Run the `syncdr` console script; with `ok`, assert it succeeded."
    r = subprocess.run(['syncdr', *map(str, args)], capture_output=True, text=True, cwd=cwd, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    if ok: assert r.returncode == 0, r.stderr
    return r

@pytest.fixture
def syncdr(): return run_syncdr

@pytest.fixture(scope='module')
def syncdr_module(): return run_syncdr

def tiny_lists(tmp, domains=('clipart', 'painting'), n_classes:int=4, n_per_class:int=10):
    "A tiny image tree under `tmp/data` with train/val/test and category-disjoint lists in `tmp/lists`."
    from syncdr.splits import split_tree, split_disjoint
    from syncdr.test_utils import make_image_tree
    root = make_image_tree(tmp/'data', domains=domains, n_classes=n_classes, n_per_class=n_per_class)
    split_tree(root, list(domains), out=tmp/'lists')
    split_disjoint([tmp/'lists'/f'{d}_train.txt' for d in domains])
    return tmp/'lists'
