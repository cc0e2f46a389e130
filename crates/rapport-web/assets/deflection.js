// The portal's new-request form: while the customer types a subject and a message, suggest
// help-center articles that may answer it, and tell the server which were shown and which
// was opened (under the deflection id the server issued with the form; nothing the
// customer typed is sent but the search words). Without this script the form works the
// same, unsuggested.
(() => {
  'use strict';
  const form = document.getElementById('new-request');
  const out = document.getElementById('kb-suggestions');
  if (!form || !out || !window.fetch) return;
  const token = form.elements.deflection.value;
  const subject = form.elements.subject;
  const message = form.elements.message;
  let timer = 0;
  let asked = '';
  let reported = '';

  function query() {
    const text = `${subject.value} ${message.value}`.replace(/\s+/g, ' ').trim();
    // The engine takes at most 200 characters; cut on a word.
    return text.length <= 200 ? text : text.slice(0, 200).replace(/\s+\S*$/, '');
  }

  function beacon(path, data) {
    const body = new URLSearchParams(data);
    const url = `/portal/deflection/${token}/${path}`;
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    fetch(url, { method: 'POST', body, credentials: 'same-origin', keepalive: true }).catch(() => {});
  }

  function show(hits) {
    out.textContent = '';
    if (!hits.length) return;
    const h = document.createElement('h2');
    h.textContent = 'These articles may answer your question';
    const list = document.createElement('ul');
    for (const hit of hits) {
      if (typeof hit.url !== 'string' || !hit.url.startsWith('/help/')) continue;
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = hit.url;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = hit.title;
      a.dataset.article = String(hit.id);
      li.append(a);
      if (hit.snippet) {
        const p = document.createElement('p');
        p.textContent = hit.snippet;
        li.append(p);
      }
      list.append(li);
    }
    const note = document.createElement('p');
    note.className = 'hint';
    note.textContent = 'Articles open in a new tab; your request stays here.';
    out.append(h, list, note);
    const ids = hits.map((x) => x.id).join(',');
    if (ids !== reported) {
      reported = ids;
      beacon('shown', { articles: ids });
    }
  }

  async function suggest() {
    const q = query();
    if (q === asked) return;
    asked = q;
    if (q.length < 3) { show([]); return; }
    try {
      const r = await fetch(`/api/v1/kb/suggest?limit=5&q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
      if (!r.ok || q !== asked) return;
      const body = await r.json();
      show(Array.isArray(body.hits) ? body.hits.slice(0, 5) : []);
    } catch (_) { /* offline: the form still works */ }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  }
  // Once a field is left, the settled words go to the search log as the portal's (the
  // content-gap report joins them to the request this visitor may file within the hour).
  let logged = '';
  function log() {
    const q = query();
    if (q.length < 3 || q === logged) return;
    logged = q;
    beacon('searched', { q });
  }
  subject.addEventListener('input', later);
  message.addEventListener('input', later);
  subject.addEventListener('change', log);
  message.addEventListener('change', log);
  out.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[data-article]');
    if (a) beacon('opened', { article: a.dataset.article });
  });
  if (query()) later();
})();
