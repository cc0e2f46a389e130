// Rapport's chat widget. Embed with one line on any site:
//   <script src="https://HOST/widget.js" async></script>
// Options, as data attributes on that tag: data-color (a CSS colour), data-greeting (text),
// data-position ("right" or "left"), data-lang ("en", "fr", "de"); a site whose users are
// signed in adds data-customer-id (its id for the user) and data-signature (hex
// HMAC-SHA256 of that id under the chat's identity secret, computed on the site's server),
// so the user's earlier conversations show. The widget talks to the
// host its script came from, speaks the protocol of docs/CHAT.md and lives in a shadow DOM,
// so the page's CSS does not reach it. Server text is only ever inserted as text.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.src || window.__rapportChat) return;
  window.__rapportChat = true;
  var origin = new URL(script.src, location.href).origin;
  var opts = script.dataset;

  var WORDS = {
    en: {
      launcher: 'Chat with us', title: 'Chat', close: 'Close chat', message: 'Message',
      send: 'Send', person: 'Talk to a person', sending: 'Sending…', sent: 'Sent',
      failed: 'Not sent', you: 'You', agent: 'Support', bot: 'Assistant',
      typing: ' is typing…', askPerson: 'I would like to talk to a person.',
      greeting: 'Hello! How can we help?', closed: 'This conversation was closed. Your next message starts a new one.',
      offline: 'Connection lost, reconnecting…',
      details: 'Your details and email', name: 'Name', email: 'Email', save: 'Save details',
      saved: 'Details saved.', savedLater: 'Saved: they go with your first message.',
      transcript: 'Email me the transcript', byEmail: 'Continue by email', needEmail: 'Enter your email first.',
      mailed: 'The transcript is on its way to ', notMailed: 'The transcript could not be sent just now.',
      goesByEmail: 'We will answer by email at ', first: 'Send a message first.',
      attach: 'Attach a file', download: 'Download ', seen: 'Seen', earlier: 'Earlier conversations',
      preview: 'Agents can see what you type before you send it.',
      solved: 'Did that solve it?', yes: 'Yes', no: 'No', yesText: 'Yes, that solved it.', noText: 'No, that did not help.', source: 'Source: ',
      rateAsk: 'How was this chat? Rate it:', rate: ' of 5 (opens a page to send it)',
    },
    fr: {
      launcher: 'Discuter avec nous', title: 'Discussion', close: 'Fermer la discussion', message: 'Message',
      send: 'Envoyer', person: 'Parler à une personne', sending: 'Envoi…', sent: 'Envoyé',
      failed: 'Non envoyé', you: 'Vous', agent: 'Support', bot: 'Assistant',
      typing: ' écrit…', askPerson: 'Je voudrais parler à une personne.',
      greeting: 'Bonjour ! Comment pouvons-nous vous aider ?', closed: 'Cette discussion est close. Votre prochain message en ouvre une nouvelle.',
      offline: 'Connexion perdue, reconnexion…',
      details: 'Vos coordonnées et e-mail', name: 'Nom', email: 'E-mail', save: 'Enregistrer',
      saved: 'Coordonnées enregistrées.', savedLater: 'Enregistré : envoyé avec votre premier message.',
      transcript: 'M’envoyer la transcription', byEmail: 'Continuer par e-mail', needEmail: 'Indiquez d’abord votre e-mail.',
      mailed: 'La transcription part vers ', notMailed: 'La transcription n’a pas pu être envoyée.',
      goesByEmail: 'Nous répondrons par e-mail à ', first: 'Envoyez d’abord un message.',
      attach: 'Joindre un fichier', download: 'Télécharger ', seen: 'Vu', earlier: 'Discussions précédentes',
      preview: 'Les agents voient ce que vous tapez avant l’envoi.',
      solved: 'Est-ce résolu ?', yes: 'Oui', no: 'Non', yesText: 'Oui, c’est résolu.', noText: 'Non, ça n’a pas aidé.', source: 'Source : ',
      rateAsk: 'Comment s’est passée cette discussion ? Notez-la :', rate: ' sur 5 (ouvre une page pour l’envoyer)',
    },
    de: {
      launcher: 'Chatten Sie mit uns', title: 'Chat', close: 'Chat schließen', message: 'Nachricht',
      send: 'Senden', person: 'Mit einem Menschen sprechen', sending: 'Wird gesendet…', sent: 'Gesendet',
      failed: 'Nicht gesendet', you: 'Sie', agent: 'Support', bot: 'Assistent',
      typing: ' schreibt…', askPerson: 'Ich möchte mit einem Menschen sprechen.',
      greeting: 'Hallo! Wie können wir helfen?', closed: 'Dieses Gespräch wurde geschlossen. Ihre nächste Nachricht beginnt ein neues.',
      offline: 'Verbindung verloren, verbinde neu…',
      details: 'Ihre Angaben und E-Mail', name: 'Name', email: 'E-Mail', save: 'Angaben speichern',
      saved: 'Angaben gespeichert.', savedLater: 'Gespeichert: geht mit Ihrer ersten Nachricht mit.',
      transcript: 'Verlauf per E-Mail senden', byEmail: 'Per E-Mail weiter', needEmail: 'Bitte zuerst Ihre E-Mail angeben.',
      mailed: 'Der Verlauf geht an ', notMailed: 'Der Verlauf konnte gerade nicht gesendet werden.',
      goesByEmail: 'Wir antworten per E-Mail an ', first: 'Senden Sie zuerst eine Nachricht.',
      attach: 'Datei anhängen', download: 'Herunterladen: ', seen: 'Gesehen', earlier: 'Frühere Gespräche',
      preview: 'Mitarbeitende sehen, was Sie tippen, bevor Sie es senden.',
      solved: 'Hat das geholfen?', yes: 'Ja', no: 'Nein', yesText: 'Ja, das hat geholfen.', noText: 'Nein, das hat nicht geholfen.', source: 'Quelle: ',
      rateAsk: 'Wie war dieser Chat? Bewerten Sie ihn:', rate: ' von 5 (öffnet eine Seite zum Absenden)',
    },
  };
  var lang = (opts.lang || document.documentElement.lang || 'en').slice(0, 2).toLowerCase();
  var t = WORDS[lang] || WORDS.en;
  var color = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgb\([0-9, .%]+\))$/.test(opts.color || '') ? opts.color : '#1d4ed8';
  var side = opts.position === 'left' ? 'left' : 'right';

  // --- State kept across reloads: token, last id, unacknowledged messages (per host). ---
  // The state is the signed-in site user's (or the anonymous visitor's): on a shared
  // browser, somebody else's state is dropped, never resumed.
  var KEY = 'rapport-chat:' + origin;
  var who = opts.customerId ? 'u:' + opts.customerId : '';
  var state = load();
  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || 'null');
      if (s && typeof s === 'object' && (s.who || '') === who) return { who: who, token: s.token || null, last_id: +s.last_id || 0, outbox: Array.isArray(s.outbox) ? s.outbox : [], expected: s.expected || null, conv: +s.conv || 0, name: s.name || '', email: s.email || '' };
      if (s) localStorage.removeItem(KEY);
    } catch (e) { /* storage off or corrupt: start afresh */ }
    return { who: who, token: null, last_id: 0, outbox: [], expected: null, conv: 0, name: '', email: '' };
  }
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }

  function newId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
  }

  // --- The UI, in a shadow root. ---
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }
  var host = el('div', { 'data-rapport-chat': '' });
  var root = host.attachShadow({ mode: 'open' });
  var css = el('style');
  css.textContent =
    ':host{all:initial}' +
    '*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px;line-height:1.4}' +
    '.w{position:fixed;bottom:16px;' + side + ':16px;z-index:2147483000;display:flex;flex-direction:column;align-items:' + (side === 'left' ? 'flex-start' : 'flex-end') + ';gap:8px}' +
    'button{cursor:pointer;border-radius:8px;border:2px solid var(--c);padding:8px 14px;background:#fff;color:#111}' +
    'button.p{background:var(--c);color:#fff}' +
    'button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #111;outline-offset:2px}' +
    '.l{border-radius:24px;padding:12px 20px;font-weight:600;box-shadow:0 2px 8px rgba(0,0,0,.3)}' +
    '.d{width:min(360px,calc(100vw - 32px));height:min(520px,calc(100vh - 96px));background:#fff;color:#111;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.3);display:flex;flex-direction:column;overflow:hidden}' +
    '.d[hidden]{display:none}' +
    '.h{display:flex;justify-content:space-between;align-items:center;padding:8px 12px;background:var(--c);color:#fff}' +
    'h2{margin:0;font-size:16px;color:#fff}' +
    '.h button{background:transparent;color:#fff;border-color:#fff;padding:2px 10px}' +
    '.g{flex:1;overflow-y:auto;padding:12px}.g ul{margin:0;padding:0;list-style:none}' +
    '.g li{margin:0 0 10px;max-width:85%;padding:8px 10px;border-radius:10px;background:#f1f1f1;white-space:pre-wrap;overflow-wrap:anywhere}' +
    '.g li.v{margin-left:auto;background:#e6eefc}' +
    '.g li.n{background:#fff8e1;max-width:100%}' +
    '.who{display:block;font-size:12px;font-weight:600;color:#333}' +
    '.st{display:block;font-size:12px;color:#444;text-align:right}' +
    '.g a{color:#0b3fa8}.src{display:block;font-size:13px}.yn{display:flex;gap:8px;margin-top:6px}' +
    '.rate a{display:inline-block;min-width:1.8em;text-align:center;border:1px solid #9ca3af;border-radius:4px;padding:2px 4px;color:#0b3fa8}' +
    '.ty{min-height:20px;padding:0 12px;font-size:13px;color:#333}' +
    'form{display:flex;flex-direction:column;gap:6px;padding:8px 12px 12px;border-top:1px solid #ddd}' +
    'textarea{width:100%;min-height:44px;max-height:120px;resize:vertical;padding:8px;border:1px solid #666;border-radius:8px;color:#111;background:#fff}' +
    '.r{display:flex;gap:8px;justify-content:space-between}' +
    '.x{border-top:1px solid #ddd;padding:4px 12px}.x summary{cursor:pointer;padding:4px 0}' +
    '.x label{display:block;font-size:13px;margin-top:4px}.x input{width:100%;padding:6px;border:1px solid #666;border-radius:6px}' +
    '.x[open]{max-height:45%;overflow-y:auto}.x .r{flex-wrap:wrap;justify-content:flex-start;margin-top:6px}.x button{padding:4px 8px;font-size:13px}' +
    '.k{border:0;padding:0;background:none;color:#0b3fa8;text-decoration:underline;display:block}' +
    '.pv{margin:0;padding:4px 12px;font-size:13px;background:#fff3cd}' +
    '.h3{font-size:13px;font-weight:600;margin:0 0 6px}.e details{margin-bottom:8px}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}';
  var wrap = el('div', { class: 'w' });
  wrap.style.setProperty('--c', color);
  var panel = el('div', { class: 'd', role: 'dialog', 'aria-labelledby': 'rc-t', id: 'rc-d', hidden: '' });
  var head = el('div', { class: 'h' });
  head.appendChild(el('h2', { id: 'rc-t' }, t.title));
  var closeBtn = el('button', { type: 'button', 'aria-label': t.close }, '×');
  head.appendChild(closeBtn);
  var log = el('div', { class: 'g', role: 'log', 'aria-live': 'polite', 'aria-label': t.title, tabindex: '0' });
  var list = el('ul');
  log.appendChild(list);
  var typingLine = el('div', { class: 'ty', 'aria-live': 'polite' });
  var previewLine = el('p', { class: 'pv', hidden: '' }, t.preview);
  var earlierBox = el('section', { class: 'e', 'aria-label': t.earlier, hidden: '' });
  earlierBox.appendChild(el('h3', { class: 'h3' }, t.earlier));
  log.insertBefore(earlierBox, list);
  // Name, email and the email buttons, folded away until wanted.
  var more = el('details', { class: 'x' });
  more.appendChild(el('summary', {}, t.details));
  var nameBox = field('rc-n', t.name, 'text', 'name');
  var emailBox = field('rc-e', t.email, 'email', 'email');
  nameBox.value = state.name;
  emailBox.value = state.email;
  var row2 = el('div', { class: 'r' });
  var saveBtn = el('button', { type: 'button' }, t.save);
  var mailBtn = el('button', { type: 'button' }, t.transcript);
  var byMailBtn = el('button', { type: 'button' }, t.byEmail);
  row2.appendChild(saveBtn);
  row2.appendChild(mailBtn);
  row2.appendChild(byMailBtn);
  more.appendChild(row2);
  function field(id, label, type, auto) {
    more.appendChild(el('label', { for: id }, label));
    var i = el('input', { id: id, type: type, autocomplete: auto, maxlength: '200' });
    more.appendChild(i);
    return i;
  }
  var form = el('form');
  form.appendChild(el('label', { for: 'rc-m', class: 'sr' }, t.message));
  var box = el('textarea', { id: 'rc-m', rows: '2', maxlength: '4000' });
  form.appendChild(box);
  var row = el('div', { class: 'r' });
  var personBtn = el('button', { type: 'button' }, t.person);
  var attachBtn = el('button', { type: 'button' }, t.attach);
  var fileInput = el('input', { type: 'file', hidden: '', accept: 'image/*,application/pdf,text/plain' });
  row.appendChild(attachBtn);
  row.appendChild(fileInput);
  var sendBtn = el('button', { type: 'submit', class: 'p' }, t.send);
  row.appendChild(personBtn);
  row.appendChild(sendBtn);
  form.appendChild(row);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(typingLine);
  panel.appendChild(previewLine);
  panel.appendChild(form);
  panel.appendChild(more);
  var launcher = el('button', { type: 'button', class: 'l p', 'aria-expanded': 'false', 'aria-controls': 'rc-d' }, t.launcher);
  wrap.appendChild(panel);
  wrap.appendChild(launcher);
  root.appendChild(css);
  root.appendChild(wrap);
  note(opts.greeting || t.greeting);

  function open() {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    box.focus();
    log.scrollTop = log.scrollHeight;
    if (state.token) connect();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }
  launcher.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
  closeBtn.addEventListener('click', close);
  panel.addEventListener('keydown', function (e) { if (e.key === 'Escape') { e.preventDefault(); close(); } });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var body = box.value.trim();
    if (!body) return;
    box.value = '';
    send(body);
  });
  box.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  var lastTyping = 0;
  var preview = false; // the admin's typing preview: agents see the unsent text
  var draftTimer = null;
  box.addEventListener('input', function () {
    var now = Date.now();
    if (preview) {
      // Text goes only while the preview is on (the visitor is told so).
      clearTimeout(draftTimer);
      draftTimer = setTimeout(function () { frame({ type: 'typing', text: box.value }); }, 400);
    } else if (now - lastTyping > 2000 && frame({ type: 'typing' })) lastTyping = now;
  });
  personBtn.addEventListener('click', function () { askForPerson(); });
  attachBtn.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    if (fileInput.files[0]) upload(fileInput.files[0]);
    fileInput.value = '';
  });
  saveBtn.addEventListener('click', saveDetails);
  mailBtn.addEventListener('click', function () { byMail('transcript'); });
  byMailBtn.addEventListener('click', function () { byMail('continue_by_email'); });

  // --- Name and email: kept locally, sent with the start or by a `profile` frame. ---
  function saveDetails() {
    state.name = nameBox.value.trim();
    state.email = emailBox.value.trim();
    save();
    if (!state.token) return note(t.savedLater);
    var f = { type: 'profile' };
    if (state.name) f.name = state.name;
    if (state.email) f.email = state.email;
    if (!frame(f)) note(t.offline);
  }
  function byMail(type) {
    var email = emailBox.value.trim();
    if (!state.token) return note(t.first);
    if (!email && type !== 'transcript') { emailBox.focus(); return note(t.needEmail); }
    var f = { type: type };
    if (email) f.email = email;
    if (!frame(f)) note(t.offline);
  }

  /// "Talk to a person": the `handoff` frame on an open conversation (the bot hands it
  /// over with its summary); before there is one, a message saying so (the bot hands over).
  var wantPerson = false;
  function askForPerson() {
    if (!state.token) { send(t.askPerson); return; }
    if (!frame({ type: 'handoff' })) { wantPerson = true; connect(); }
  }

  /// A bot answer's source: a link only to this server's help center (`/help/…`).
  function kbHref(raw) {
    var u;
    try { u = new URL(raw, origin); } catch (e) { return null; }
    if ((u.protocol === 'https:' || u.protocol === 'http:') && u.origin === origin && u.pathname.indexOf('/help/') === 0) return u.href;
    return null;
  }
  function sources(li, list) {
    (list || []).forEach(function (s) {
      var href = kbHref(String(s.url || ''));
      if (!href) return;
      var p = el('span', { class: 'src' }, t.source);
      p.appendChild(el('a', { href: href, target: '_blank', rel: 'noopener noreferrer' }, String(s.title || s.url)));
      li.appendChild(p);
    });
  }
  var verdictRow = null;
  function askVerdict(li) {
    if (verdictRow) verdictRow.remove();
    verdictRow = el('span', { class: 'yn', role: 'group', 'aria-label': t.solved });
    [[t.yes, t.yesText], [t.no, t.noText]].forEach(function (b) {
      var btn = el('button', { type: 'button' }, b[0]);
      btn.addEventListener('click', function () { if (verdictRow) { verdictRow.remove(); verdictRow = null; } send(b[1]); });
      verdictRow.appendChild(btn);
    });
    li.appendChild(verdictRow);
  }

  // --- The end-of-chat survey: five links to the rating page, which records the one the
  // visitor sends (a link alone records nothing). ---
  var askedRating = null; // the survey page already offered on this page (sockets reconnect)
  function askRating(url) {
    if (!/^https?:\/\//.test(url || '') || askedRating === url) return;
    askedRating = url;
    var li = el('li', { class: 'n rate' });
    li.appendChild(el('span', {}, t.rateAsk + ' '));
    for (var n = 1; n <= 5; n++) {
      var a = el('a', { href: url + '?csat=' + n, target: '_blank', rel: 'noopener', 'aria-label': n + t.rate }, String(n));
      li.appendChild(a);
      li.appendChild(document.createTextNode(' '));
    }
    list.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }

  // --- Rendering: text only; links built with DOM APIs. ---
  var URLS = /(https?:\/\/[^\s<>"']+|\/help\/[^\s<>"']+)/g;
  function safeHref(raw) {
    var u;
    try { u = new URL(raw, origin); } catch (e) { return null; }
    if (u.protocol === 'https:' || (u.protocol === 'http:' && u.origin === origin)) return u.href;
    return null;
  }
  function fill(node, text) {
    var at = 0;
    var m;
    URLS.lastIndex = 0;
    while ((m = URLS.exec(text))) {
      var url = m[0].replace(/[.,;:!?)\]]+$/, '');
      var href = safeHref(url);
      if (!href) continue;
      node.appendChild(document.createTextNode(text.slice(at, m.index)));
      var a = el('a', { href: href, target: '_blank', rel: 'noopener noreferrer' }, url);
      node.appendChild(a);
      at = m.index + url.length;
    }
    node.appendChild(document.createTextNode(text.slice(at)));
  }
  function note(text) {
    var li = el('li', { class: 'n' });
    li.textContent = text;
    list.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }
  var byClient = {}; // client_id → <li> of a message not yet acknowledged
  var shown = {};    // message id → true
  function bubble(author, name, body) {
    var li = el('li', { class: author === 'visitor' ? 'v' : 'a' });
    li.appendChild(el('span', { class: 'who' }, author === 'visitor' ? t.you : (name || (author === 'bot' ? t.bot : t.agent))));
    var p = el('span');
    fill(p, body);
    li.appendChild(p);
    list.appendChild(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function pending(entry) {
    var li = bubble('visitor', null, entry.body);
    li.appendChild(el('span', { class: 'st' }, t.sending));
    byClient[entry.client_id] = li;
  }
  function status(li, text) {
    var st = li.querySelector('.st');
    if (st) st.textContent = text;
  }
  state.outbox.forEach(pending);

  // --- Sending. ---
  var starting = false;
  function send(body) {
    var entry = { client_id: newId(), body: body };
    state.outbox.push(entry);
    save();
    pending(entry);
    if (!state.token) start();
    else if (ready) frame({ type: 'message', client_id: entry.client_id, body: entry.body });
    else connect();
  }

  /// The first message starts the conversation over HTTP; the rest go over the socket.
  function start() {
    if (starting || state.token || !state.outbox.length) return;
    starting = true;
    var first = state.outbox[0];
    fetch(origin + '/api/v1/chat/conversations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(startBody(first)),
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, status: r.status, j: j }; });
    }).then(function (r) {
      starting = false;
      if (!r.ok) {
        var err = (r.j && r.j.error) || {};
        if (r.status === 422 || r.status === 403) {
          drop(first.client_id);
          note(err.message || t.failed);
        } else {
          retryLater(start);
        }
        return;
      }
      state.token = r.j.token;
      state.conv = r.j.conversation_id;
      state.expected = r.j.agents_online ? null : r.j.expected_reply;
      acked(first.client_id, r.j.message_id);
      if (state.expected) note(state.expected);
      connect();
    }).catch(function () {
      starting = false;
      retryLater(start);
    });
  }
  function startBody(first) {
    var b = { body: first.body, client_id: first.client_id };
    if (state.name) b.name = state.name;
    if (state.email) b.email = state.email;
    if (identity) b.identity = identity;
    return b;
  }
  function drop(clientId) {
    state.outbox = state.outbox.filter(function (e) { return e.client_id !== clientId; });
    save();
    var li = byClient[clientId];
    if (li) status(li, t.failed);
    delete byClient[clientId];
  }
  function acked(clientId, id) {
    state.outbox = state.outbox.filter(function (e) { return e.client_id !== clientId; });
    var li = byClient[clientId];
    delete byClient[clientId];
    if (li) status(li, t.sent);
    if (li && id) mine[id] = li;
    seen();
    if (id) shown[id] = true;
    if (id > state.last_id) state.last_id = id;
    save();
  }
  var retryTimer = null;
  function retryLater(fn) {
    if (retryTimer) return;
    retryTimer = setTimeout(function () { retryTimer = null; fn(); }, 3000);
  }

  // --- The socket. ---
  var ws = null;
  var ready = false;
  var backoff = 1000;
  var pinger = null;
  var typingTimer = null;
  function frame(f) {
    if (!ws || !ready) return false;
    ws.send(JSON.stringify(f));
    return true;
  }
  function connect() {
    if (ws || !state.token) return;
    ready = false;
    var sock = new WebSocket(origin.replace(/^http/, 'ws') + '/api/v1/chat/ws');
    ws = sock;
    sock.onopen = function () { sock.send(JSON.stringify({ type: 'auth', token: state.token })); };
    sock.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (x) { return; }
      onFrame(f);
    };
    sock.onclose = function (e) {
      ws = null;
      ready = false;
      clearInterval(pinger);
      if (e.code === 4003) { // the token opens nothing any more: the next message starts anew
        state.token = null;
        state.last_id = 0;
        save();
        if (state.outbox.length) start();
        return;
      }
      setTimeout(connect, backoff + Math.random() * 500);
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  function onFrame(f) {
    switch (f.type) {
      case 'ready':
        ready = true;
        agentRead = f.agent_read_up_to || 0;
        preview = !!f.typing_preview;
        previewLine.hidden = !preview;
        backoff = 1000;
        clearInterval(pinger);
        pinger = setInterval(function () { frame({ type: 'ping' }); }, 25000);
        // A fresh page has shown nothing yet: ask for the whole conversation.
        frame({ type: 'resume', after: Object.keys(shown).length ? state.last_id : 0 });
        state.outbox.forEach(function (m) { frame({ type: 'message', client_id: m.client_id, body: m.body }); });
        if (wantPerson) { wantPerson = false; frame({ type: 'handoff' }); }
        break;
      case 'ack':
        acked(f.client_id, f.id);
        break;
      case 'message':
        if (shown[f.id]) break;
        shown[f.id] = true;
        if (f.id > state.last_id) { state.last_id = f.id; save(); }
        if (f.author === 'visitor' && (adopt(f) || adoptUpload(f))) break;
        var li = bubble(f.author, f.name, f.attachments && f.attachments.length && f.body === f.attachments[0].filename ? '' : f.body);
        files(li, f.attachments);
        if (f.author === 'visitor') { li.appendChild(el('span', { class: 'st' }, t.sent)); mine[f.id] = li; seen(); }
        if (f.author === 'bot') {
          sources(li, f.sources);
          if (f.asks_verdict) askVerdict(li);
          else if (verdictRow) { verdictRow.remove(); verdictRow = null; }
        } else if (verdictRow && f.author === 'agent') { verdictRow.remove(); verdictRow = null; }
        if (f.author !== 'visitor') typingLine.textContent = '';
        frame({ type: 'read', up_to: f.id });
        break;
      case 'survey':
        askRating(f.url);
        break;
      case 'typing':
        typingLine.textContent = (f.name || t.agent) + t.typing;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.textContent = ''; }, 5000);
        break;
      case 'read':
        agentRead = Math.max(agentRead, f.up_to || 0);
        seen();
        break;
      case 'profile':
        note(t.saved);
        break;
      case 'transcript':
        note(f.queued ? t.mailed + (emailBox.value.trim() || state.email) + '.' : t.notMailed);
        break;
      case 'by_email':
        state.email = f.email;
        save();
        note(t.goesByEmail + f.email + '.');
        break;
      case 'error':
        if (f.field && !f.client_id) note(f.field + ': ' + f.message);
        if (f.client_id) {
          if (f.code === 'invalid' || f.code === 'too_big') drop(f.client_id);
          else if (f.code === 'closed') closedConversation();
          else retryLater(resend);
        } else if (f.code === 'closed') {
          closedConversation();
        }
        break;
      default:
        break;
    }
  }
  /// A message of ours coming back before its ack (or after a reload): it is the one
  /// already on screen as "Sending…", not a new one.
  function adopt(f) {
    for (var i = 0; i < state.outbox.length; i++) {
      if (state.outbox[i].body === f.body && byClient[state.outbox[i].client_id]) return true;
    }
    return false;
  }
  // --- Read receipts: the visitor's messages an agent has seen say so. ---
  var mine = {};   // message id → <li> of the visitor's own message
  var agentRead = 0;
  function seen() {
    for (var id in mine) if (+id <= agentRead) { status(mine[id], t.seen); delete mine[id]; }
  }

  // --- Files: links that fetch with the token (it never goes in a URL). ---
  function files(li, list) {
    (list || []).forEach(function (a) {
      var b = el('button', { type: 'button', class: 'k' }, t.download + a.filename);
      b.addEventListener('click', function () { fetchFile(a); });
      li.insertBefore(b, li.querySelector('.st'));
    });
  }
  function fetchFile(a) {
    fetch(origin + '/api/v1/chat/files/' + Number(a.id), { headers: { authorization: 'Bearer ' + state.token } })
      .then(function (r) { if (!r.ok) throw r; return r.blob(); })
      .then(function (b) {
        var u = URL.createObjectURL(b);
        var x = el('a', { href: u, download: a.filename });
        root.appendChild(x);
        x.click();
        x.remove();
        setTimeout(function () { URL.revokeObjectURL(u); }, 10000);
      })
      .catch(function () { note(t.failed); });
  }
  // Uploads still waiting for their answer: the socket may bring the file back first.
  var uploads = [];
  function uploaded(entry, id, list) {
    uploads = uploads.filter(function (u) { return u !== entry; });
    entry.done = true;
    shown[id] = true;
    files(entry.li, list);
    status(entry.li, t.sent);
    mine[id] = entry.li;
    seen();
  }
  function adoptUpload(f) {
    var name = f.attachments && f.attachments.length && f.attachments[0].filename;
    if (!name || !uploads.length) return false;
    // By name; else the oldest (the server may have cleaned the name).
    for (var i = 0; i < uploads.length; i++) {
      if (uploads[i].name === name) { uploaded(uploads[i], f.id, f.attachments); return true; }
    }
    uploaded(uploads[0], f.id, f.attachments);
    return true;
  }
  function upload(file) {
    if (!state.token) return note(t.first);
    var id = newId();
    var li = bubble('visitor', null, '');
    li.appendChild(el('span', { class: 'st' }, t.sending));
    var entry = { name: file.name, li: li, done: false };
    uploads.push(entry);
    var body = new FormData();
    body.append('client_id', id);
    body.append('file', file, file.name);
    fetch(origin + '/api/v1/chat/files', { method: 'POST', headers: { authorization: 'Bearer ' + state.token }, body: body })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (r) {
        if (entry.done) return;
        if (!r.ok) {
          uploads = uploads.filter(function (u) { return u !== entry; });
          status(li, t.failed);
          return note((r.j.error && r.j.error.message) || t.failed);
        }
        uploaded(entry, r.j.id, [r.j.attachment]);
      })
      .catch(function () {
        if (entry.done) return;
        uploads = uploads.filter(function (u) { return u !== entry; });
        status(li, t.failed);
      });
  }

  // --- A verified site user's earlier conversations. ---
  var identity = opts.customerId && opts.signature ? { customer_id: opts.customerId, signature: opts.signature } : null;
  function loadEarlier() {
    if (!identity) return;
    fetch(origin + '/api/v1/chat/history', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: identity }),
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (j) {
      var list = ((j && j.conversations) || []).filter(function (c) { return c.conversation_id !== state.conv; });
      list.forEach(function (c) {
        var d = el('details');
        d.appendChild(el('summary', {}, c.subject + ' · ' + new Date(c.started_at).toLocaleDateString()));
        var ul = el('ul');
        c.messages.forEach(function (m) {
          var li = el('li', { class: m.author === 'visitor' ? 'v' : 'a' });
          li.appendChild(el('span', { class: 'who' }, m.author === 'visitor' ? t.you : (m.name || t.agent)));
          li.appendChild(el('span', {}, m.body));
          ul.appendChild(li);
        });
        d.appendChild(ul);
        earlierBox.appendChild(d);
      });
      earlierBox.hidden = !list.length;
    }).catch(function () { /* history is a nicety */ });
  }

  function resend() {
    state.outbox.forEach(function (m) { frame({ type: 'message', client_id: m.client_id, body: m.body }); });
  }
  function closedConversation() {
    note(t.closed);
    state.token = null;
    state.last_id = 0;
    save();
    if (ws) { var s = ws; ws = null; s.onclose = null; s.close(); }
    if (state.outbox.length) start();
  }

  function mount() {
    document.body.appendChild(host);
    loadEarlier();
    if (state.token) connect();
    else if (state.outbox.length) start();
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
