"""The API key panel: a user's own key, kept in their browser's localStorage and nowhere else."""

from __future__ import annotations

import gradio as gr

from .words import words

KEY_STORAGE = "heurist_ui_key"
NO_KEY_MESSAGE = (
    "No API key is set. Paste your Heurist key (user_id#api_key) in the API key field, or set "
    "HEURIST_API_KEY in the server's environment or .env file."
)

# The server never stores the key. The no-key notice hides as soon as there is one.
LOAD_KEY_JS = f"""
() => {{
  const key = localStorage.getItem("{KEY_STORAGE}") || "";
  const notice = document.querySelector("#no-key");
  if (notice && key) notice.style.display = "none";
  return key;
}}
"""
SAVE_KEY_JS = f"""
(key) => {{
  key = (key || "").trim();
  if (key) localStorage.setItem("{KEY_STORAGE}", key);
  else localStorage.removeItem("{KEY_STORAGE}");
  const notice = document.querySelector("#no-key");
  if (notice) notice.style.display = key ? "none" : "";
}}
"""


GET_A_KEY = (
    "No key yet? Get one on [Heurist's site](https://heurist.ai) (*Get API key*); it looks "
    "like `user_id#api_key` and stays in this browser only."
)


def render(server_has_key: bool) -> gr.Textbox:
    """The key accordion: open, with how to get a key, when the server has no key of its own
    (the page places it under Generate then); folded at the end of the settings otherwise."""
    with gr.Accordion(words("key"), open=not server_has_key, elem_id="key-panel"):
        if server_has_key:
            gr.Markdown(words("key.server"))
        else:
            gr.Markdown(words("key.missing"), elem_id="no-key")
        key = gr.Textbox(
            label=words("key"),
            type="password",
            placeholder=words("key.placeholder"),
            elem_id="api-key",
        )
        if not server_has_key:
            gr.Markdown(words("key.get"), elem_id="get-a-key")
        return key


def wire(demo: gr.Blocks, api_key: gr.Textbox) -> None:
    """Load the key from the browser on page load; save it there on every change.

    .change, not .input: a pasted key fires no .input handler in the browser.
    """
    demo.load(fn=None, outputs=api_key, js=LOAD_KEY_JS, api_visibility="private")
    api_key.change(fn=None, inputs=api_key, js=SAVE_KEY_JS, api_visibility="private")
