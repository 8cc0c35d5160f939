/* Shared by the customer and staff pages: configuration, API calls, who is signed in,
   and small DOM and formatting helpers. Plain ES2020, no build step, no dependencies. */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("page-config").textContent);

  // Every API path is resolved against the page's own URL, so the pages work under any
  // prefix (API Gateway's stage, LocalStack's /restapis/<id>/<stage>/_user_request_).
  function apiUrl(path) {
    return new URL(path.replace(/^\//, ""), document.baseURI).toString();
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /* ---------------------------------------------------------------- who is signed in */

  const IDENTITY_KEY = "cinema.identity";
  const TOKEN_KEY = "cinema.token";
  const listeners = [];

  function decodeClaims(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(
        Array.from(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), "=")), (c) =>
          "%" + c.charCodeAt(0).toString(16).padStart(2, "0")
        ).join("")
      );
      return JSON.parse(json);
    } catch (error) {
      return null;
    }
  }

  const identity = {
    current() {
      let stored = null;
      try {
        stored = JSON.parse(localStorage.getItem(IDENTITY_KEY) || "null");
      } catch (error) {
        stored = null;
      }
      if (!stored || !stored.userId) return null;
      if (config.authMode === "jwt") {
        const token = sessionStorage.getItem(TOKEN_KEY);
        const claims = token && decodeClaims(token);
        if (!claims || claims.sub !== stored.userId) return null;
        if (claims.exp && claims.exp * 1000 < Date.now()) return null;
        const roles = Array.isArray(claims.roles) ? claims.roles : [];
        return { userId: stored.userId, email: stored.email, token, admin: roles.includes("admin") };
      }
      return { userId: stored.userId, email: stored.email, token: null, admin: true };
    },
    set(userId, email, token) {
      localStorage.setItem(IDENTITY_KEY, JSON.stringify({ userId, email }));
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
      listeners.forEach((listener) => listener(identity.current()));
    },
    clear() {
      localStorage.removeItem(IDENTITY_KEY);
      sessionStorage.removeItem(TOKEN_KEY);
      listeners.forEach((listener) => listener(null));
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };

  /* ---------------------------------------------------------------- HTTP */

  async function call(method, path, options = {}) {
    const headers = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    const who = identity.current();
    if (options.auth && who && who.token) headers.Authorization = `Bearer ${who.token}`;
    if (options.etag) headers["If-None-Match"] = options.etag;
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    let response;
    try {
      response = await fetch(apiUrl(path), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        cache: "no-store",
        credentials: "same-origin",
      });
    } catch (error) {
      return { status: 0, ok: false, data: null, headers: new Headers(), message: "The server cannot be reached. Check your connection and try again." };
    }
    const text = response.status === 304 ? "" : await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = null;
      }
    }
    let message = (data && data.message) || `${response.status} ${response.statusText}`;
    if (response.status === 401 && config.authMode === "jwt") message = "Your sign-in is missing or has expired. Please sign in again.";
    if (response.status === 429) message = `Too many requests. Please wait ${response.headers.get("Retry-After") || "a few"} seconds and try again.`;
    if (response.status === 503) message = "The service is busy right now. Please try again in a moment.";
    return { status: response.status, ok: response.ok, data, headers: response.headers, message };
  }

  /* ---------------------------------------------------------------- DOM helpers */

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") element.className = value;
      else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
      else if (name === "text") element.textContent = value;
      else element.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function announce(text) {
    const region = document.getElementById("announcer");
    region.textContent = "";
    window.setTimeout(() => {
      region.textContent = text;
    }, 30);
  }

  function notice(kind, text, role) {
    return h("div", { class: `notice notice--${kind}`, role: role || (kind === "error" ? "alert" : "status") }, text);
  }

  /* ---------------------------------------------------------------- formatting */

  const dateTime = new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

  function formatTime(iso) {
    return dateTime.format(new Date(iso));
  }

  // Money travels as decimal strings ("25.00"); sums are done in integer cents, never floats.
  function cents(amount) {
    const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount));
    if (!match) return NaN;
    return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
  }

  function money(totalCents) {
    const whole = Math.floor(totalCents / 100);
    return `${whole}.${String(totalCents % 100).padStart(2, "0")}`;
  }

  function joinNames(names) {
    if (names.length <= 1) return names.join("");
    return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  }

  /* ---------------------------------------------------------------- sign-in */

  function toLocalRedirect() {
    return `${location.origin}${location.pathname}`;
  }

  function base64url(bytes) {
    return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function oidcDiscovery() {
    const response = await fetch(`${config.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
    if (!response.ok) throw new Error(`the issuer answered ${response.status}`);
    return response.json();
  }

  // OpenID Connect authorization code flow with PKCE: the issuer's own login page.
  async function oidcStart(email) {
    const discovery = await oidcDiscovery();
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
    sessionStorage.setItem(
      "cinema.oidc",
      JSON.stringify({ verifier, state, email, tokenEndpoint: discovery.token_endpoint, hash: location.hash })
    );
    const query = new URLSearchParams({
      response_type: "code",
      client_id: config.oidcClientId,
      redirect_uri: toLocalRedirect(),
      scope: "openid email",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
    });
    location.assign(`${discovery.authorization_endpoint}?${query}`);
  }

  async function oidcFinish() {
    const params = new URLSearchParams(location.search);
    const pending = JSON.parse(sessionStorage.getItem("cinema.oidc") || "null");
    if (!params.get("code") || !pending) return null;
    sessionStorage.removeItem("cinema.oidc");
    history.replaceState(null, "", `${location.pathname}${pending.hash || ""}`);
    if (params.get("state") !== pending.state) return "The sign-in answer did not match the request; please try again.";
    const response = await fetch(pending.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: toLocalRedirect(),
        client_id: config.oidcClientId,
        code_verifier: pending.verifier,
      }),
    });
    const answer = response.ok ? await response.json() : null;
    const token = answer && answer.access_token;
    const claims = token && decodeClaims(token);
    if (!claims || !claims.sub) return "The sign-in did not give a usable token.";
    identity.set(claims.sub, claims.email || pending.email || "", token);
    return null;
  }

  /** A sign-in form for the page's auth mode. ``onDone`` runs once someone is signed in. */
  function signInForm(options = {}) {
    const error = h("div", { "aria-live": "assertive" });
    const emailInput = h("input", { id: "sign-in-email", type: "email", autocomplete: "email", required: true });
    const form = h("form", { class: "panel sign-in", "aria-labelledby": "sign-in-title", novalidate: true });
    const fields = [];
    let userInput = null;
    let tokenInput = null;
    let adminInput = null;
    const jwt = config.authMode === "jwt";

    if (!jwt || config.developmentLogin) {
      userInput = h("input", { id: "sign-in-user", autocomplete: "username", required: true, maxlength: 128 });
      fields.push(h("div", {}, h("label", { for: "sign-in-user" }, "User id"), userInput));
    }
    fields.push(h("div", {}, h("label", { for: "sign-in-email" }, "E-mail"), emailInput));
    if (jwt && config.developmentLogin) {
      adminInput = h("input", { id: "sign-in-admin", type: "checkbox" });
      if (options.admin) adminInput.checked = true;
      fields.push(h("div", { class: "checkbox" }, h("label", { for: "sign-in-admin" }, adminInput, " Staff (admin role)")));
    } else if (jwt) {
      tokenInput = h("textarea", { id: "sign-in-token", rows: 3, cols: 40, spellcheck: "false" });
      fields.push(h("div", {}, h("label", { for: "sign-in-token" }, "Bearer token"), tokenInput));
    }

    const submitLabel = !jwt ? "Continue" : config.developmentLogin ? "Sign in (development)" : "Use this token";
    form.append(
      h("h2", { id: "sign-in-title" }, options.title || "Sign in"),
      options.reason ? h("p", {}, options.reason) : null,
      !jwt ? h("p", { class: "muted" }, "This server trusts the user id you type (AUTH_MODE=off, local development).") : null,
      jwt && config.developmentLogin
        ? h("p", { class: "muted" }, `Development login: any user id, no password. It exists only in the local and test stages (this is ${config.stage}).`)
        : null,
      h("div", { class: "field-row" }, fields),
      error,
      h("div", { class: "actions", style: "margin-top: 0.8rem" }, h("button", { type: "submit" }, submitLabel))
    );

    if (jwt && !config.developmentLogin && config.oidcClientId) {
      form.querySelector(".actions").append(
        h("button", {
          type: "button",
          class: "secondary",
          onclick: () => oidcStart(emailInput.value.trim()).catch((e) => {
            error.replaceChildren(notice("error", `The sign-in page cannot be reached: ${e.message}`));
          }),
        }, "Sign in with your account")
      );
    }

    const who = identity.current();
    if (who) {
      emailInput.value = who.email || "";
      if (userInput) userInput.value = who.userId;
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const email = emailInput.value.trim();
      const problems = [];
      if (userInput && !userInput.value.trim()) problems.push("Type a user id.");
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push("Type an e-mail address like ana@example.com.");
      if (tokenInput && !decodeClaims(tokenInput.value.trim())) problems.push("Paste a JWT (three parts separated by dots).");
      if (problems.length) {
        error.replaceChildren(notice("error", problems.join(" ")));
        return;
      }
      if (!jwt) {
        identity.set(userInput.value.trim(), email, null);
      } else if (config.developmentLogin) {
        const answer = await call("POST", "/auth/dev-token", {
          body: { userId: userInput.value.trim(), admin: Boolean(adminInput && adminInput.checked) },
        });
        if (!answer.ok) {
          error.replaceChildren(notice("error", `Sign-in failed: ${answer.message}`));
          return;
        }
        identity.set(answer.data.userId, email, answer.data.token);
      } else {
        const token = tokenInput.value.trim();
        identity.set(decodeClaims(token).sub, email, token);
      }
      if (options.onDone) options.onDone(identity.current());
    });
    return form;
  }

  function renderIdentity(container, onSignIn) {
    const who = identity.current();
    container.replaceChildren();
    if (who) {
      container.append(
        h("span", {}, "Signed in as ", h("strong", {}, who.userId), who.admin && config.authMode === "jwt" ? " (staff)" : ""),
        h("button", { type: "button", class: "secondary", onclick: () => identity.clear() }, "Sign out")
      );
    } else {
      container.append(h("button", { type: "button", class: "secondary", onclick: onSignIn }, "Sign in"));
    }
  }

  window.Cinema = {
    config,
    apiUrl,
    call,
    uuid,
    identity,
    h,
    announce,
    notice,
    formatTime,
    cents,
    money,
    joinNames,
    signInForm,
    renderIdentity,
    oidcFinish,
  };
})();
