// The folder page's small enhancements; everything works without them through plain forms.
// Multi-select, confirmations, filtering as you type, and uploads by drag and drop or the
// picker with a progress bar and a cancel button per file, asking what to do when a name exists.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Confirm destructive forms and buttons (data-confirm).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var button = ev.submitter;
    var text = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) ev.preventDefault();
  });

  // Multi-select.
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#listing input[name=item]"));
  }
  function refreshSelection() {
    var bulk = document.getElementById("bulk");
    var selected = document.getElementById("selected");
    if (!bulk) return;
    var n = 0;
    boxes().forEach(function (b) {
      var row = b.closest("tr");
      if (row) row.classList.toggle("picked", b.checked);
      if (b.checked) n += 1;
    });
    bulk.classList.toggle("active", n > 0);
    selected.textContent = n === 0 ? "Select files to act on several at once" : n === 1 ? "1 selected" : n + " selected";
    var all = document.getElementById("select-all");
    if (all) {
      var total = boxes().length;
      all.checked = total > 0 && n === total;
      all.indeterminate = n > 0 && n < total;
    }
  }
  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.id === "select-all") {
      boxes().forEach(function (b) {
        if (!b.closest("tr").hidden) b.checked = t.checked;
      });
    }
    if (t.id === "select-all" || t.name === "item") refreshSelection();
  });
  refreshSelection();

  // Filter as you type (the form still filters on the server when submitted).
  var q = document.getElementById("q");
  function applyFilter() {
    if (!q) return;
    var needle = q.value.trim().toLowerCase();
    document.querySelectorAll("#listing tr.row").forEach(function (row) {
      var name = (row.getAttribute("data-name") || "").toLowerCase();
      row.hidden = needle !== "" && name.indexOf(needle) < 0;
    });
  }
  if (q) q.addEventListener("input", applyFilter);

  // Uploads.
  var form = document.getElementById("upload");
  if (!form) return;
  var input = document.getElementById("upload-files");
  var list = document.getElementById("uploads");
  var dialog = document.getElementById("conflict");
  var csrf = form.querySelector("input[name=csrf]").value;
  var max = parseInt(form.getAttribute("data-max"), 10) || 0;
  var queue = [];
  var running = false;
  var stored = 0;
  // What the page's script did, for people reading the page's state (and its browser test).
  window.wopidUploads = [];

  function existingNames() {
    var names = {};
    document.querySelectorAll("#listing tr[data-file]").forEach(function (row) {
      names[row.getAttribute("data-name")] = true;
    });
    return names;
  }

  function ask(name) {
    return new Promise(function (resolve) {
      document.getElementById("conflict-text").textContent =
        "\u201c" + name + "\u201d already exists in this folder. Replace it with a new version, keep both (the upload gets a free name), or skip it?";
      function closed() {
        dialog.removeEventListener("close", closed);
        resolve(dialog.returnValue || "skip");
      }
      dialog.returnValue = "";
      dialog.addEventListener("close", closed);
      dialog.showModal();
    });
  }

  function line(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "up-name";
    name.textContent = file.name;
    var state = document.createElement("span");
    state.className = "up-state";
    state.textContent = "Waiting";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", "Cancel the upload of " + file.name);
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    li.appendChild(name);
    li.appendChild(state);
    li.appendChild(cancel);
    li.appendChild(bar);
    list.appendChild(li);
    return { li: li, state: state, cancel: cancel, bar: bar };
  }

  function send(item, choice) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      item.xhr = xhr;
      var data = new FormData();
      data.append("csrf", csrf);
      data.append("on_conflict", choice);
      data.append("file", item.file, item.file.name);
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) {
          var pct = Math.floor((ev.loaded / ev.total) * 100);
          item.ui.bar.value = pct;
          item.ui.state.textContent = pct + " %";
          item.record.percent = pct;
        }
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = function () { resolve({ status: 0, body: { error: "The connection failed." } }); };
      xhr.onabort = function () { resolve({ status: -1, body: {} }); };
      xhr.send(data);
    });
  }

  function finish(item, cls, text) {
    item.ui.li.classList.add(cls);
    item.ui.state.textContent = text;
    item.ui.cancel.remove();
    item.record.status = cls;
  }

  async function run(item) {
    var choice = "ask";
    if (existingNames()[item.file.name]) choice = await ask(item.file.name);
    if (choice === "skip") return finish(item, "skipped", "Skipped");
    if (item.cancelled) return finish(item, "cancelled", "Cancelled");
    item.ui.state.textContent = "0 %";
    for (;;) {
      var r = await send(item, choice);
      if (r.status === 409 && r.body.exists && choice === "ask") {
        choice = await ask(item.file.name);
        if (choice === "skip") return finish(item, "skipped", "Skipped");
        item.ui.bar.value = 0;
        continue;
      }
      if (r.status === -1) return finish(item, "cancelled", "Cancelled");
      if (r.status >= 200 && r.status < 300) {
        item.ui.bar.value = 100;
        item.record.percent = 100;
        stored += 1;
        var saved = (r.body.stored && r.body.stored[0]) || {};
        var how = r.body.skipped && r.body.skipped.length ? "Skipped" : saved.replaced ? "Replaced (new version)" : saved.name && saved.name !== item.file.name ? "Done, as \u201c" + saved.name + "\u201d" : "Done";
        item.record.name = saved.name || item.file.name;
        return finish(item, "done", how);
      }
      return finish(item, "failed", r.body.error || "Failed (" + r.status + ")");
    }
  }

  async function pump() {
    if (running) return;
    running = true;
    while (queue.length) {
      await run(queue.shift());
    }
    running = false;
    if (stored > 0) {
      stored = 0;
      reloadListing();
    }
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      var record = { name: file.name, percent: 0, status: "queued" };
      window.wopidUploads.push(record);
      var item = { file: file, record: record, ui: line(file) };
      item.ui.cancel.addEventListener("click", function () {
        item.cancelled = true;
        if (item.xhr) item.xhr.abort();
        else finish(item, "cancelled", "Cancelled");
      });
      if (max && file.size > max) {
        finish(item, "failed", "Too large for this server");
        return;
      }
      queue.push(item);
    });
    pump();
  }

  // The listing again, without leaving the page (the upload lines stay).
  // While it runs, the body carries data-listing-pending: rows about to be replaced.
  function reloadListing() {
    document.body.setAttribute("data-listing-pending", "");
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("listing");
        var old = document.getElementById("listing");
        if (fresh && old) {
          old.replaceWith(document.importNode(fresh, true));
          applyFilter();
          refreshSelection();
        }
        document.body.setAttribute("data-listing-reloaded", String(Date.now()));
      })
      .finally(function () { document.body.removeAttribute("data-listing-pending"); });
  }

  input.addEventListener("change", function () {
    add(input.files);
    input.value = "";
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    add(input.files);
    input.value = "";
  });
  var depth = 0;
  document.addEventListener("dragenter", function (ev) {
    if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0) {
      depth += 1;
      form.classList.add("over");
    }
  });
  document.addEventListener("dragleave", function () {
    depth = Math.max(0, depth - 1);
    if (depth === 0) form.classList.remove("over");
  });
  document.addEventListener("dragover", function (ev) {
    if (ev.dataTransfer) {
      ev.preventDefault();
      ev.dataTransfer.dropEffect = "copy";
    }
  });
  document.addEventListener("drop", function (ev) {
    ev.preventDefault();
    depth = 0;
    form.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) add(ev.dataTransfer.files);
  });
})();
