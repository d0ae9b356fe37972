/*
 * The staff page around rasa-webchat: the widget, the panel that shows where each
 * answer comes from (topic, intent, confidence, sources), the 👍 / 👎 feedback, and the
 * "Quitter" quick exit.
 *
 * Everything that comes from the server or the user is put in the page with
 * textContent or setAttribute on known attributes, never as HTML.
 */
(function () {
  "use strict";

  var TITLE = "Assistant traite des êtres humains — essai pour les équipes";
  var NEUTRAL_PAGE = "https://www.meteofrance.com/";
  var PANEL_KEY = "atr-webchat-panel";
  var MAX_CARDS = 100;
  var MAX_COMMENT = 1000;

  var answersList = document.getElementById("answers");
  var panelEmpty = document.getElementById("panel-empty");
  var connection = document.getElementById("connection");
  var chat = document.getElementById("chat");
  var quitting = false;

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
    return value.toLocaleString("fr-FR", { style: "percent", maximumFractionDigits: 1 });
  }

  function formatTime(ms) {
    return new Date(ms).toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
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

  function renderSources(dd, sources) {
    if (!sources.length) {
      dd.textContent = "Aucune source";
      return;
    }
    var ul = document.createElement("ul");
    sources.forEach(function (source) {
      var li = document.createElement("li");
      var label = source.title || source.reference || source.url || "Source";
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
        li.appendChild(text("div", "source-supports", "Appuie : " + source.supports));
      }
      if (typeof source.verifiedOn === "string") {
        li.appendChild(text("div", "source-verified", source.verifiedOn
          ? "Vérifié le " + source.verifiedOn
          : "Non vérifié : à contrôler avant de s'y fier"));
      }
      ul.appendChild(li);
    });
    dd.appendChild(ul);
  }

  function renderLatency(card, node) {
    node.textContent = typeof card.latencyMs === "number"
      ? "Réponse affichée en " + Math.round(card.latencyMs).toLocaleString("fr-FR") + " ms"
      : "";
  }

  function renderFeedback(card, container) {
    var form = text("form", "feedback");
    form.setAttribute("novalidate", "");
    var legend = text("p", "feedback-question", "Utile ?");
    form.appendChild(legend);

    var votes = text("div", "votes");
    votes.setAttribute("role", "group");
    votes.setAttribute("aria-label", "Utile ?");
    var up = text("button", "vote vote-up", "👍 Oui");
    up.type = "button";
    up.setAttribute("aria-label", "Oui, utile");
    up.title = "Oui, utile";
    var down = text("button", "vote vote-down", "👎 Non");
    down.type = "button";
    down.setAttribute("aria-label", "Non, pas utile");
    down.title = "Non, pas utile";
    votes.appendChild(up);
    votes.appendChild(down);
    form.appendChild(votes);

    var commentId = "comment-" + card.id;
    var label = text("label", "feedback-label", "Commentaire (facultatif)");
    label.setAttribute("for", commentId);
    var comment = document.createElement("textarea");
    comment.id = commentId;
    comment.className = "feedback-comment";
    comment.rows = 2;
    comment.maxLength = MAX_COMMENT;
    var send = text("button", "feedback-send", "Envoyer");
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
        status.textContent = "Merci : avis enregistré.";
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
        question: card.question || "(question inconnue)",
        vote: chosen
      };
      var note = comment.value.trim().slice(0, MAX_COMMENT);
      if (note) body.comment = note;
      send.disabled = true;
      status.textContent = "Envoi…";
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
        status.textContent = "Échec de l'envoi" + (error.message ? " : " + error.message : ".") + " Réessayez.";
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
      q.appendChild(text("span", "label", "Question : "));
      q.appendChild(text("span", "answer-question-text", card.question));
      li.appendChild(q);
    }

    var dl = text("dl", "answer-fields");
    field(dl, "Sujet", card.payload.topic, "answer-topic");
    field(dl, "Intention", card.payload.intent || "—", "answer-intent");
    field(dl, "Confiance", formatConfidence(card.payload.confidence), "answer-confidence");
    renderSources(field(dl, "Sources", null, "answer-sources"), card.payload.sources);
    li.appendChild(dl);

    renderFeedback(card, li);
    card.node = { item: li, latency: latency };
    panelEmpty.hidden = true;
    answersList.insertBefore(li, answersList.firstChild);
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

  function onBotUttered(message) {
    if (quitting || !message || typeof message !== "object") return;
    var payload = readPayload(message.custom);
    if (!payload) return;
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

  // Cards kept from before a reload.
  cards = cards.map(function (stored) {
    var card = withoutNodes(stored);
    if (!card.payload || !readPayload(card.payload)) return null;
    card.payload = readPayload(card.payload);
    card.question = asString(card.question, 2000);
    return card;
  }).filter(Boolean);
  cards.forEach(renderCard);

  // ---------------------------------------------------------------- the widget
  function setConnection(state, label) {
    connection.dataset.state = state;
    connection.textContent = label;
  }

  if (!window.WebChat || typeof window.WebChat.default !== "function") {
    document.getElementById("widget-missing").hidden = false;
    setConnection("down", "Widget absent");
    return;
  }

  watchAnswers();
  window.WebChat.default({
    initPayload: "/salutation",
    socketUrl: window.location.origin,
    socketPath: "/socket.io/",
    title: TITLE,
    inputTextFieldHint: "Écrivez votre question…",
    connectingText: "Connexion au serveur…",
    embedded: true,
    showCloseButton: false,
    showFullScreenButton: false,
    hideWhenNotConnected: false,
    withRules: false,
    customData: {},
    params: { storage: "session" },
    customMessageDelay: function () { return 0; },
    onSocketEvent: {
      bot_uttered: onBotUttered,
      connect: function () { setConnection("up", "Connecté"); },
      disconnect: function () { setConnection("down", "Connexion perdue, nouvelle tentative…"); },
      connect_error: function () { setConnection("down", "Serveur injoignable, nouvelle tentative…"); }
    }
  }, chat);
})();
