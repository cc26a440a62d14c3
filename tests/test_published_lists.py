"The published SynCDR lists ship in the package and are written back byte for byte; labels and splits follow them."
import functools, hashlib
import pytest
from syncdr.core import SyncdrError
from syncdr.data import read_list
from syncdr.datasets import PUBLISHED_DOMAINS, PUBLISHED_SPLITS, published_digests, write_published_lists
from syncdr.splits import split_tree
from syncdr.test_utils import make_image_tree

DATASETS = list(PUBLISHED_DOMAINS)

def sha256(path): return hashlib.sha256(path.read_bytes()).hexdigest()

@functools.cache
def digests_of(dataset): return {k.split('/', 1)[1]: v for k, v in published_digests().items() if k.startswith(f'{dataset}/')}

def test_digest_table_covers_every_published_file():
    want = {f'{ds}/{d}_{s}.txt' for ds, doms in PUBLISHED_DOMAINS.items() for d in doms for s in PUBLISHED_SPLITS}
    assert set(published_digests()) == want and len(want) == 45

@pytest.mark.parametrize('dataset', DATASETS)
def test_library_writes_every_published_list(tmp_path, dataset):
    files = write_published_lists(dataset, tmp_path)
    assert {f.name: sha256(f) for f in files} == digests_of(dataset)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.name for f in files)  # no temporary files left

def test_root_replaces_the_prefix(tmp_path):
    root = tmp_path/'images'
    for f in write_published_lists('office_home', tmp_path/'lists', root=root):
        text = f.read_text()
        assert all(l.startswith(f'{root}/office_home/') for l in text.splitlines())
        back = text.replace(f'{root}/', '/home/ubuntu/data/')
        assert hashlib.sha256(back.encode()).hexdigest() == digests_of('office_home')[f.name]

def test_digest_mismatch_raises_and_writes_nothing(tmp_path, monkeypatch):
    import syncdr.datasets
    bad = published_digests() | {'cub/Painting_train_cls_disjoint2.txt': '0'*64}
    monkeypatch.setattr(syncdr.datasets, 'published_digests', lambda: bad)
    with pytest.raises(SyncdrError, match='cub/Painting_train_cls_disjoint2.txt: SHA-256'): write_published_lists('cub', tmp_path/'out')
    assert not (tmp_path/'out').exists()

def test_unknown_dataset(tmp_path):
    with pytest.raises(SyncdrError, match="unknown published dataset 'office'"): write_published_lists('office', tmp_path)

@pytest.mark.parametrize('dataset', DATASETS)
def test_cli_split_disjoint_reproduces_published_halves(tmp_path, dataset, syncdr):
    trains = [f for f in write_published_lists(dataset, tmp_path/'pub') if f.name.endswith('_train.txt')]
    syncdr('split', 'disjoint', *trains, '--seed', '44', '--out', tmp_path/'out')
    got = {f.name: sha256(f) for f in (tmp_path/'out').iterdir()}
    assert got == {n: v for n, v in digests_of(dataset).items() if 'disjoint' in n}

@pytest.mark.parametrize('dataset', DATASETS)
def test_cli_data_lists_writes_every_published_list(tmp_path, dataset, syncdr):
    syncdr('data', 'lists', dataset, '--out', tmp_path/'out')
    assert {f.name: sha256(f) for f in (tmp_path/'out').iterdir()} == digests_of(dataset)

@pytest.mark.parametrize('dataset', DATASETS)
def test_split_tree_gives_published_labels(tmp_path, dataset):
    "A tree laid out like the original images, one tiny image per class, is labelled as the published lists are."
    pub = [(p, l) for f in write_published_lists(dataset, tmp_path/'pub') if 'disjoint' not in f.name for p, l in read_list(f, resolve=False)]
    published = {p.split('/')[-2]: l for p, l in pub}
    dom = PUBLISHED_DOMAINS[dataset][0]
    extra = {'domainnet': ['yoga'], 'office_home': [], 'cub': ['018.Dropped_18', '183.Dropped_183']}[dataset]
    names = list(published) + extra
    tree = make_image_tree(tmp_path/'tree', domains=(dom,), n_classes=len(names), n_per_class=1, size=8, class_names=names)
    split_tree(tree, [dom], out=tmp_path/'lists', preset=dataset)
    got = {p.parent.name: l for s in ('train', 'val', 'test') for p, l in read_list(tmp_path/'lists'/f'{dom}_{s}.txt', allow_empty=True)}
    assert got == published
