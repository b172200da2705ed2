// What a project's own test does with the installed package: Node's test runner
// on the pure parts, through the package's public entry points. Run by
// tests/test_widget_package.py in a scratch project where the tarball is installed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  catalogChain,
  markKind,
  modeKind,
  noticeStrings,
  parseDisclosure,
} from "@ai-disclosure/widget/core";

const catalog = (lang) =>
  JSON.parse(readFileSync(fileURLToPath(import.meta.resolve(`@ai-disclosure/widget/i18n/${lang}.json`)), "utf8"));

test("parses the AI-Disclosure header, both separators, quotes and bare keys", () => {
  assert.deepEqual(parseDisclosure('mode=ai-originated, model="gpt \\"x\\"";provider=acme, reviewed'), {
    mode: "ai-originated", model: 'gpt "x"', provider: "acme", reviewed: true,
  });
  assert.deepEqual(parseDisclosure("MODE=none, mode=ai-modified"), { mode: "none" });
  assert.deepEqual(parseDisclosure(null), {});
});

test("maps the vocabularies to icons and catalog keys", () => {
  assert.deepEqual(modeKind("ai-modified"), ["ai-modified", "label_ai_modified"]);
  assert.deepEqual(modeKind("something-new"), ["ai", "label_ai"]);
  assert.deepEqual(markKind("Autonomous"), ["ai-generated", "mark_generated"]);
  assert.deepEqual(markKind("ai-assisted"), ["ai-modified", "mark_assisted"]);
  assert.equal(markKind("human-only"), null);
});

test("looks strings up in one language's catalog", () => {
  const fr = noticeStrings("fr", catalog("fr"));
  assert.equal(fr.dir, "ltr");
  assert.equal(fr.label_ai_generated, catalog("fr")["notice.label_ai_generated"]);
  assert.ok(!("register_title" in fr) && Object.keys(fr).every((k) => !k.includes(".")));
  assert.deepEqual(catalogChain("en-GB"), ["en-GB", "en", "fr"]);
  assert.deepEqual(catalogChain(""), ["fr"]);
});
