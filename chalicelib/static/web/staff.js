/* The staff page: create a session, change its price, and see every session's metrics
   (seats sold, revenue, conversion) in a table and an SVG chart drawn here. */
(function () {
  "use strict";

  const { config, call, h, announce, notice, identity } = window.Cinema;
  const main = document.getElementById("main");
  const PAGE_SIZE = 10;
  const HISTORY_DAYS = 30;
  const SVG = "http://www.w3.org/2000/svg";

  function needsSignIn() {
    const who = identity.current();
    return config.authMode === "jwt" && (!who || !who.admin);
  }

  function start() {
    Cinema.renderIdentity(document.getElementById("identity"), () => start());
    if (needsSignIn()) {
      const who = identity.current();
      main.replaceChildren(
        h("h1", {}, "Staff"),
        who ? notice("error", `${who.userId} is not staff. Sign in with an admin account.`) : null,
        Cinema.signInForm({ title: "Staff sign-in", admin: true, reason: "The staff page needs an account with the admin role.", onDone: () => start() })
      );
      return;
    }
    render();
  }

  function localInputValue(date) {
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }

  function render() {
    const messages = h("div", { id: "staff-messages" });
    const tableBody = h("tbody", {});
    const chart = h("figure", { class: "chart", id: "metrics-chart" });
    const status = h("p", { class: "muted", role: "status" });
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more sessions");
    let rows = [];
    let offset = 0;
    const movieFilter = h("input", { id: "staff-movie-filter", type: "search", maxlength: 255 });
    const pastInput = h("input", { id: "staff-include-past", type: "checkbox" });

    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
    tomorrow.setMinutes(0, 0, 0);
    const field = (id, label, input) => h("div", {}, h("label", { for: id }, label), input);
    const inputs = {
      movieName: h("input", { id: "new-movie", required: true, maxlength: 255 }),
      roomNumber: h("input", { id: "new-room", required: true, maxlength: 50 }),
      startTime: h("input", { id: "new-start", type: "datetime-local", required: true, value: localInputValue(tomorrow) }),
      endTime: h("input", { id: "new-end", type: "datetime-local", required: true, value: localInputValue(new Date(tomorrow.getTime() + 2 * 3600 * 1000)) }),
      ticketPrice: h("input", { id: "new-price", required: true, inputmode: "decimal", pattern: "\\d+(\\.\\d{1,2})?", value: "25.00" }),
      totalSeats: h("input", { id: "new-seats", type: "number", required: true, min: 16, max: 500, value: 100 }),
    };

    async function create(event) {
      event.preventDefault();
      const start = new Date(inputs.startTime.value);
      const end = new Date(inputs.endTime.value);
      const body = {
        movieName: inputs.movieName.value.trim(),
        roomNumber: inputs.roomNumber.value.trim(),
        startTime: Number.isNaN(start.getTime()) ? inputs.startTime.value : start.toISOString(),
        endTime: Number.isNaN(end.getTime()) ? inputs.endTime.value : end.toISOString(),
        ticketPrice: inputs.ticketPrice.value.trim(),
        totalSeats: Number(inputs.totalSeats.value),
      };
      const answer = await call("POST", "/sessions", { auth: true, body });
      if (answer.status === 201) {
        messages.replaceChildren(notice("ok", `Session created: ${answer.data.movieName}, ${Cinema.formatTime(answer.data.startTime)}, ${answer.data.totalSeats} seats.`));
        inputs.movieName.value = "";
        // The new session goes first, wherever it falls in the programme's order.
        rows = [await metricsOf(answer.data), ...rows.filter((row) => row.session.id !== answer.data.id)];
        draw();
      } else {
        messages.replaceChildren(notice("error", `The session was not created: ${answer.message}`));
      }
    }

    async function metricsOf(session) {
      const answer = await call("GET", `/sessions/${session.id}/metrics`, { auth: true });
      const lifetime = answer.ok ? answer.data.lifetime : null;
      return { session, lifetime };
    }

    let loading = 0; // answers of a superseded load are dropped

    async function load(reset) {
      const ticket = ++loading;
      if (reset) {
        offset = 0;
        rows = [];
      }
      const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
      if (pastInput.checked) query.set("from", new Date(Date.now() - HISTORY_DAYS * 24 * 3600 * 1000).toISOString());
      if (movieFilter.value.trim()) query.set("movie", movieFilter.value.trim());
      const answer = await call("GET", `/sessions?${query}`);
      if (ticket !== loading) return;
      if (!answer.ok) {
        status.replaceChildren(notice("error", `Sessions cannot be loaded: ${answer.message}`));
        return;
      }
      const loaded = await Promise.all(answer.data.map(metricsOf));
      if (ticket !== loading) return;
      rows = rows.concat(loaded);
      offset += answer.data.length;
      const total = Number(answer.headers.get("X-Total-Count") || offset);
      status.textContent = `Showing ${offset} of ${total} sessions${pastInput.checked ? ` (including the last ${HISTORY_DAYS} days)` : " not ended yet"}.`;
      more.hidden = offset >= total;
      draw();
    }

    async function reloadMetrics() {
      rows = await Promise.all(rows.map((row) => metricsOf(row.session)));
      draw();
    }

    async function changePrice(row, input) {
      const price = input.value.trim();
      const answer = await call("PATCH", `/sessions/${row.session.id}`, { auth: true, body: { ticketPrice: price } });
      if (answer.ok) {
        row.session = answer.data;
        messages.replaceChildren(notice("ok", `${row.session.movieName}: the price is now ${answer.data.ticketPrice}. Holds made before keep their price.`));
        announce(`Price changed to ${answer.data.ticketPrice}.`);
        draw();
      } else {
        messages.replaceChildren(notice("error", `The price was not changed: ${answer.message}`));
      }
    }

    function draw() {
      tableBody.replaceChildren(
        ...rows.map((row) => {
          const s = row.session;
          const m = row.lifetime;
          const priceInput = h("input", { id: `price-${s.id}`, value: s.ticketPrice, inputmode: "decimal", "aria-label": `Price of ${s.movieName}, ${Cinema.formatTime(s.startTime)}` });
          return h(
            "tr",
            { "data-session-id": s.id },
            h("th", { scope: "row" }, s.movieName),
            h("td", {}, s.roomNumber),
            h("td", {}, h("time", { datetime: s.startTime }, Cinema.formatTime(s.startTime))),
            h("td", { class: "number", "data-metric": "seats-sold" }, m ? `${m.seatsSold} / ${s.totalSeats}` : "–"),
            h("td", { class: "number", "data-metric": "revenue" }, m ? m.revenue : "–"),
            h("td", { class: "number", "data-metric": "conversion" }, m ? `${m.conversionRate} %` : "–"),
            h(
              "td",
              {},
              h(
                "form",
                {
                  class: "price-editor",
                  onsubmit: (event) => {
                    event.preventDefault();
                    changePrice(row, priceInput);
                  },
                },
                priceInput,
                h("button", { type: "submit", class: "secondary", "aria-label": `Save price of ${s.movieName}` }, "Save")
              )
            )
          );
        })
      );
      drawChart();
    }

    function svg(tag, attributes, text) {
      const element = document.createElementNS(SVG, tag);
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
      if (text !== undefined) element.textContent = text;
      return element;
    }

    // Horizontal bars: seats sold against the room's size, labelled with revenue and conversion.
    function drawChart() {
      const width = 720;
      const labelWidth = 220;
      const barHeight = 22;
      const gap = 14;
      const height = Math.max(1, rows.length) * (barHeight + gap) + 24;
      const plot = width - labelWidth - 150;
      const picture = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title chart-desc" });
      picture.append(svg("title", { id: "chart-title" }, "Seats sold per session"));
      const summary = rows.map((row) => `${row.session.movieName}: ${row.lifetime ? row.lifetime.seatsSold : 0} of ${row.session.totalSeats} seats sold`).join("; ");
      picture.append(svg("desc", { id: "chart-desc" }, summary || "No sessions"));
      rows.forEach((row, index) => {
        const y = 12 + index * (barHeight + gap);
        const sold = row.lifetime ? row.lifetime.seatsSold : 0;
        const share = row.session.totalSeats ? sold / row.session.totalSeats : 0;
        const label = `${row.session.movieName}`.slice(0, 28);
        picture.append(
          svg("text", { x: 0, y: y + 15 }, label),
          svg("rect", { class: "bar-capacity", x: labelWidth, y, width: plot, height: barHeight, rx: 3 }),
          svg("rect", { class: "bar-sold", x: labelWidth, y, width: Math.max(sold ? 2 : 0, plot * share), height: barHeight, rx: 3, "data-session-id": row.session.id, "data-seats-sold": sold }),
          svg("text", { class: "value", x: labelWidth + plot + 8, y: y + 15 }, `${sold} sold · ${row.lifetime ? row.lifetime.revenue : "0.00"}`)
        );
      });
      chart.replaceChildren(picture, h("figcaption", { class: "muted" }, "Blue: seats sold; grey: the rest of the room. Revenue after the dot. The table below has the same numbers."));
    }

    main.replaceChildren(
      h("h1", {}, "Sessions and metrics"),
      messages,
      h(
        "form",
        { class: "panel", "aria-labelledby": "create-title", onsubmit: create },
        h("h2", { id: "create-title" }, "Create a session"),
        h(
          "div",
          { class: "field-row" },
          field("new-movie", "Movie", inputs.movieName),
          field("new-room", "Room", inputs.roomNumber),
          field("new-start", "Starts", inputs.startTime),
          field("new-end", "Ends", inputs.endTime),
          field("new-price", "Price", inputs.ticketPrice),
          field("new-seats", "Seats (16 to 500)", inputs.totalSeats)
        ),
        h("div", { class: "actions", style: "margin-top: 0.8rem" }, h("button", { type: "submit" }, "Create session"))
      ),
      h("h2", {}, "Seats sold"),
      chart,
      h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: reloadMetrics }, "Refresh metrics")),
      h("h2", { id: "sessions-title" }, "Sessions"),
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
          h("div", {}, h("label", { for: "staff-movie-filter" }, "Movie"), movieFilter),
          h("div", { class: "checkbox" }, h("label", { for: "staff-include-past" }, pastInput, ` Include the last ${HISTORY_DAYS} days`)),
          h("div", {}, h("button", { type: "submit" }, "Show"))
        )
      ),
      status,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { id: "staff-sessions", "aria-labelledby": "sessions-title" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "Movie"),
              h("th", { scope: "col" }, "Room"),
              h("th", { scope: "col" }, "Starts"),
              h("th", { scope: "col", class: "number" }, "Seats sold"),
              h("th", { scope: "col", class: "number" }, "Revenue"),
              h("th", { scope: "col", class: "number" }, "Conversion"),
              h("th", { scope: "col" }, "Price")
            )
          ),
          tableBody
        )
      ),
      more
    );
    more.addEventListener("click", () => load(false));
    load(true);
  }

  identity.onChange(() => start());
  (async () => {
    const problem = await Cinema.oidcFinish().catch((error) => error.message);
    start();
    if (problem) main.prepend(notice("error", problem));
  })();
})();
