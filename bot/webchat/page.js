/*
 * The staff page around rasa-webchat: the widget, the panel that shows where each
 * answer comes from (topic, intent, confidence, language, sources), the 👍 / 👎
 * feedback, the language switch and the "Quitter" quick exit.
 *
 * Everything that comes from the server or the user is put in the page with
 * textContent or setAttribute on known attributes, never as HTML. The page's own
 * words come from /webchat/texts/<code>.json (bot/webchat/messages_<code>.yml).
 */
(function () {
  "use strict";

  var NEUTRAL_PAGE = "https://www.meteofrance.com/";
  var PANEL_KEY = "atr-webchat-panel";
  var LANGUAGE_KEY = "atr-webchat-language";
  var REFERENCE = "fr";
  var CODE = /^[a-z]{2,3}$/;
  var MAX_CARDS = 100;
  var MAX_COMMENT = 1000;

  var answersList = document.getElementById("answers");
  var panelEmpty = document.getElementById("panel-empty");
  var connection = document.getElementById("connection");
  var chat = document.getElementById("chat");
  var languageSelect = document.getElementById("language");
  var quitting = false;

  // ---------------------------------------------------------------- the page's words
  var words = {};                 // texts of the page's language
  var page = { code: REFERENCE, locale: "fr-FR" };
  var languages = [];             // [{code, name, direction}] from the server

  /* The text at a dotted key, with {name} replaced by values[name] (as text). */
  function t(key, values) {
    var value = key.split(".").reduce(function (node, part) {
      return node && typeof node === "object" ? node[part] : undefined;
    }, words);
    if (typeof value !== "string") return key;
    return value.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function directionOf(code) {
    for (var i = 0; i < languages.length; i++) {
      if (languages[i].code === code) return languages[i].direction === "rtl" ? "rtl" : "ltr";
    }
    return "ltr";
  }

  function fetchTexts(code) {
    if (!CODE.test(code)) return Promise.reject(new Error("code"));
    return fetch("/webchat/texts/" + code + ".json", { credentials: "same-origin" }).then(function (res) {
      if (!res.ok) throw new Error(String(res.status));
      return res.json();
    });
  }

  function storedLanguage() {
    try {
      var code = window.sessionStorage.getItem(LANGUAGE_KEY);
      return code && CODE.test(code) ? code : REFERENCE;
    } catch (e) {
      return REFERENCE;
    }
  }

  function storeLanguage(code) {
    if (quitting) return;
    try { window.sessionStorage.setItem(LANGUAGE_KEY, code); } catch (e) { /* ignore */ }
  }

  /* The conversation's language (the last answer's) sets the chat area's direction. */
  function setChatLanguage(code) {
    if (!code || !CODE.test(code)) return;
    chat.setAttribute("lang", code);
    chat.setAttribute("dir", directionOf(code));
  }

  function applyTexts(data) {
    words = data && typeof data.texts === "object" && data.texts ? data.texts : {};
    languages = Array.isArray(data.languages) ? data.languages.filter(function (l) {
      return l && typeof l.code === "string" && CODE.test(l.code);
    }) : [];
    page.code = typeof data.language === "string" && CODE.test(data.language) ? data.language : REFERENCE;
    page.locale = typeof words.locale === "string" ? words.locale : "fr-FR";
    var root = document.documentElement;
    root.setAttribute("lang", page.code);
    root.setAttribute("dir", directionOf(page.code));
    Array.prototype.forEach.call(document.querySelectorAll("[data-text]"), function (el) {
      el.textContent = t(el.getAttribute("data-text"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-title]"), function (el) {
      el.setAttribute("title", t(el.getAttribute("data-title")));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-label]"), function (el) {
      el.setAttribute("aria-label", t(el.getAttribute("data-label")));
    });
    fillLanguageSelect();
    var last = cards.length ? cards[cards.length - 1].payload.language : null;
    setChatLanguage(last || page.code);
    renderAllCards();
  }

  function fillLanguageSelect() {
    while (languageSelect.firstChild) languageSelect.removeChild(languageSelect.firstChild);
    languages.forEach(function (language) {
      var option = text("option", null, typeof language.name === "string" ? language.name : language.code);
      option.value = language.code;
      option.setAttribute("lang", language.code);
      option.setAttribute("dir", directionOf(language.code));
      languageSelect.appendChild(option);
    });
    languageSelect.value = page.code;
    languageSelect.disabled = languages.length < 2;
  }

  /* What the tests and the staff can read: the last send-to-answer times. */
  var metrics = { latenciesMs: [], lastLatencyMs: null };
  window.atrWebchat = { metrics: metrics };

  // ---------------------------------------------------------------- quick exit
  function quit() {
    if (quitting) return;
    quitting = true;
    document.documentElement.style.visibility = "hidden";
    // Nothing may write the conversation back while the page goes away.
    try { Storage.prototype.setItem = function () {}; } catch (e) { /* ignore */ }
    clearStorage();
    window.location.replace(NEUTRAL_PAGE);
  }

  function clearStorage() {
    try { window.sessionStorage.clear(); } catch (e) { /* ignore */ }
    try { window.localStorage.clear(); } catch (e) { /* ignore */ }
  }

  document.getElementById("quit").addEventListener("click", quit);
  // Escape leaves at once too, wherever the focus is (capture: before the widget sees it).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") quit();
  }, true);
  window.addEventListener("pagehide", function () { if (quitting) clearStorage(); });

  // ---------------------------------------------------------------- panel state
  function loadCards() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(PANEL_KEY) || "[]");
      return Array.isArray(stored) ? stored : [];
    } catch (e) {
      return [];
    }
  }

  var cards = loadCards();

  function saveCards() {
    if (quitting) return;
    try {
      window.sessionStorage.setItem(PANEL_KEY, JSON.stringify(cards.slice(-MAX_CARDS).map(withoutNodes)));
    } catch (e) { /* storage full or disabled: the panel still works */ }
  }

  // ---------------------------------------------------------------- formatting
  function text(tag, className, value) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (value !== undefined && value !== null) node.textContent = String(value);
    return node;
  }

  function safeUrl(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function formatConfidence(value) {
    if (typeof value !== "number" || !isFinite(value)) return "—";
    return value.toLocaleString(page.locale, { style: "percent", maximumFractionDigits: 1 });
  }

  function formatTime(ms) {
    return new Date(ms).toLocaleTimeString(page.locale, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function asCode(value) {
    return typeof value === "string" && CODE.test(value) ? value : null;
  }

  function asString(value, max) {
    return typeof value === "string" ? value.slice(0, max || 500) : null;
  }

  /* Only the fields the panel knows, with the types it expects. */
  function readPayload(custom) {
    if (!custom || typeof custom !== "object") return null;
    var topic = asString(custom.topic, 80);
    if (!topic) return null;
    var sources = Array.isArray(custom.sources) ? custom.sources.slice(0, 20) : [];
    return {
      topic: topic,
      intent: asString(custom.intent, 80),
      confidence: typeof custom.confidence === "number" && isFinite(custom.confidence) ? custom.confidence : null,
      // The language answered in, the one detected in the question, and whether the
      // answer is a translation a native speaker has reviewed.
      language: asCode(custom.language),
      detectedLanguage: asCode(custom.detected_language),
      translationReviewed: typeof custom.translation_reviewed === "boolean" ? custom.translation_reviewed : null,
      sources: sources
        .filter(function (s) { return s && typeof s === "object"; })
        .map(function (s) {
          return {
            title: asString(s.title),
            reference: asString(s.reference),
            url: asString(s.url, 2000),
            supports: asString(s.supports, 500),
            // "" = the payload says nobody checked it; null = the payload does not say.
            verifiedOn: typeof s.verified_on === "string" ? asString(s.verified_on, 10)
              : (s.verified_on === null ? "" : null)
          };
        })
    };
  }

  // ---------------------------------------------------------------- rendering
  function field(list, label, value, className) {
    list.appendChild(text("dt", null, label));
    var dd = text("dd", className, value);
    list.appendChild(dd);
    return dd;
  }

  /* "Langue détectée : en — réponse en en — traduction non relue" */
  function languageLine(payload) {
    if (!payload.language && !payload.detectedLanguage) return "—";
    var review = "—";
    if (payload.language === REFERENCE) review = t("panel.original");
    else if (payload.translationReviewed === true) review = t("panel.reviewed");
    else if (payload.translationReviewed === false) review = t("panel.not_reviewed");
    return t("panel.language_line", {
      detected: payload.detectedLanguage || t("panel.not_detected"),
      answered: payload.language || "—",
      review: review
    });
  }

  function renderSources(dd, sources) {
    if (!sources.length) {
      dd.textContent = t("panel.no_source");
      return;
    }
    var ul = document.createElement("ul");
    sources.forEach(function (source) {
      var li = document.createElement("li");
      var label = source.title || source.reference || source.url || t("panel.source");
      var href = safeUrl(source.url);
      if (href) {
        var a = text("a", "source-link", label);
        a.setAttribute("href", href);
        a.setAttribute("target", "_blank");
        a.setAttribute("rel", "noopener noreferrer");
        li.appendChild(a);
      } else {
        li.appendChild(text("span", "source-title", label));
      }
      if (source.reference && source.reference !== label) {
        li.appendChild(text("span", "source-reference", " — " + source.reference));
      }
      // What the source supports, and whether someone read it there (textContent only).
      if (source.supports) {
        li.appendChild(text("div", "source-supports", t("panel.supports", { text: source.supports })));
      }
      if (typeof source.verifiedOn === "string") {
        li.appendChild(text("div", "source-verified", source.verifiedOn
          ? t("panel.verified_on", { date: source.verifiedOn })
          : t("panel.not_verified")));
      }
      ul.appendChild(li);
    });
    dd.appendChild(ul);
  }

  function renderLatency(card, node) {
    node.textContent = typeof card.latencyMs === "number"
      ? t("panel.latency", { ms: Math.round(card.latencyMs).toLocaleString(page.locale) })
      : "";
  }

  function renderFeedback(card, container) {
    var form = text("form", "feedback");
    form.setAttribute("novalidate", "");
    var legend = text("p", "feedback-question", t("feedback.useful"));
    form.appendChild(legend);

    var votes = text("div", "votes");
    votes.setAttribute("role", "group");
    votes.setAttribute("aria-label", t("feedback.useful"));
    var up = text("button", "vote vote-up", t("feedback.vote_yes"));
    up.type = "button";
    up.setAttribute("aria-label", t("feedback.vote_yes_label"));
    up.title = t("feedback.vote_yes_label");
    var down = text("button", "vote vote-down", t("feedback.vote_no"));
    down.type = "button";
    down.setAttribute("aria-label", t("feedback.vote_no_label"));
    down.title = t("feedback.vote_no_label");
    votes.appendChild(up);
    votes.appendChild(down);
    form.appendChild(votes);

    var commentId = "comment-" + card.id;
    var label = text("label", "feedback-label", t("feedback.comment"));
    label.setAttribute("for", commentId);
    var comment = document.createElement("textarea");
    comment.id = commentId;
    comment.className = "feedback-comment";
    comment.rows = 2;
    comment.maxLength = MAX_COMMENT;
    var send = text("button", "feedback-send", t("feedback.send"));
    send.type = "submit";
    var status = text("p", "feedback-status");
    status.setAttribute("role", "status");
    form.appendChild(label);
    form.appendChild(comment);
    form.appendChild(send);
    form.appendChild(status);

    var chosen = card.feedback ? card.feedback.vote : null;

    function show() {
      up.setAttribute("aria-pressed", String(chosen === "up"));
      down.setAttribute("aria-pressed", String(chosen === "down"));
      var sent = Boolean(card.feedback && card.feedback.sent);
      [up, down, comment, send].forEach(function (el) { el.disabled = sent; });
      if (sent) {
        comment.value = card.feedback.comment || "";
        status.textContent = t("feedback.thanks");
      } else {
        send.disabled = !chosen;
      }
    }

    function choose(vote) {
      chosen = vote;
      status.textContent = "";
      show();
    }

    up.addEventListener("click", function () { choose("up"); });
    down.addEventListener("click", function () { choose("down"); });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen || (card.feedback && card.feedback.sent)) return;
      var body = {
        topic: card.payload.topic,
        intent: card.payload.intent,
        confidence: card.payload.confidence,
        question: card.question || t("feedback.unknown_question"),
        vote: chosen
      };
      var note = comment.value.trim().slice(0, MAX_COMMENT);
      if (note) body.comment = note;
      send.disabled = true;
      status.textContent = t("feedback.sending");
      fetch("/webchat/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin"
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (data) {
          if (!res.ok) throw new Error(typeof data.error === "string" ? data.error : "");
          card.feedback = { vote: chosen, comment: note, sent: true };
          saveCards();
          show();
        });
      }).catch(function (error) {
        status.textContent = error.message
          ? t("feedback.failed_because", { reason: error.message })
          : t("feedback.failed");
        send.disabled = false;
      });
    });

    show();
    container.appendChild(form);
  }

  function renderCard(card) {
    var li = text("li", "answer");
    li.dataset.topic = card.payload.topic;

    var head = text("div", "answer-head");
    head.appendChild(text("span", "answer-time", formatTime(card.receivedAt)));
    var latency = text("span", "answer-latency");
    renderLatency(card, latency);
    head.appendChild(latency);
    li.appendChild(head);

    if (card.question) {
      var q = text("p", "answer-question");
      q.appendChild(text("span", "label", t("panel.question")));
      var asked = text("span", "answer-question-text", card.question);
      asked.setAttribute("dir", "auto");  // an Arabic question reads right to left
      q.appendChild(asked);
      li.appendChild(q);
    }

    var dl = text("dl", "answer-fields");
    field(dl, t("panel.topic"), card.payload.topic, "answer-topic");
    field(dl, t("panel.intent"), card.payload.intent || "—", "answer-intent");
    field(dl, t("panel.confidence"), formatConfidence(card.payload.confidence), "answer-confidence");
    var language = field(dl, t("panel.language"), languageLine(card.payload), "answer-language");
    // The raw fields too, for whoever reads the page's structure (and the tests).
    if (card.payload.detectedLanguage) language.dataset.detected = card.payload.detectedLanguage;
    if (card.payload.language) language.dataset.language = card.payload.language;
    if (card.payload.translationReviewed !== null) language.dataset.reviewed = String(card.payload.translationReviewed);
    renderSources(field(dl, t("panel.sources"), null, "answer-sources"), card.payload.sources);
    li.appendChild(dl);

    renderFeedback(card, li);
    card.node = { item: li, latency: latency };
    panelEmpty.hidden = true;
    answersList.insertBefore(li, answersList.firstChild);
  }

  function renderAllCards() {
    while (answersList.firstChild) answersList.removeChild(answersList.firstChild);
    cards.forEach(renderCard);
  }

  function withoutNodes(card) {
    return {
      id: card.id, payload: card.payload, question: card.question, receivedAt: card.receivedAt,
      latencyMs: card.latencyMs, turn: card.turn, feedback: card.feedback
    };
  }

  // ---------------------------------------------------------------- turns and timing
  var turnCounter = 0;
  var turn = null; // { id, sentAt, answersAtSend, latencyMs }

  function answersShown() {
    return chat.querySelectorAll(".rw-response").length;
  }

  function startTurn() {
    turnCounter += 1;
    turn = {
      id: turnCounter + "-" + Date.now(),
      sentAt: performance.now(),
      answersAtSend: answersShown(),
      latencyMs: null
    };
  }

  // A question leaves when the widget's form is submitted or a quick reply is pressed
  // (capture phase: before the widget handles the event).
  chat.addEventListener("submit", function (event) {
    var input = event.target.querySelector("textarea, input");
    if (input && input.value && input.value.trim()) startTurn();
  }, true);
  chat.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".rw-reply")) startTurn();
  }, true);

  // The answer has appeared when the conversation shows one more bot message than when
  // the question left (counting, because the widget re-mounts old messages at times).
  function watchAnswers() {
    new MutationObserver(function () {
      markDirections();
      if (!turn || turn.latencyMs !== null || answersShown() <= turn.answersAtSend) return;
      turn.latencyMs = performance.now() - turn.sentAt;
      metrics.lastLatencyMs = turn.latencyMs;
      metrics.latenciesMs.push(turn.latencyMs);
      cards.forEach(function (card) {
        if (card.turn === turn.id) {
          card.latencyMs = turn.latencyMs;
          if (card.node) renderLatency(card, card.node.latency);
        }
      });
      saveCards();
    }).observe(chat, { childList: true, subtree: true });
  }

  /* Each bubble takes its direction from its own text (Arabic: right to left). */
  function markDirections() {
    Array.prototype.forEach.call(
      chat.querySelectorAll(".rw-response:not([dir]), .rw-client:not([dir]), .rw-reply:not([dir]), .rw-new-message:not([dir])"),
      function (el) { el.setAttribute("dir", "auto"); }
    );
  }

  function onBotUttered(message) {
    if (quitting || !message || typeof message !== "object") return;
    var payload = readPayload(message.custom);
    if (!payload) return;
    if (payload.language) setChatLanguage(payload.language);
    var card = {
      id: Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8),
      payload: payload,
      question: asString(message.question, 2000),
      receivedAt: Date.now(),
      latencyMs: turn ? turn.latencyMs : null,
      turn: turn ? turn.id : null,
      feedback: null
    };
    cards.push(card);
    if (cards.length > MAX_CARDS) {
      var dropped = cards.shift();
      if (dropped.node) dropped.node.item.remove();
    }
    renderCard(card);
    saveCards();
  }

  // Cards kept from before a reload (the panel's texts are not loaded yet: drawn by applyTexts).
  cards = cards.map(function (stored) {
    var card = withoutNodes(stored);
    if (!card.payload || !readPayload(card.payload)) return null;
    card.payload = readPayload(card.payload);
    card.question = asString(card.question, 2000);
    return card;
  }).filter(Boolean);

  // ---------------------------------------------------------------- the widget
  /* The state, and the key of its words (kept so that a language switch relabels it). */
  function setConnection(state, key) {
    connection.dataset.state = state;
    connection.setAttribute("data-text", "connection." + key);
    connection.textContent = t("connection." + key);
  }

  var widget = null;  // rasa-webchat's handle (sendMessage), given through innerRef

  /* rasa-webchat's props in the page's language. Mounting again on the same element
     only updates the props (React keeps the running widget and its socket). */
  function widgetProps() {
    return {
      initPayload: "/salutation",
      socketUrl: window.location.origin,
      socketPath: "/socket.io/",
      title: t("title"),
      inputTextFieldHint: t("input_hint"),
      connectingText: t("connecting_text"),
      embedded: true,
      showCloseButton: false,
      showFullScreenButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      customData: {},
      params: { storage: "session" },
      customMessageDelay: noDelay,
      innerRef: function (ref) { if (ref) widget = ref; },
      onSocketEvent: socketEvents
    };
  }

  function noDelay() { return 0; }

  var socketEvents = {
    bot_uttered: onBotUttered,
    connect: function () { setConnection("up", "up"); },
    disconnect: function () { setConnection("down", "lost"); },
    connect_error: function () { setConnection("down", "unreachable"); }
  };

  function mountWidget() {
    window.WebChat.default(widgetProps(), chat);
  }

  /* The staff switch: the page's words, and the bot's answers (the same payload as the
     bot's own language buttons; the widget sends it without showing it). */
  function chooseLanguage(code) {
    languageSelect.disabled = true;
    return fetchTexts(code).then(function (data) {
      applyTexts(data);
      storeLanguage(page.code);
      mountWidget();
      if (widget && typeof widget.sendMessage === "function") {
        startTurn();
        widget.sendMessage('/choisir_langue{"language":"' + page.code + '"}');
      }
    }).catch(function () {
      languageSelect.value = page.code;
      languageSelect.disabled = languages.length < 2;
    });
  }

  languageSelect.addEventListener("change", function () {
    if (languageSelect.value !== page.code) chooseLanguage(languageSelect.value);
  });

  function start(data) {
    applyTexts(data);
    if (!window.WebChat || typeof window.WebChat.default !== "function") {
      document.getElementById("widget-missing").hidden = false;
      setConnection("down", "missing");
      return;
    }
    watchAnswers();
    mountWidget();
  }

  // The language chosen earlier in this tab, else French; French if that one fails.
  fetchTexts(storedLanguage())
    .catch(function () { return fetchTexts(REFERENCE); })
    .then(start, function () {
      document.getElementById("widget-missing").hidden = false;
      connection.dataset.state = "down";
    });
})();
