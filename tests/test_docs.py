"The documentation site: the offline build (tools/build_docs.py), its link checker, and the built pages in a headless browser."
import functools, http.server, json, os, re, shutil, subprocess, sys, tempfile, threading, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs as bd

# ---------------------------------------------------------------- the sidebar and the link checker, on small inputs

def test_sidebar_groups_api_tutorials_ihda():
    pages = [Path(p) for p in ['index.ipynb', '00_core.ipynb', '05_metrics.ipynb', 'translate/00_engine.ipynb',
                               'tutorials/01_digits.ipynb', 'ihda/00_data.ipynb', 'ihda/01_model.ipynb']]
    c = bd.sidebar(pages)['website']['sidebar']['contents']
    assert c[0] == 'index.ipynb'
    assert [s['section'] for s in c[1:]] == ['API', 'Tutorials', 'IHDA']
    assert c[1]['contents'] == ['00_core.ipynb', '05_metrics.ipynb', {'section': 'translate', 'contents': ['translate/00_engine.ipynb']}]
    assert c[2]['contents'] == ['tutorials/01_digits.ipynb']
    assert c[3]['contents'] == ['ihda/00_data.ipynb', 'ihda/01_model.ipynb']
    assert [s['section'] for s in bd.sidebar(pages[:3])['website']['sidebar']['contents'][1:]] == ['API']  # no empty sections

def test_mixed_cells_are_found_before_any_notebook_runs(tmp_path):
    cell = lambda src: {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'source': src}
    nb = {'cells': [cell('#| export\nimport os\nx = 1'), cell('import shutil'), cell('import shutil\nshutil.copy(a, b)'),
                    cell('def f():\n    import json\n    return json'), cell('#| eval: false\nimport x; x.go()'), cell('y = 2'),
                    {'cell_type': 'markdown', 'metadata': {}, 'source': 'import nothing'}], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    (tmp_path/'a.ipynb').write_text(json.dumps(nb))
    assert bd.mixed_cells(tmp_path/'a.ipynb') == [(2, 'import shutil'), (3, 'def f():')]
    with pytest.raises(bd.DocsError, match=r"a.ipynb: cell 2: 'import shutil'"): bd.proc_nbs(tmp_path, tmp_path/'_proc')

def _write(p:Path, text:str):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)

def test_check_links_finds_each_kind_of_dangling_link(tmp_path):
    _write(tmp_path/'index.html', '<html><head><link href="site_libs/a.css" rel="stylesheet"><script src="site_libs/gone.js"></script></head><body>'
           '<a href="core.html#set_seed">ok</a> <a href="core.html#no_such_anchor">bad anchor</a> <a href="#top">self</a> <h1 id="top">t</h1>'
           '<a href="sub/">folder index</a> <a href="https://example.com/x.html">external, not fetched</a> <a href="mailto:a@b.c">mail</a>'
           '<img src="core_files/figure-html/fig.png"> <img src="data:image/png;base64,AAAA"> <a href="missing.html">missing</a></body></html>')
    _write(tmp_path/'core.html', '<section id="set_seed"><h3>set_seed</h3></section><a href="index.html#top">back</a><a href="../outside.html">out</a>')
    _write(tmp_path/'sub'/'index.html', '<a href="../core.html">up</a>')
    _write(tmp_path/'site_libs'/'a.css', 'body { background: url("img/bg.png") } .x { background: url(data:image/svg+xml;utf8,<svg/>) }')
    (tmp_path/'core_files'/'figure-html').mkdir(parents=True)
    (tmp_path/'core_files'/'figure-html'/'fig.png').write_bytes(b'\x89PNG')
    bad = sorted(bd.check_links(tmp_path))
    assert bad == sorted([('index.html', 'site_libs/gone.js'), ('index.html', 'core.html#no_such_anchor'), ('index.html', 'missing.html'),
                          ('core.html', '../outside.html'), ('site_libs/a.css', 'img/bg.png')])
    assert ('index.html', 'core.html#no_such_anchor') not in bd.check_links(tmp_path, anchors=False)
    with pytest.raises(bd.DocsError, match=r'5 dangling internal link\(s\)[\s\S]*index.html: missing.html'): bd.assert_links(tmp_path)

def test_extract_images_and_relativize(tmp_path):
    png = (b'\x89PNG\r\n\x1a\n' + b'\0' * 8)
    import base64
    _write(tmp_path/'translate'/'cut.html', f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" class="img-fluid">'
           '<a href="https://syncdr.github.io/syncdr/core.html#set_seed">set_seed</a><a href="https://syncdr.github.io/syncdr/">home</a>')
    assert bd.extract_images(tmp_path) == 1
    assert bd.relativize(tmp_path, 'https://syncdr.github.io/syncdr/') == 2
    text = (tmp_path/'translate'/'cut.html').read_text()
    src = re.search(r'<img src="([^"]+)"', text)[1]
    assert src.startswith('cut_files/figure-html/') and (tmp_path/'translate'/src).read_bytes() == png
    assert 'href="../core.html#set_seed"' in text and 'href="../index.html"' in text

# ---------------------------------------------------------------- the real site, built once per session

@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "The docs of nbs/, built offline into a temporary folder (the link check runs inside the build)."
    tmp = tmp_path_factory.mktemp('docs')
    return bd.build(out=tmp/'_docs', proc=tmp/'_proc', quiet=True)

def test_build_keeps_nbdev_page_names_and_links_resolve(site):
    for page in ['index.html', 'core.html', 'data.html', 'splits.html', 'metrics.html', 'translate/diffusion.html']:
        assert (site/page).is_file(), page
    assert not list(site.glob('0*_*.html')), 'pages must keep nbdev names (core.html, not 00_core.html)'
    assert bd.check_links(site) == []
    index = (site/'index.html').read_text()
    for section in ['API', 'Tutorials']: assert re.search(rf'>\s*{section}\s*<', index), section
    assert 'href="metrics.html"' in index
    assert 'https://syncdr.github.io/syncdr/' not in (site/'learner.html').read_text()  # nbdev's links to the site became relative

def test_planted_dangling_link_fails_the_check(site, tmp_path):
    copy = tmp_path/'site'
    shutil.copytree(site, copy)
    page = copy/'metrics.html'
    page.write_text(page.read_text().replace('</body>', '<a href="core.html#not_a_name">x</a><img src="metrics_files/figure-html/gone.png"></body>'))
    with pytest.raises(bd.DocsError) as e: bd.assert_links(copy)
    assert 'metrics.html: core.html#not_a_name' in str(e.value) and 'metrics.html: metrics_files/figure-html/gone.png' in str(e.value)
    assert '2 dangling' in str(e.value)

# ---------------------------------------------------------------- in a headless browser

def _browser():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'):
        if shutil.which(name): return shutil.which(name)

@pytest.fixture
def served(site):
    "The site served by http.server on 127.0.0.1, on a free port, in a thread."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}/'
    srv.shutdown(); srv.server_close()

def _chromium(exe, *args, timeout=120):
    prof = tempfile.mkdtemp(prefix='syncdr-chromium-')
    try:
        r = subprocess.run([exe, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
                            '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
                            f'--user-data-dir={prof}', *args], capture_output=True, text=True, timeout=timeout)
    finally: shutil.rmtree(prof, ignore_errors=True)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def test_pages_in_headless_browser(request, tmp_path_factory):
    exe = _browser()
    if exe is None:
        if os.environ.get('SYNCDR_REQUIRE_BROWSER'): pytest.fail('SYNCDR_REQUIRE_BROWSER is set but no chromium is on PATH')
        pytest.skip('no chromium on PATH: install it (Debian: apt-get install chromium) to check the pages in a browser')
    served = request.getfixturevalue('served')  # build and serve only when there is a browser to look
    shots = tmp_path_factory.mktemp('screenshots')
    print(f'\nscreenshots in {shots}')
    for page, title, entry in [('index.html', 'syncdr', None), ('metrics.html', 'Retrieval metrics – syncdr', 'retrieval_metrics')]:
        dom = _chromium(exe, '--dump-dom', served + page)
        assert re.search(rf'<title>\s*{re.escape(title)}\s*</title>', dom), f'{page}: title {title!r} not in the rendered page'
        nav = re.search(r'<nav id="quarto-sidebar".*?</nav>', dom, re.S)
        assert nav and 'href="metrics.html"' in nav[0] and re.search(r'>\s*API\s*<', nav[0]), f'{page}: no sidebar with the API pages'
        if entry:
            assert re.search(rf'<h3 id="{entry}"[^>]*>\s*{entry}\s*<', dom), f'{page}: no API entry {entry}'
            figs = re.findall(r'<img src="([^"]*figure-html/[^"]+\.png)"', dom)
            assert figs, f'{page}: no rendered figure'
            for f in figs:
                with urllib.request.urlopen(served + f) as r: assert r.status == 200 and r.read(8) == b'\x89PNG\r\n\x1a\n', f
        shot = shots/page.replace('.html', '.png')
        _chromium(exe, f'--screenshot={shot}', '--window-size=1200,900', served + page)
        assert shot.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' and shot.stat().st_size > 10_000, f'{shot} is not a picture of the page'
