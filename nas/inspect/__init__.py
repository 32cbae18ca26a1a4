"""Inspection of architectures and search runs: graph layout and drawing of specs, figures
(PNG/SVG) for runs, leaderboards, HTML reports. Used by the `draw`, `show`, `plot`, `report`,
`compare` and `export` verbs; never imports Ray and never trains."""
