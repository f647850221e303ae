"""The page's own CSS and its keyboard shortcuts."""

from __future__ import annotations

CSS = """
#cost-line { font-variant-numeric: tabular-nums; min-height: 3em; }
/* The Generate tab: the top (prompt, Generate, cost) and the settings on the left, the results
   beside them on a desk; top, results, settings one under the other on a phone. */
#studio { display: grid !important; gap: var(--layout-gap, 16px); align-items: start;
          grid-template-columns: minmax(0, 5fr) minmax(0, 6fr);
          grid-template-areas: "top results" "settings results"; }
#studio > #studio-top { grid-area: top; }
#studio > #studio-results { grid-area: results; }
#studio > #studio-settings { grid-area: settings; }
@media (max-width: 820px) {
  #studio { grid-template-columns: minmax(0, 1fr);
            grid-template-areas: "top" "results" "settings"; }
}
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
