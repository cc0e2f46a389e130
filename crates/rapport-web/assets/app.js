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

  if ('EventSource' in window) {
    const es = new EventSource('/live');
    es.addEventListener('ticket', (ev) => {
      const d = JSON.parse(ev.data);
      if (listEl) refresh(listEl, 'list');
      if (ticketEl && String(d.ticket_id) === ticketEl.dataset.ticket) refresh(threadEl, 'thread');
    });
    es.addEventListener('chat', (ev) => newChat(JSON.parse(ev.data)));
  }

  // New chats: announced on the page always; a short tone and a desktop notification
  // once the agent turned alerts on (the browser asks for permission only then).
  const alertsBtn = document.getElementById('chat-alerts');
  const news = document.getElementById('chat-news');
  const ALERTS = 'rapport-chat-alerts';
  function alertsOn() {
    try { return localStorage.getItem(ALERTS) === 'on'; } catch (_) { return false; }
  }
  function showAlerts() {
    if (!alertsBtn) return;
    alertsBtn.setAttribute('aria-pressed', String(alertsOn()));
    alertsBtn.textContent = alertsOn() ? 'Chat alerts on' : 'Turn on chat alerts';
  }
  let audio = null;
  function tone() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audio = audio || new Ctx();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.15, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.4);
  }
  function newChat(d) {
    if (news) {
      const a = document.createElement('a');
      a.href = `/tickets/${Number(d.ticket_id)}`;
      a.textContent = `New chat: ${d.subject}`;
      news.replaceChildren(a);
    }
    if (!alertsOn()) return;
    try { tone(); } catch (_) { /* no audio device */ }
    if ('Notification' in window && Notification.permission === 'granted') {
      const n = new Notification('New chat', { body: String(d.subject), tag: `chat-${d.ticket_id}` });
      n.onclick = () => { window.focus(); location.href = `/tickets/${Number(d.ticket_id)}`; };
    }
  }
  if (alertsBtn) {
    showAlerts();
    alertsBtn.addEventListener('click', async () => {
      try {
        if (alertsOn()) {
          localStorage.removeItem(ALERTS);
        } else {
          if ('Notification' in window && Notification.permission === 'default') await Notification.requestPermission();
          localStorage.setItem(ALERTS, 'on');
          tone(); // a user gesture: lets the page play sound later
        }
      } catch (_) { /* storage off */ }
      showAlerts();
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
        // The admin's typing preview: what the chat's visitor typed so far (as text).
        const draft = others.find((o) => typeof o.draft === 'string');
        const preview = document.getElementById('visitor-draft');
        if (preview) {
          preview.hidden = !draft;
          preview.textContent = draft ? `The visitor is typing: “${draft.draft}”` : '';
        }
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
