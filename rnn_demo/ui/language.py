"""Which language a visitor reads: chosen in the browser, followed by the page's frontend and by the server.

Gradio's frontend picks its language once, from `navigator.language`, and offers no way to change it
from a page. So the page's first script (`SCRIPT`, put at the top of <head> by `PageLanguage`, before
Gradio's own code runs) decides: `?lang=` in the address (the EN / 中文 switch reloads with it, and it
is remembered), else the visitor's last choice, else the browser's language (any Chinese → 简体中文).
It makes `navigator.language` say that, and keeps it in the `rnn_lang` cookie, from which the server
writes the messages it makes at run time (errors, notes) in the same language. API callers send no
such cookie: they get English, unless they ask for Chinese with an Accept-Language header.
"""
from __future__ import annotations

import json
from http.cookies import SimpleCookie

import gradio as gr

from .text import CHINESE, ENGLISH, LANGUAGES

COOKIE = "rnn_lang"
SCRIPT = """<script>(() => {
  const known = %(languages)s, saved = "rnn-lang";
  const asked = new URLSearchParams(location.search).get("lang");
  if (known.includes(asked)) { try { localStorage.setItem(saved, asked); } catch (e) {} }
  let chosen = known.includes(asked) ? asked : null;
  try { chosen = chosen || (known.includes(localStorage.getItem(saved)) ? localStorage.getItem(saved) : null); } catch (e) {}
  chosen = chosen || ((navigator.language || "").toLowerCase().startsWith("zh") ? "%(chinese)s" : "%(english)s");
  for (const name of ["language", "languages"]) {
    Object.defineProperty(Navigator.prototype, name,
                          {get: () => name === "language" ? chosen : [chosen], configurable: true});
  }
  const cross_site = location.protocol === "https:" ? "; SameSite=None; Secure" : "; SameSite=Lax";
  document.cookie = "%(cookie)s=" + chosen + "; path=/" + cross_site;
  document.documentElement.lang = chosen;
})();</script>""" % {"languages": json.dumps(LANGUAGES), "chinese": CHINESE, "english": ENGLISH, "cookie": COOKIE}
# The switch: to the other language, by reloading with ?lang= (the script above then remembers it).
SWITCH_JS = """() => {
  const url = new URL(location.href);
  url.searchParams.set("lang", navigator.language === "%(chinese)s" ? "%(english)s" : "%(chinese)s");
  location.href = url.toString();
}""" % {"chinese": CHINESE, "english": ENGLISH}
HEAD = b"<head>"


def of(request: gr.Request | None) -> str:
    """The language of the visitor who sent `request`: the page's cookie, else the Accept-Language
    header's first language (Chinese of any region → CHINESE), else English (API callers, tests)."""
    if request is None:
        return ENGLISH
    headers = getattr(request, "headers", None) or {}
    cookie = SimpleCookie()
    cookie.load(headers.get("cookie", ""))
    if COOKIE in cookie and cookie[COOKIE].value in LANGUAGES:
        return cookie[COOKIE].value
    first = headers.get("accept-language", "").split(",")[0].strip().lower()
    return CHINESE if first.startswith("zh") else ENGLISH


class PageLanguage:
    """ASGI middleware: puts `SCRIPT` at the top of the page's <head> (GET of an HTML page), so that it
    runs before Gradio's frontend reads the browser's language. Every other response passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        start, body = None, []  # the held response start (an HTML page), and its body so far

        async def send_with_script(message):
            nonlocal start
            if message["type"] == "http.response.start" and _is_plain_html(message["headers"]):
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body).replace(HEAD, HEAD + SCRIPT.encode(), 1)
            headers = [(name, value) for name, value in start["headers"] if name.lower() != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, send_with_script)


def _is_plain_html(headers) -> bool:
    """Whether a response's headers announce an uncompressed HTML page."""
    named = {name.lower(): value.lower() for name, value in headers}
    return named.get(b"content-type", b"").startswith(b"text/html") and b"content-encoding" not in named
