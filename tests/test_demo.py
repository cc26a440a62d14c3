"`syncdr demo --quick` end to end through the console script: every output file, every row and column of the table."
import json
from syncdr.demo import DEMO_METHODS, TABLE_METRICS

ROWS = ['raw pixels', 'untrained (glyph-pretrained)', *DEMO_METHODS]
COLS = [f'{d} {m}' for d in ('mnist2optdigits', 'optdigits2mnist') for m in TABLE_METRICS] + ['mean Prec@1']

def test_demo_quick(tmp_path, syncdr):
    out = tmp_path/'demo'
    r = syncdr('demo', '--quick', '--out', out, '--cache', tmp_path/'cache', '--seed', '1')
    for stage in ('[data]', '[pretrain]', '[cut]', '[translate]', '[train]', '[evaluate]', '[figures]'): assert stage in r.stdout
    for f in ('table.md', 'table.json', 'translations.png', 'retrieval.png', 'curves.png'):
        assert (out/f).is_file() and (out/f).stat().st_size > 0, f
    table = json.loads((out/'table.json').read_text())
    assert list(table['rows']) == ROWS
    for row in ROWS:
        assert list(table['rows'][row]) == COLS
        assert all(0 <= v <= 1 for v in table['rows'][row].values())
    md = (out/'table.md').read_text().splitlines()
    assert md[0] == '| method | ' + ' | '.join(COLS) + ' |'
    assert [l.split(' | ')[0].lstrip('| ') for l in md[2:]] == ROWS
    assert (out/'table.md').read_text().strip() in r.stdout  # the printed table is the written one
    assert list((tmp_path/'cache'/'glyphs').glob('*.pth'))   # the glyph weights went to the cache

def test_demo_help_and_bad_flags(syncdr):
    h = syncdr('demo', '--help').stdout
    for opt in ('--out', '--quick', '--full', '--seed'): assert opt in h
    r = syncdr('demo', '--quick', '--full', ok=False)
    assert r.returncode != 0 and 'exclude each other' in r.stderr
