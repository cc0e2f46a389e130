// Rapport's browser script: live updates, presence and keyboard shortcuts. Plain
// JavaScript, no dependencies; served from the binary.
(() => {
  'use strict';
  const csrf = document.body.dataset.csrf;
  if (!csrf) return; // Portal and sign-in pages need none of this.

  const ticketEl = document.querySelector('[data-ticket]');
  const listEl = document.querySelector('[data-live=list]');
  const threadEl = document.getElementById('thread');

  // Re-fetch a server-rendered fragment, at most once per 300 ms.
  const pending = new Map();
  function refresh(el, part) {
    if (!el || pending.has(part)) return;
    pending.set(part, setTimeout(async () => {
      pending.delete(part);
      const url = new URL(location.href);
      url.searchParams.set('partial', part);
      try {
        const r = await fetch(url, { credentials: 'same-origin' });
        if (r.ok) { el.innerHTML = await r.text(); markSelection(); }
      } catch (_) { /* offline: the next event retries */ }
    }, 300));
  }

  if ('EventSource' in window && (listEl || ticketEl)) {
    const es = new EventSource('/live');
    es.addEventListener('ticket', (ev) => {
      const d = JSON.parse(ev.data);
      if (listEl) refresh(listEl, 'list');
      if (ticketEl && String(d.ticket_id) === ticketEl.dataset.ticket) refresh(threadEl, 'thread');
    });
  }

  // Presence: tell the server we are here (and whether typing); show who else is.
  if (ticketEl) {
    const id = ticketEl.dataset.ticket;
    const out = document.getElementById('presence');
    let typingUntil = 0;
    document.querySelectorAll('textarea').forEach((t) =>
      t.addEventListener('input', () => { typingUntil = Date.now() + 5000; }));
    async function ping() {
      const body = new URLSearchParams({ csrf, typing: Date.now() < typingUntil ? '1' : '0' });
      try {
        const r = await fetch(`/tickets/${id}/presence`, { method: 'POST', body, credentials: 'same-origin' });
        if (!r.ok) return;
        const others = await r.json();
        out.textContent = others.map((o) => `${o.name} is ${o.typing ? 'typing a reply' : 'viewing this ticket'}`).join(' · ');
      } catch (_) { /* ignore */ }
    }
    ping();
    setInterval(ping, 5000);
  }

  // Keyboard shortcuts.
  let selected = -1;
  function rows() { return Array.from(document.querySelectorAll('tr.row')); }
  function markSelection() {
    rows().forEach((r, i) => r.classList.toggle('selected', i === selected));
  }
  const help = document.getElementById('help');
  document.addEventListener('keydown', (e) => {
    const tag = (e.target.tagName || '').toLowerCase();
    if (e.key === 'Escape') { if (help) help.hidden = true; e.target.blur && e.target.blur(); return; }
    if (tag === 'input' || tag === 'textarea' || tag === 'select' || e.ctrlKey || e.metaKey || e.altKey) return;
    const all = rows();
    switch (e.key) {
      case 'j': selected = Math.min(selected + 1, all.length - 1); markSelection(); break;
      case 'k': selected = Math.max(selected - 1, 0); markSelection(); break;
      case 'Enter': if (all[selected]) location.href = all[selected].dataset.href; break;
      case 'r': { const t = document.getElementById('reply'); if (t) { e.preventDefault(); t.focus(); } break; }
      case 'n': { const t = document.getElementById('note'); if (t) { e.preventDefault(); t.focus(); } break; }
      case 'a': { const f = document.getElementById('assign-me'); if (f) f.submit(); break; }
      case '/': { e.preventDefault(); document.getElementById('global-search').focus(); break; }
      case '?': if (help) help.hidden = !help.hidden; break;
      default: return;
    }
  });
})();
