// The knowledge base in the workspace: the editor's live preview, and the ticket page's
// "Insert article" box. Plain JavaScript, no dependencies; served from the binary.
(() => {
  'use strict';
  const csrf = document.body.dataset.csrf;
  if (!csrf) return;

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  // Live preview: the markdown rendered by the server exactly as the help center shows it.
  const body = document.getElementById('kb-body');
  const preview = document.getElementById('kb-preview');
  const toc = document.getElementById('kb-toc');
  if (body && preview) {
    let asked = 0;
    const render = debounce(async () => {
      const mine = ++asked;
      const form = new URLSearchParams({ csrf, body: body.value });
      try {
        const r = await fetch('/kb/preview', { method: 'POST', body: form, credentials: 'same-origin' });
        if (mine !== asked) return; // a newer keystroke's answer is coming
        if (!r.ok) {
          const e = await r.json().catch(() => null);
          preview.dataset.state = 'error';
          preview.textContent = e && e.error ? e.error.message : 'The preview failed.';
          return;
        }
        const d = await r.json();
        preview.dataset.state = 'ok';
        preview.innerHTML = d.html; // sanitised by the server
        if (toc) {
          toc.replaceChildren(...d.toc.map((s) => {
            const li = document.createElement('li');
            li.className = `toc-${s.level}`;
            const a = document.createElement('a');
            a.href = `#${s.anchor}`;
            a.textContent = s.heading;
            li.append(a);
            return li;
          }));
        }
      } catch (_) { /* offline: the next keystroke retries */ }
    }, 250);
    body.addEventListener('input', render);
    render();
  }

  // "Insert article": find an article and put a markdown link to it at the cursor.
  const box = document.querySelector('.kb-insert');
  if (box) {
    const q = document.getElementById('kb-insert-q');
    const out = document.getElementById('kb-insert-results');
    const target = document.getElementById(box.dataset.target);
    const insert = (title, url) => {
      const link = `[${title.replace(/[[\]]/g, '')}](${url})`;
      const start = target.selectionStart ?? target.value.length;
      const end = target.selectionEnd ?? start;
      target.value = target.value.slice(0, start) + link + target.value.slice(end);
      target.focus();
      target.selectionStart = target.selectionEnd = start + link.length;
      target.dispatchEvent(new Event('input', { bubbles: true }));
      out.replaceChildren();
      q.value = '';
    };
    const find = debounce(async () => {
      const text = q.value.trim();
      if (!text) { out.replaceChildren(); return; }
      try {
        const r = await fetch(`/kb/lookup?q=${encodeURIComponent(text)}`, { credentials: 'same-origin' });
        if (!r.ok) return;
        const d = await r.json();
        if (q.value.trim() !== text) return;
        out.replaceChildren(...(d.hits.length ? d.hits.map((h) => {
          const li = document.createElement('li');
          const b = document.createElement('button');
          b.type = 'button';
          b.className = 'link';
          b.textContent = h.title;
          b.addEventListener('click', () => insert(h.title, h.url));
          li.append(b);
          return li;
        }) : [Object.assign(document.createElement('li'), { textContent: 'No published article matches.' })]));
      } catch (_) { /* ignore */ }
    }, 200);
    q.addEventListener('input', find);
    q.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); const b = out.querySelector('button'); if (b) b.click(); }
    });
  }
})();
