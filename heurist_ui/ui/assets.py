"""The page's theme, its own CSS, its keyboard shortcuts and its "done" notices."""

from __future__ import annotations

import gradio as gr

from .gradio_private import LONE_NAVBAR_CSS

# Gradio's Soft theme, with labels and the primary button dark enough for WCAG AA (4.5:1):
# its indigo-500 labels on indigo-100 measure 3.6:1, the white-on-indigo-500 button 4.46:1.
THEME = gr.themes.Soft().set(
    block_title_text_color="*primary_700",
    block_label_text_color="*primary_700",
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    body_text_color_subdued="*neutral_600",
    color_accent="*primary_600",
    checkbox_label_background_fill_selected="*primary_600",
    checkbox_label_text_color_selected="white",
    block_title_text_color_dark="*primary_100",
    block_label_text_color_dark="*primary_100",
)

CSS = (
    LONE_NAVBAR_CSS
    + """
#cost-line { font-variant-numeric: tabular-nums; min-height: 3em; }
/* The Generate tab: the top (prompt, Generate, cost) and the settings on the left, the results
   beside them on a desk; top, results, settings one under the other on a phone. */
#studio { display: grid !important; gap: var(--layout-gap, 16px); align-items: start;
          grid-template-columns: minmax(0, 5fr) minmax(0, 6fr);
          grid-template-areas: "top results" "settings results" "settings record";
          grid-template-rows: auto auto 1fr; }
#studio > #studio-top { grid-area: top; }
#studio > #studio-record { grid-area: record; }
#studio > #studio-results { grid-area: results; }
#studio > #studio-settings { grid-area: settings; }
@media (max-width: 820px) {
  #studio { grid-template-columns: minmax(0, 1fr);
            grid-template-areas: "top" "results" "settings" "record"; }
  #gallery { height: 60vh !important; }
}
/* A visible focus on every control, for keyboard users. */
:is(button, input, textarea, select, a, summary, [role="option"], [role="tab"],
    [role="button"], [tabindex]):focus-visible {
  outline: 3px solid #1d4ed8 !important; outline-offset: 2px !important;
}
input[type="range"]:focus-visible { box-shadow: 0 0 0 3px #1d4ed8 !important; }
/* Labels wrap between words on a narrow screen, never inside one. */
label, [data-testid="block-info"], button { overflow-wrap: normal; word-break: normal;
                                             hyphens: manual; }
#notify-btn { max-width: 12em; }
#badge { display: inline-block; padding: 2px 10px; border-radius: 999px;
         background: #fde68a; color: #713f12; font-weight: 600; }
"""
)

NOTIFY_STORAGE = "heurist_ui_notify"
# At load: Ctrl/Cmd+Enter generates from anywhere, Escape stops; and the "done" notices. When a
# batch (or a grid) ends while the tab is in the background, the tab's title says so and, if
# the user asked for it (🔔, one click: the browser asks), a browser notification too.
PAGE_JS = f"""
() => {{
  document.addEventListener("keydown", (event) => {{
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {{
      event.preventDefault();
      document.querySelector("#generate-btn")?.click();
    }} else if (event.key === "Escape") {{
      document.querySelector("#stop-btn")?.click();
    }}
  }});
  const title = "Heurist Studio";
  const seen = new Set();
  const label = () => {{
    const button = document.querySelector("#notify-btn");
    const on = localStorage.getItem("{NOTIFY_STORAGE}") === "1";
    if (!button) return;
    button.dataset.idle ??= button.textContent;  // in the page's language (ui/words.py)
    button.textContent = on ? "🔔 Notifying when done" : button.dataset.idle;
  }};
  document.addEventListener("click", (event) => {{
    if (!event.target.closest("#notify-btn")) return;
    if (!("Notification" in window)) return;
    if (localStorage.getItem("{NOTIFY_STORAGE}") === "1") {{
      localStorage.removeItem("{NOTIFY_STORAGE}");
      label();
      return;
    }}
    Promise.resolve(Notification.requestPermission()).then((answer) => {{
      if (answer === "granted") localStorage.setItem("{NOTIFY_STORAGE}", "1");
      label();
    }});
  }});
  document.addEventListener("visibilitychange", () => {{
    if (!document.hidden) document.title = title;
  }});
  window.heuristDone = (records, noun) => {{
    const fresh = (records || []).filter((r) => r && r.job_id && !seen.has(r.job_id));
    (records || []).forEach((r) => r && r.job_id && seen.add(r.job_id));
    if (!document.hidden) return;
    const n = fresh.length;
    const done = n ? `✓ ${{n}} ${{noun}}${{n === 1 ? "" : "s"}}` : "✗ Generation failed";
    document.title = `${{done}} — ${{title}}`;
    if (localStorage.getItem("{NOTIFY_STORAGE}") === "1" && "Notification" in window &&
        Notification.permission === "granted") {{
      new Notification(title, {{ body: n ? `${{done.slice(2)}} ready` : done.slice(2) }});
    }}
  }};
  setTimeout(label, 500);
}}
"""
SHORTCUTS_JS = PAGE_JS  # the name launch.py knows
