// Progressive enhancement of the assistant form: ask over fetch and let the
// notice widget announce the AI answer (it reads the AI-Disclosure header).
const form = document.querySelector("form[data-chat-endpoint]");
const log = document.getElementById("chat-log");

if (form && log) {
  const ready = import("/.well-known/ai-disclosure/ai-notice.js")
    .then((module) => (module.AIDisclosure || window.AIDisclosure))
    .then((api) => { if (api && api.watchFetch) api.watchFetch(); return api; })
    .catch(() => null);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.querySelector("input[name=question]");
    const question = input.value.trim();
    if (!question) return;
    const api = await ready;
    const response = await fetch(form.dataset.chatEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question }),
    });
    const data = await response.json();
    const asked = document.createElement("p");
    asked.className = "chat-question";
    asked.textContent = question;
    const answer = document.createElement("p");
    answer.className = "chat-answer";
    answer.textContent = data.answer;
    log.append(asked, answer);
    // The same label the server puts before an answer (ai_content), placed before it.
    if (api && api.mark) await api.mark(answer, { value: "ai-autonomous" });
    input.value = "";
    input.focus();
  });
}
