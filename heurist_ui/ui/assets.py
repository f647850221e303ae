"""The page's own CSS and its keyboard shortcuts."""

from __future__ import annotations

CSS = """
#cost-line { font-variant-numeric: tabular-nums; }
#badge { display: inline-block; padding: 2px 10px; border-radius: 999px;
         background: #fde68a; color: #713f12; font-weight: 600; }
"""

# Ctrl/Cmd+Enter generates from anywhere; Escape stops.
SHORTCUTS_JS = """
() => {
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      document.querySelector("#generate-btn")?.click();
    } else if (event.key === "Escape") {
      document.querySelector("#stop-btn")?.click();
    }
  });
}
"""
