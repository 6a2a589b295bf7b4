// The host page of wopid: creates the editor frame, posts the access token into it, and speaks
// the PostMessage protocol with the editor, accepting messages only from the editor's origin.
(function () {
  "use strict";
  var holder = document.getElementById("frameholder");
  var editorOrigin = holder.dataset.editorOrigin;
  var frame = document.createElement("iframe");
  frame.name = "office_frame";
  frame.id = "office_frame";
  frame.title = "Office frame";
  frame.setAttribute("allowfullscreen", "true");
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox allow-downloads allow-modals");
  holder.appendChild(frame);

  // wd* parameters of the host page go to the editor unchanged; the two one-shot ones are then
  // removed from the address bar.
  var form = document.getElementById("office_form");
  var params = new URLSearchParams(window.location.search);
  var pass = [];
  params.forEach(function (value, key) { if (key.indexOf("wd") === 0) { pass.push([key, value]); } });
  if (pass.length) {
    var action = new URL(form.action);
    pass.forEach(function (kv) { action.searchParams.set(kv[0], kv[1]); });
    form.action = action.toString();
    params.delete("wdPreviousSession");
    params.delete("wdPreviousCorrelation");
    var q = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
  }

  function post(id, values) {
    if (!frame.contentWindow) { return; }
    var msg = JSON.stringify({ MessageId: id, SendTime: Date.now(), Values: values || {} });
    frame.contentWindow.postMessage(msg, editorOrigin);
  }

  window.wopidHost = {
    // Dim the editor while the host draws over it, and give it back its focus after.
    blur: function () { post("Blur_Focus"); },
    grab: function () { post("Grab_Focus"); },
    received: []
  };

  window.addEventListener("message", function (event) {
    if (event.origin !== editorOrigin || event.source !== frame.contentWindow) { return; }
    var msg;
    try { msg = typeof event.data === "string" ? JSON.parse(event.data) : event.data; } catch (e) { return; }
    if (!msg || typeof msg.MessageId !== "string") { return; }
    window.wopidHost.received.push(msg.MessageId);
    var values = msg.Values || {};
    switch (msg.MessageId) {
      case "App_LoadingStatus":
        post("Host_PostmessageReady");
        document.body.setAttribute("data-editor-loaded", "true");
        break;
      case "UI_Close":
        window.top.location.href = holder.dataset.closeUrl;
        break;
      case "UI_Edit":
        window.top.location.href = holder.dataset.editUrl;
        break;
      case "UI_FileVersions":
        window.open(holder.dataset.versionsUrl, "_blank", "noopener");
        break;
      case "UI_Sharing":
        window.open(holder.dataset.sharingUrl, "_blank", "noopener");
        break;
      case "File_Rename":
        if (typeof values.NewName === "string") { document.title = values.NewName; }
        break;
      default:
        break;
    }
  }, false);

  form.submit();
})();
