// <ai-notice src="…/v1/systems/SERVICE/SYSTEM">: the register's own notice markup for
// the entry, in the page's language. Scripts (but the strings' JSON), event handlers
// and links other than http(s), mailto, tel are dropped.

const ATTR = "data-ai-disclosure-notice";

export const fill = async (host) => {
  const url = new URL(`${host.getAttribute("src").replace(/\/$/, "")}/notice`, document.baseURI);
  url.searchParams.set("lang", document.documentElement.lang || "fr");
  const r = await fetch(url, { credentials: "omit", headers: { accept: "application/json" } });
  if (!r.ok) throw new Error(`${r.status}`);
  const notice = new DOMParser().parseFromString((await r.json()).html, "text/html").querySelector(`ai-notice[${ATTR}]`);
  for (const e of notice.querySelectorAll("*")) {
    if (e.localName === "script" && e.type !== "application/json") e.remove();
    for (const { name, value } of [...e.attributes]) {
      if (/^on/i.test(name) || (/^(href|src|action|formaction|xlink:href)$/i.test(name) && !/^(https?:|mailto:|tel:|[/?#])/i.test(value.trim()))) e.removeAttribute(name);
    }
  }
  for (const { name, value } of notice.attributes) host.setAttribute(name, value);
  host.replaceChildren(...notice.childNodes);
};

// Unreadable entry: the page's fallback stays, or shows from its <noscript>; else a
// sentence and a link to the entry's page.
export const fallback = async (host) => {
  if ([...host.children].some((e) => e.localName !== "noscript")) return;
  const given = new DOMParser().parseFromString(host.textContent.trim(), "text/html").body;
  if (given.childNodes.length) return host.replaceChildren(...given.childNodes);
  const { h, own, strings } = await import("./ai-notice-dom.js");
  const s = await strings();
  const page = new URL(host.getAttribute("src").replace("/v1/systems/", "/systems/"), document.baseURI);
  for (const [k, v] of Object.entries(own(s.lang, s.dir))) host.setAttribute(k, v);
  host.replaceChildren(h("p", { class: "ai-notice ai-notice__fallback" }, s.label_ai, " – ", h("a", { href: page.href }, s.register)));
};
