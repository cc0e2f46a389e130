// The community's "ask a question" form: while the question is typed (debounced), show
// help-center articles and community threads that may already answer it.
(function () {
  "use strict";
  var input = document.getElementById("c-title");
  var box = document.getElementById("c-suggest");
  var list = document.getElementById("c-suggest-list");
  if (!input || !box || !list) return;
  var timer = null;
  var latest = 0;

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }

  function item(kind, title, url) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = url;
    a.textContent = title;
    var tag = document.createElement("span");
    tag.className = "badge";
    tag.textContent = kind;
    li.appendChild(tag);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(a);
    return li;
  }

  function show(q) {
    var mine = ++latest;
    var enc = encodeURIComponent(q);
    Promise.all([
      get("/api/v1/kb/suggest?q=" + enc),
      get("/api/v1/community/suggest?q=" + enc)
    ]).then(function (res) {
      if (mine !== latest) return;
      list.textContent = "";
      var articles = (res[0] && res[0].hits) || [];
      var topics = (res[1] && res[1].topics) || [];
      articles.slice(0, 5).forEach(function (h) { list.appendChild(item("Article", h.title, h.url)); });
      topics.slice(0, 5).forEach(function (t) {
        list.appendChild(item(t.answered ? "Answered thread" : "Thread", t.title, t.url));
      });
      box.hidden = list.children.length === 0;
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 3) { box.hidden = true; return; }
    timer = setTimeout(function () { show(q); }, 250);
  });
})();
