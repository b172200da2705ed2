// The AI disclosure notice's script (docs/widget.md). The server-rendered notice
// works without it; it adds what needs a script: minimising a notice to an "AI"
// button (remembered per system), <ai-notice src>, notices following SPA routes,
// mark(), watchFetch(). Pure parts: ai-notice-core.js. What a page needs only
// sometimes is loaded when needed: ai-notice-dom.js, -remote.js, -routes.js.

import { ownStrings, parseDisclosure } from "./ai-notice-core.js";

export { parseDisclosure };

const KEY = "ai-disclosure:collapsed";
const doc = document;
const dom = () => import("./ai-notice-dom.js");
let original;

const remembered = () => {
  try {
    return JSON.parse(localStorage.getItem(KEY)) || {};
  } catch {
    return {};
  }
};

const remember = (id, on) => {
  const all = remembered();
  if (on) all[id] = 1;
  else delete all[id];
  try {
    localStorage.setItem(KEY, JSON.stringify(all));
  } catch {
    // Private browsing: the choice lasts for this page only.
  }
};

// The page's one live region: the notice's own, else one made here.
const region = () => {
  let r = doc.querySelector("[data-ai-notice-status]");
  if (!r) {
    r = doc.createElement("p");
    r.className = "ai-notice__vh";
    r.setAttribute("role", "status");
    r.setAttribute("data-ai-notice-status", "");
    doc.body.append(r);
  }
  return r;
};

const announce = (text) => {
  const r = region();
  r.textContent = "";
  setTimeout(() => (r.textContent = text), 100);
};

// WordPress 6.4 to 6.9 add a block theme's skip link from a script at the end
// of the page, before .wp-site-blocks: after this notice, which found no skip
// link to follow. Put the notice after it: the skip link stays the first stop.
const followScriptedSkipLink = (notice) => {
  const link = doc.getElementById("wp-skip-link");
  if (!link || link.parentNode !== notice.parentNode) return;
  for (let e = notice.nextElementSibling; e !== link; e = e.nextElementSibling) {
    if (!e || !/^(script|style|link|template|noscript)$/.test(e.localName)) return;
  }
  link.after(notice);
};

class AINotice extends HTMLElement {
  connectedCallback() {
    if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", () => this.upgrade(), { once: true });
    else this.upgrade();
  }

  async upgrade() {
    if (this.hasAttribute("data-upgraded")) return;
    this.setAttribute("data-upgraded", "");
    followScriptedSkipLink(this);
    if (this.hasAttribute("src") && !this.querySelector("[data-ai-notice-system]")) {
      // Whatever fails, the page's fallback stays and the rest still works.
      await import("./ai-notice-remote.js").then((r) => r.fill(this).catch(() => r.fallback(this))).catch(() => {});
    }
    const rules = doc.querySelector("script[data-ai-notice-routes]");
    if (rules) (await import("./ai-notice-routes.js")).follow(this, JSON.parse(rules.textContent), announce);
    const s = ownStrings(this) || {};
    for (const item of this.querySelectorAll("[data-ai-notice-system]")) {
      const id = item.getAttribute("data-ai-notice-system");
      const details = item.querySelector("details");
      const collapse = item.querySelector("[data-ai-notice-collapse]");
      const pill = item.querySelector("[data-ai-notice-expand]");
      // A chatbot's notice never goes below its label (AI Act Art. 50(1)).
      if (item.hasAttribute("data-ai-notice-pinned") || !details || !collapse || !pill) continue;
      const set = (on, user) => {
        details.open = false;
        details.hidden = on;
        pill.hidden = !on;
        item.toggleAttribute("data-collapsed", on);
        if (!user) return;
        remember(id, on);
        (on ? pill : details.querySelector("summary")).focus();
        announce(on ? s.status_collapsed : s.status_expanded);
      };
      collapse.hidden = false;
      collapse.addEventListener("click", () => set(true, 1));
      pill.addEventListener("click", () => set(false, 1));
      if (remembered()[id]) set(true);
    }
  }
}

if (!customElements.get("ai-notice")) customElements.define("ai-notice", AINotice);

/** Stop watching fetch(). */
export const unwatchFetch = () => {
  if (original) window.fetch = original;
  original = null;
};

/** Show and announce the notice when a fetched response's AI-Disclosure mode is not
 * "none" (cross-origin APIs expose the header). Returns unwatchFetch. */
export const watchFetch = (options = {}) => {
  region();
  if (!original) {
    original = window.fetch;
    const wrapped = original;
    window.fetch = async (...args) => {
      const response = await wrapped(...args);
      const mode = parseDisclosure(response.headers.get("AI-Disclosure")).mode;
      if (mode && mode !== true && mode !== "none") dom().then((m) => m.show(mode, options, announce)).catch(() => {});
      return response;
    };
  }
  return unwatchFetch;
};

/** Mark an element as AI-made, with a visible label before it (null: no AI, no label). */
export const mark = async (element, options) => (await dom()).mark(element, options);

window.AIDisclosure = Object.freeze({ mark, watchFetch, unwatchFetch, parseDisclosure });
