/* The customer page: the programme, a live seat map, holds with a countdown taken from the
   server's own times, payment with a receipt, and "my purchases". */
(function () {
  "use strict";

  const { config, call, h, announce, notice, identity } = window.Cinema;
  const main = document.getElementById("main");
  const PAGE_SIZE = 20;

  /* ------------------------------------------------------------------ routing */

  let leaveView = () => {};

  function route() {
    leaveView();
    leaveView = () => {};
    const hash = location.hash.replace(/^#/, "") || "/";
    const session = /^\/session\/([0-9a-fA-F-]{36})$/.exec(hash);
    if (session) seatView(session[1]);
    else if (hash === "/purchases") purchasesView();
    else programmeView();
  }

  function showSignIn(reason, onDone) {
    const existing = document.getElementById("sign-in-slot");
    const slot = existing || h("div", { id: "sign-in-slot" });
    if (!existing) main.prepend(slot);
    slot.replaceChildren(
      Cinema.signInForm({
        reason,
        onDone: (who) => {
          slot.remove();
          announce(`Signed in as ${who.userId}.`);
          if (onDone) onDone(who);
        },
      })
    );
    const first = slot.querySelector("input, textarea");
    if (first) first.focus();
  }

  function heading(text) {
    const element = h("h1", { tabindex: "-1" }, text);
    return element;
  }

  /* ------------------------------------------------------------------ programme */

  function programmeView() {
    document.title = "Cinema: programme";
    const movieInput = h("input", { id: "movie-filter", type: "search", maxlength: 255, placeholder: "e.g. Avatar" });
    const dayInput = h("input", { id: "day-filter", type: "date" });
    const list = h("ul", { class: "sessions", "aria-labelledby": "programme-title" });
    const status = h("p", { class: "muted", role: "status" });
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more sessions");
    let offset = 0;
    let loading = 0; // answers of a superseded search are dropped

    async function load(reset) {
      const ticket = ++loading;
      if (reset) {
        offset = 0;
        list.replaceChildren();
      }
      const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
      if (movieInput.value.trim()) query.set("movie", movieInput.value.trim());
      if (dayInput.value) {
        // The chosen day in the viewer's own time zone.
        const start = new Date(`${dayInput.value}T00:00:00`);
        const end = new Date(start.getTime());
        end.setDate(end.getDate() + 1);
        query.set("from", start.toISOString());
        query.set("to", end.toISOString());
      }
      status.textContent = "Loading sessions…";
      const answer = await call("GET", `/sessions?${query}`);
      if (ticket !== loading) return;
      if (!answer.ok) {
        status.replaceChildren(notice("error", `The programme cannot be loaded: ${answer.message}`));
        return;
      }
      for (const session of answer.data) list.append(sessionCard(session));
      offset += answer.data.length;
      const total = Number(answer.headers.get("X-Total-Count") || offset);
      status.textContent = total === 0 ? "No sessions match." : `Showing ${offset} of ${total} sessions.`;
      more.hidden = offset >= total;
    }

    main.replaceChildren(
      heading("What's on"),
      h(
        "form",
        {
          class: "panel",
          role: "search",
          onsubmit: (event) => {
            event.preventDefault();
            load(true);
          },
        },
        h(
          "div",
          { class: "field-row" },
          h("div", {}, h("label", { for: "movie-filter" }, "Movie"), movieInput),
          h("div", {}, h("label", { for: "day-filter" }, "Day"), dayInput),
          h("div", {}, h("button", { type: "submit" }, "Search"))
        )
      ),
      h("h2", { id: "programme-title" }, "Sessions"),
      status,
      list,
      more
    );
    more.addEventListener("click", () => load(false));
    load(true);
  }

  function sessionCard(session) {
    const free = session.availableSeats;
    return h(
      "li",
      { class: "session-card" },
      h(
        "div",
        {},
        h("h3", {}, session.movieName),
        h(
          "dl",
          {},
          h("div", {}, h("dt", {}, "Room"), h("dd", {}, session.roomNumber)),
          h("div", {}, h("dt", {}, "Starts"), h("dd", {}, h("time", { datetime: session.startTime }, Cinema.formatTime(session.startTime)))),
          h("div", {}, h("dt", {}, "Price"), h("dd", {}, session.ticketPrice)),
          h("div", {}, h("dt", {}, "Free seats"), h("dd", {}, `${free} of ${session.totalSeats}`))
        )
      ),
      h("a", { class: "button", href: `#/session/${session.id}`, "aria-label": `Choose seats for ${session.movieName}, ${Cinema.formatTime(session.startTime)}` }, "Choose seats")
    );
  }

  /* ------------------------------------------------------------------ seat map */

  function seatView(sessionId) {
    document.title = "Cinema: choose your seats";
    const state = {
      session: null,
      seats: [],
      byId: new Map(),
      etag: null,
      selected: new Set(),
      hold: null, // {id, seatIds: Set, seatNumbers, deadline (performance.now() clock), unitPrice}
      soldToMe: new Set(),
      generation: 0, // bumped by every change this page makes; older poll answers are dropped
      busy: false,
      layoutKey: "",
      left: false,
    };
    const map = h("div", { class: "seat-map", role: "group", "aria-label": "Seats; use the arrow keys to move between seats" });
    const messages = h("div", { id: "seat-messages" });
    const side = h("div", { class: "summary panel", id: "booking-panel" });
    let pollTimer = null;
    let countdownTimer = null;

    main.replaceChildren(
      h("p", {}, h("a", { href: "#/" }, "← All sessions")),
      heading("Loading session…"),
      messages,
      h(
        "div",
        { class: "seat-layout" },
        h(
          "section",
          { "aria-labelledby": "map-title" },
          h("h2", { id: "map-title" }, "Seat map"),
          legend(),
          h("div", { class: "screen", "aria-hidden": "true" }, "SCREEN"),
          map
        ),
        h("section", { "aria-label": "Your booking" }, side)
      )
    );

    leaveView = () => {
      state.left = true;
      window.clearTimeout(pollTimer);
      window.clearInterval(countdownTimer);
      document.removeEventListener("visibilitychange", onVisibility);
    };

    function say(kind, text) {
      messages.replaceChildren(notice(kind, text));
    }

    /* -------- loading and live updates */

    async function loadSession() {
      const answer = await call("GET", `/sessions/${sessionId}`);
      if (!answer.ok) {
        main.querySelector("h1").textContent = "Session not found";
        say("error", answer.status === 404 ? "This session does not exist (any more)." : `The session cannot be loaded: ${answer.message}`);
        return false;
      }
      state.session = answer.data;
      const title = main.querySelector("h1");
      title.textContent = answer.data.movieName;
      title.after(
        h(
          "p",
          { class: "muted" },
          `${answer.data.roomNumber} · `,
          h("time", { datetime: answer.data.startTime }, Cinema.formatTime(answer.data.startTime)),
          ` · ${answer.data.ticketPrice} per seat`
        )
      );
      document.title = `Cinema: ${answer.data.movieName}`;
      return true;
    }

    async function refresh(force) {
      const generation = state.generation;
      const answer = await call("GET", `/sessions/${sessionId}/seats`, { etag: force ? null : state.etag });
      if (state.left || generation !== state.generation) return false;
      if (answer.status === 304) return true;
      if (!answer.ok) {
        if (answer.status !== 0 && answer.status !== 429) say("error", `The seat map cannot be loaded: ${answer.message}`);
        return false;
      }
      state.etag = answer.headers.get("ETag");
      applySeats(answer.data);
      return true;
    }

    function schedulePoll() {
      window.clearTimeout(pollTimer);
      pollTimer = window.setTimeout(async () => {
        if (state.left) return;
        if (!document.hidden) await refresh(false);
        if (!state.left) schedulePoll();
      }, config.pollIntervalMs);
    }

    function onVisibility() {
      if (!document.hidden && !state.left) refresh(false);
    }
    document.addEventListener("visibilitychange", onVisibility);

    function applySeats(seats) {
      const before = state.byId;
      state.seats = seats;
      state.byId = new Map(seats.map((seat) => [seat.id, seat]));
      // Someone else took a seat this viewer had selected.
      const lost = [...state.selected].filter((id) => !state.byId.has(id) || state.byId.get(id).status !== "available");
      if (lost.length) {
        lost.forEach((id) => state.selected.delete(id));
        const names = lost.map((id) => (state.byId.get(id) || before.get(id) || { seatNumber: "?" }).seatNumber);
        say("error", `${Cinema.joinNames(names)} ${names.length > 1 ? "were" : "was"} just taken by someone else. Please choose another seat.`);
      }
      // This viewer's hold, freed before its countdown ended (cancelled elsewhere, or lapsed).
      if (state.hold) {
        const mine = [...state.hold.seatIds].map((id) => state.byId.get(id));
        if (mine.some((seat) => !seat || seat.status === "available")) holdLapsed();
      }
      renderSeats();
      renderSide();
    }

    /* -------- drawing */

    function rowOf(seatNumber) {
      const match = /^([A-Z]+)(\d+)$/.exec(seatNumber);
      return match ? { row: match[1], column: Number(match[2]) } : { row: "?", column: 0 };
    }

    function seatState(seat) {
      if (seat.status === "reserved") {
        if (state.hold && state.hold.seatIds.has(seat.id)) return { css: "seat--held seat--mine", label: "held, yours", pressed: null, blocked: true };
        return { css: "seat--held", label: "held", pressed: null, blocked: true };
      }
      if (seat.status === "sold") {
        return { css: "seat--sold", label: state.soldToMe.has(seat.id) ? "sold, yours" : "sold", pressed: null, blocked: true };
      }
      const selected = state.selected.has(seat.id);
      return { css: selected ? "seat--available seat--selected" : "seat--available", label: selected ? "available, selected" : "available", pressed: String(selected), blocked: false };
    }

    function paintSeat(button, seat) {
      const look = seatState(seat);
      button.className = `seat ${look.css}`;
      // The accessible name starts with the seat number: "A1, available", "A1, available, selected".
      button.setAttribute("aria-label", `${seat.seatNumber}, ${look.label}`);
      if (look.pressed === null) button.removeAttribute("aria-pressed");
      else button.setAttribute("aria-pressed", look.pressed);
      if (look.blocked) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    }

    function renderSeats() {
      const key = state.seats.map((seat) => seat.id).join();
      if (key !== state.layoutKey) {
        const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.seatId : null;
        state.layoutKey = key;
        const rows = [];
        let current = null;
        for (const seat of state.seats) {
          const { row, column } = rowOf(seat.seatNumber);
          if (!current || current.label !== row) {
            current = { label: row, element: h("div", { class: "seat-row", role: "presentation" }, h("span", { class: "row-label", "aria-hidden": "true" }, row)) };
            rows.push(current);
          }
          const button = h("button", { type: "button", "data-seat-id": seat.id, "data-row": rows.length - 1, "data-column": column }, String(column));
          button.addEventListener("click", () => toggle(seat.id));
          current.element.append(button);
        }
        map.replaceChildren(...rows.map((row) => row.element));
        if (focusedId) {
          const again = map.querySelector(`[data-seat-id="${focusedId}"]`);
          if (again) again.focus();
        }
      }
      for (const button of map.querySelectorAll("button.seat, button[data-seat-id]")) {
        paintSeat(button, state.byId.get(button.dataset.seatId));
      }
    }

    // Arrow keys move between seats (every seat is also reachable with Tab).
    map.addEventListener("keydown", (event) => {
      const target = event.target.closest("button[data-seat-id]");
      if (!target) return;
      const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      const rows = [...map.querySelectorAll(".seat-row")];
      const rowIndex = Number(target.dataset.row);
      const inRow = [...rows[rowIndex].querySelectorAll("button[data-seat-id]")];
      let next = null;
      if (move[1]) next = inRow[inRow.indexOf(target) + move[1]];
      else {
        const other = rows[rowIndex + move[0]];
        if (other) {
          const candidates = [...other.querySelectorAll("button[data-seat-id]")];
          const column = Number(target.dataset.column);
          next = candidates.reduce((best, b) => (Math.abs(b.dataset.column - column) < Math.abs(best.dataset.column - column) ? b : best), candidates[0]);
        }
      }
      if (next) next.focus();
    });

    function toggle(seatId) {
      const seat = state.byId.get(seatId);
      if (!seat || state.busy) return;
      if (seat.status !== "available") {
        announce(`${seat.seatNumber} is ${seat.status === "sold" ? "sold" : "held"} and cannot be chosen.`);
        return;
      }
      if (state.hold) {
        announce("Pay for or release the seats you hold before choosing others.");
        return;
      }
      if (state.selected.has(seatId)) state.selected.delete(seatId);
      else if (state.selected.size >= config.maxSeatsPerReservation) {
        say("warn", `You can choose at most ${config.maxSeatsPerReservation} seats at a time.`);
        return;
      } else state.selected.add(seatId);
      messages.replaceChildren();
      renderSeats();
      renderSide();
    }

    function selectedNumbers() {
      return state.seats.filter((seat) => state.selected.has(seat.id)).map((seat) => seat.seatNumber);
    }

    function renderSide() {
      if (state.receipt) return;
      if (state.hold) return renderHold();
      const numbers = selectedNumbers();
      const price = state.session ? Cinema.cents(state.session.ticketPrice) : 0;
      const holdButton = h("button", { type: "button", id: "hold-button", onclick: holdSelected }, numbers.length ? `Hold ${numbers.length} seat${numbers.length > 1 ? "s" : ""}` : "Hold seats");
      if (!numbers.length || state.busy) holdButton.disabled = true;
      side.replaceChildren(
        h("h2", {}, "Your selection"),
        numbers.length
          ? h(
              "dl",
              {},
              h("dt", {}, "Seats"),
              h("dd", { id: "selected-seats" }, numbers.join(", ")),
              h("dt", {}, "Total"),
              h("dd", { id: "selected-total" }, Cinema.money(price * numbers.length))
            )
          : h("p", { class: "muted" }, `Choose 1 to ${config.maxSeatsPerReservation} free seats on the map.`),
        h("div", { class: "actions" }, holdButton)
      );
    }

    /* -------- hold, countdown, payment */

    async function holdSelected() {
      const who = identity.current();
      if (!who) {
        showSignIn("Tell us who you are to hold seats.", () => holdSelected());
        return;
      }
      const seatIds = state.seats.filter((seat) => state.selected.has(seat.id)).map((seat) => seat.id);
      if (!seatIds.length || state.busy) return;
      state.busy = true;
      state.generation += 1;
      renderSide();
      const answer = await call("POST", "/reservations", {
        auth: true,
        idempotencyKey: Cinema.uuid(),
        body: { sessionId, seatIds, userId: who.userId, userEmail: who.email },
      });
      const received = performance.now();
      state.busy = false;
      if (answer.status === 201) {
        const reservation = answer.data;
        // The countdown runs on the server's own times: the hold lasts expiresAt - createdAt
        // (both stamped by the database), counted from when its answer arrived here.
        const lasts = Date.parse(reservation.expiresAt) - Date.parse(reservation.createdAt);
        state.hold = {
          id: reservation.id,
          seatIds: new Set(reservation.seatIds),
          seatNumbers: reservation.seatNumbers,
          deadline: received + lasts,
          unitPrice: state.session ? Cinema.cents(state.session.ticketPrice) : 0,
        };
        state.selected.clear();
        messages.replaceChildren(notice("ok", `${Cinema.joinNames(reservation.seatNumbers)} ${reservation.seatNumbers.length > 1 ? "are" : "is"} held for you. Pay before the time runs out.`));
        startCountdown();
        await refresh(true);
        renderSeats();
        renderSide();
        const pay = document.getElementById("pay-button");
        if (pay) pay.focus();
        return;
      }
      if (answer.status === 409) {
        const names = seatIds.map((id) => state.byId.get(id).seatNumber);
        await refresh(true);
        const taken = seatIds.filter((id) => state.byId.has(id) && state.byId.get(id).status !== "available");
        taken.forEach((id) => state.selected.delete(id));
        const takenNames = taken.map((id) => state.byId.get(id).seatNumber);
        if (takenNames.length) {
          say("error", `Sorry, ${Cinema.joinNames(takenNames)} ${takenNames.length > 1 ? "were" : "was"} just taken by someone else. The map is up to date; please choose other seats.`);
        } else {
          say("error", `${Cinema.joinNames(names)} could not be held: ${answer.message}`);
        }
        renderSeats();
        renderSide();
        return;
      }
      if (answer.status === 401) identity.clear();
      say("error", `The seats could not be held: ${answer.message}`);
      renderSide();
    }

    function remainingMs() {
      return state.hold ? Math.max(0, state.hold.deadline - performance.now()) : 0;
    }

    function startCountdown() {
      window.clearInterval(countdownTimer);
      let warned = false;
      countdownTimer = window.setInterval(() => {
        if (!state.hold) return window.clearInterval(countdownTimer);
        const left = remainingMs();
        const clock = document.getElementById("countdown");
        if (clock) clock.textContent = formatRemaining(left);
        if (!warned && left <= 10000 && left > 0) {
          warned = true;
          announce("10 seconds left to pay.");
        }
        if (left <= 0) holdLapsed();
      }, 200);
    }

    function formatRemaining(ms) {
      const seconds = Math.ceil(ms / 1000);
      return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    }

    function holdLapsed() {
      if (!state.hold) return;
      const names = state.hold.seatNumbers;
      state.hold = null;
      state.generation += 1;
      window.clearInterval(countdownTimer);
      say("warn", `Your hold on ${Cinema.joinNames(names)} has expired, and ${names.length > 1 ? "those seats are" : "that seat is"} free again. Choose seats again to book.`);
      announce("Your hold has expired.");
      renderSide();
      refresh(true).then(() => renderSeats());
    }

    function renderHold() {
      const hold = state.hold;
      const total = Cinema.money(hold.unitPrice * hold.seatNumbers.length);
      side.replaceChildren(
        h("h2", {}, "Seats held for you"),
        h("dl", {}, h("dt", {}, "Seats"), h("dd", { id: "held-seats" }, hold.seatNumbers.join(", ")), h("dt", {}, "To pay"), h("dd", { id: "held-total" }, total)),
        h("p", {}, "Time left to pay: ", h("span", { id: "countdown", class: "countdown", role: "timer", "aria-live": "off" }, formatRemaining(remainingMs()))),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", id: "pay-button", onclick: pay, disabled: state.busy }, `Pay ${total}`),
          h("button", { type: "button", class: "secondary", onclick: release, disabled: state.busy }, "Release seats")
        )
      );
    }

    async function pay() {
      const hold = state.hold;
      if (!hold || state.busy) return;
      state.busy = true;
      renderSide();
      const answer = await call("POST", "/sales", { auth: true, idempotencyKey: Cinema.uuid(), body: { reservationId: hold.id } });
      state.busy = false;
      if (answer.status === 201) {
        const sale = answer.data;
        state.hold = null;
        state.generation += 1;
        window.clearInterval(countdownTimer);
        sale.seatIds.forEach((id) => state.soldToMe.add(id));
        showReceipt(sale);
        await refresh(true);
        renderSeats();
        return;
      }
      if (answer.status === 400 && /expired/.test(answer.message)) {
        holdLapsed();
        return;
      }
      if (answer.status === 401) identity.clear();
      say("error", `The payment did not go through: ${answer.message}`);
      renderSide();
    }

    async function release() {
      const hold = state.hold;
      if (!hold || state.busy) return;
      state.busy = true;
      const answer = await call("DELETE", `/reservations/${hold.id}`, { auth: true });
      state.busy = false;
      if (answer.status === 204 || answer.status === 400 || answer.status === 404) {
        state.hold = null;
        state.generation += 1;
        window.clearInterval(countdownTimer);
        say("ok", `${Cinema.joinNames(hold.seatNumbers)} released.`);
        await refresh(true);
        renderSeats();
      } else {
        say("error", `The seats could not be released: ${answer.message}`);
      }
      renderSide();
    }

    function showReceipt(sale) {
      state.receipt = sale;
      messages.replaceChildren();
      const title = h("h2", { id: "receipt-title", tabindex: "-1" }, "Payment confirmed");
      side.replaceChildren(
        h(
          "div",
          { class: "receipt panel", role: "region", "aria-labelledby": "receipt-title", id: "receipt" },
          title,
          h(
            "dl",
            {},
            h("dt", {}, "Sale"),
            h("dd", { id: "receipt-sale-id" }, sale.id),
            h("dt", {}, "Seats"),
            h("dd", { id: "receipt-seats" }, sale.seatNumbers.join(", ")),
            h("dt", {}, "Amount"),
            h("dd", { id: "receipt-amount" }, sale.amount),
            h("dt", {}, "Paid"),
            h("dd", {}, Cinema.formatTime(sale.createdAt))
          ),
          h(
            "div",
            { class: "actions" },
            h("a", { class: "button", href: "#/purchases" }, "My purchases"),
            h("button", {
              type: "button",
              class: "secondary",
              onclick: () => {
                state.receipt = null;
                renderSide();
              },
            }, "Book more seats")
          )
        )
      );
      announce(`Payment confirmed. Sale ${sale.id}, seats ${sale.seatNumbers.join(", ")}, amount ${sale.amount}.`);
      title.focus();
    }

    (async () => {
      renderSide();
      if (!(await loadSession())) return;
      await refresh(true);
      schedulePoll();
    })();
  }

  function legend() {
    const item = (css, label, text) => h("li", {}, h("span", { class: `seat ${css}`, "aria-hidden": "true" }, text), label);
    return h(
      "ul",
      { class: "legend", "aria-label": "Legend" },
      item("seat--available", "Available", "1"),
      item("seat--available seat--selected", "Selected", "1"),
      item("seat--held", "Held", "1"),
      item("seat--held seat--mine", "Held for you", "1"),
      item("seat--sold", "Sold", "1")
    );
  }

  /* ------------------------------------------------------------------ purchases */

  function purchasesView() {
    document.title = "Cinema: my purchases";
    const body = h("div", {});
    main.replaceChildren(heading("My purchases"), body);
    const who = identity.current();
    if (!who) {
      body.append(h("p", {}, "Sign in to see what you bought."));
      showSignIn("Sign in to see your purchases.", () => route());
      return;
    }
    (async () => {
      body.replaceChildren(h("p", { role: "status" }, "Loading…"));
      const answer = await call("GET", `/sales/user/${encodeURIComponent(who.userId)}`, { auth: true });
      if (!answer.ok) {
        body.replaceChildren(notice("error", `Your purchases cannot be loaded: ${answer.message}`));
        return;
      }
      if (!answer.data.length) {
        body.replaceChildren(h("p", {}, "No purchases yet. ", h("a", { href: "#/" }, "See what's on.")));
        return;
      }
      const names = new Map();
      await Promise.all(
        [...new Set(answer.data.map((sale) => sale.sessionId))].map(async (id) => {
          const session = await call("GET", `/sessions/${id}`);
          names.set(id, session.ok ? `${session.data.movieName}, ${Cinema.formatTime(session.data.startTime)}` : "(session no longer listed)");
        })
      );
      body.replaceChildren(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { id: "purchases" },
            h("caption", { class: "visually-hidden" }, `Purchases of ${who.userId}, newest first`),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Paid"), h("th", { scope: "col" }, "Session"), h("th", { scope: "col" }, "Seats"), h("th", { scope: "col", class: "number" }, "Amount"), h("th", { scope: "col" }, "Sale id"))),
            h(
              "tbody",
              {},
              answer.data.map((sale) =>
                h(
                  "tr",
                  {},
                  h("td", {}, Cinema.formatTime(sale.createdAt)),
                  h("td", {}, names.get(sale.sessionId)),
                  h("td", {}, sale.seatNumbers.join(", ")),
                  h("td", { class: "number" }, sale.amount),
                  h("td", {}, h("code", {}, sale.id))
                )
              )
            )
          )
        )
      );
    })();
  }

  /* ------------------------------------------------------------------ start */

  function renderHeader() {
    Cinema.renderIdentity(document.getElementById("identity"), () => showSignIn());
  }

  identity.onChange(renderHeader);
  window.addEventListener("hashchange", route);
  (async () => {
    const problem = await Cinema.oidcFinish().catch((error) => error.message);
    renderHeader();
    route();
    if (problem) main.prepend(notice("error", problem));
  })();
})();
