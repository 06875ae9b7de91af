/* Sign-up boxes of the newsletter service (GET /embed/{id}). Each
   form[data-nl-signup] on the page is sent with fetch and answers in place,
   in a live region under the address field: the service's error with, for a
   mistyped address, a button that takes the address meant; then the
   thank-you message, which takes the focus. Each box keeps to itself, so a
   page may hold several; without this script they are plain forms. */
(function () {
  "use strict";
  var seq = 0;
  var FAILED = "Sorry, we could not sign you up just now. Please try again.";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function uniqueID() {
    var id;
    do id = "nl-box-" + ++seq; while (document.getElementById(id));
    return id;
  }

  // setup makes one form answer in place, once.
  function setup(form) {
    var b = { form: form, email: form.elements.namedItem("email"), busy: false };
    if (!b.email || form.hasAttribute("data-nl-ready")) return;
    form.setAttribute("data-nl-ready", "");
    form.noValidate = true; // the service's words, not the browser's
    var source = form.elements.namedItem("source");
    if (source && !source.value) source.value = location.origin + location.pathname;
    b.status = el("div", "nl-status");
    b.status.id = uniqueID();
    b.status.setAttribute("role", "status");
    b.status.setAttribute("aria-live", "polite");
    b.status.tabIndex = -1;
    var field = b.email.closest("label") || b.email;
    field.parentNode.insertBefore(b.status, field.nextSibling);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      send(b);
    });
  }

  // send posts the form as the browser would, asking for JSON.
  function send(b) {
    if (b.busy) return;
    b.busy = true;
    b.form.setAttribute("aria-busy", "true");
    show(b, "", false);
    fetch(b.form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(b.form)),
      headers: { Accept: "application/json" },
      credentials: "omit"
    }).then(function (res) {
      return res.json().then(function (body) { answer(b, res.ok, body); });
    }).catch(function () {
      show(b, say(b, "failed", FAILED), true);
    }).then(function () {
      b.busy = false;
      b.form.removeAttribute("aria-busy");
    });
  }

  // say is the box's own wording (data-nl-NAME, in the newsletter's
  // language) for a message, else fallback.
  function say(b, name, fallback) {
    return b.form.getAttribute("data-nl-" + name) || fallback;
  }

  function answer(b, ok, body) {
    if (ok) return thank(b, say(b, "thanks", body.message));
    var e = (body && body.error) || {};
    show(b, e.code === "invalid_email" ? say(b, "invalid", e.message) : e.message || say(b, "failed", FAILED), true);
    if (e.field !== "email") return;
    if (e.suggestion) suggest(b, e.suggestion);
    b.email.setAttribute("aria-invalid", "true");
    b.email.setAttribute("aria-describedby", b.status.id);
    b.email.focus();
  }

  // suggest offers the address the reader may have meant as a button that
  // takes it and sends the form again.
  function suggest(b, address) {
    var mean = say(b, "mean", "Did you mean %s?").split("%s");
    var p = el("p", "nl-suggestion", mean[0]);
    p.appendChild(el("strong", "", address));
    p.appendChild(document.createTextNode((mean[1] || "") + " "));
    var use = el("button", "nl-use", say(b, "use", "Use %s").replace("%s", address));
    use.type = "button";
    use.addEventListener("click", function () {
      b.email.value = address;
      send(b);
    });
    p.appendChild(use);
    b.status.appendChild(p);
  }

  // thank puts the message in place of the form's fields, under its title,
  // and moves the focus to it.
  function thank(b, message) {
    Array.prototype.forEach.call(b.form.children, function (c) {
      if (c !== b.status && !/\bnl-(title|description)\b/.test(c.className)) c.hidden = true;
    });
    show(b, message, false);
    b.status.classList.add("nl-done");
    b.status.focus();
  }

  // show says text in the box's live region, as an error or not.
  function show(b, text, error) {
    b.status.textContent = "";
    if (text) b.status.appendChild(el("p", "", text));
    b.status.classList.toggle("nl-error", error);
    if (!error) {
      b.email.removeAttribute("aria-invalid");
      b.email.removeAttribute("aria-describedby");
    }
  }

  function setupAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-nl-signup]"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupAll);
  else setupAll();
})();
