// Webhooks (fleet API) with their delivery log.
import { del, get, post } from "./api.js";
import { h, lockControls, section, toast } from "./dom.js";

const EVENTS = ["state", "online", "image", "tag", "recording", "storage"];

async function deliveries(hook, box) {
  const items = (await get(`/api/v1/webhooks/${hook.id}/deliveries?per_page=50`)).data;
  box.replaceChildren(
    items.length
      ? h(
          "table",
          { class: "deliveries" },
          h("thead", {}, h("tr", {}, ["Time", "Event", "Status", "Response", "Latency", "Next retry"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            items.slice(0, 50).map((d) =>
              h(
                "tr",
                { class: "delivery" },
                h("td", {}, d.time || "–"),
                h("td", {}, d.kind || "–"),
                h("td", {}, String(d.status ?? "–")),
                h("td", {}, String(d.response_code ?? d.error ?? "–")),
                h("td", {}, d.latency_ms != null ? `${d.latency_ms} ms` : "–"),
                h("td", {}, d.next_retry || "–"),
              ),
            ),
          ),
        )
      : h("p", {}, "No deliveries yet."),
  );
}

export async function webhooksView(session) {
  const allowed = Boolean(session && session.may && session.may.webhooks);
  const hooks = (await get("/api/v1/webhooks")).data || [];
  const secretBox = h("p", { class: "secret", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack", "aria-label": "Add a webhook" },
    h("label", { for: "hook-url" }, "URL"),
    h("input", { id: "hook-url", name: "url", type: "url", required: true, placeholder: "https://example.org/hook" }),
    h("fieldset", {}, h("legend", {}, "Events"), EVENTS.map((e) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "events", value: e, checked: e === "state" }), ` ${e}`),
    )),
    h("button", { type: "submit" }, "Add webhook"),
    secretBox,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const answer = await post("/api/v1/webhooks", {
        url: data.get("url"),
        actions: data.getAll("events").join(","),
      });
      secretBox.textContent = `Created. Signing secret (shown once): ${answer.data.secret}`;
      list.prepend(card(answer.data, allowed));
    } catch (e) {
      const problems = e.body && Array.isArray(e.body.error) && e.body.error.length ? e.body.error.join("; ") : e.message;
      toast(problems, "error");
      secretBox.textContent = problems;
    }
  });
  const list = h("div", { class: "hooks" }, hooks.map((hook) => card(hook, allowed)));
  if (!allowed) lockControls(form, "Read-only: you may see the webhooks but not add or delete them.");
  const timer = setInterval(() => {
    for (const refresh of list.querySelectorAll("[data-refresh]")) refresh.click();
  }, 3000);
  return {
    node: h("div", {}, h("h1", {}, "Webhooks"), h("div", { class: "device-panels" }, section("Add", form), section("Webhooks", list))),
    cleanup: () => clearInterval(timer),
  };
}

function card(hook, allowed = true) {
  const log = h("div", { class: "log", "aria-live": "polite" });
  const node = h(
    "article",
    { class: "hook", dataset: { hook: hook.id } },
    h("h3", {}, hook.url),
    h("p", {}, `Events: ${hook.actions || "all"} · ${hook.status ? "active" : `disabled ${hook.disabled_reason || ""}`}`),
    h(
      "p",
      {},
      h("button", { type: "button", "data-refresh": "", onclick: () => deliveries(hook, log).catch(() => {}) }, "Refresh log"),
      " ",
      h("button", {
        type: "button",
        disabled: !allowed,
        onclick: async () => {
          try {
            await del(`/api/v1/webhooks/${hook.id}`);
            node.remove();
          } catch (e) {
            toast(e.message, "error");
          }
        },
      }, "Delete"),
    ),
    h("h4", {}, "Delivery log"),
    log,
  );
  deliveries(hook, log).catch(() => {});
  return node;
}
